package dev.matrixpolicy.gateway.config;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginTrackedResource;
import org.springframework.boot.origin.PropertySourceOrigin;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.io.Resource;

/**
 * One configuration setting that stops startup, as the administrator who wrote it sees it.
 *
 * @param key     the key as written, absolute ({@code policy-gateway.auth.token-file}) or relative
 *                to a module entry ({@code config.cache_ttl}); {@code null} for a file that cannot be read
 * @param value   the value, or {@code null} when there is none to show
 * @param origin  where the value was written (file and line), or {@code null} when unknown
 * @param problem what is wrong
 * @param fix     what to do about it, one sentence or two
 */
record BadSetting(String key, Object value, Origin origin, String problem, String fix) {

    /**
     * Values of keys like these are left out of messages: a log is no place for a secret. A key
     * that names a file ({@code token-file}) holds a path, which is shown.
     */
    private static final Pattern SECRET = Pattern.compile("token|password|secret|credential|privatekey");
    /**
     * The value of a setting whose refusal said it may be a secret, whatever its key ({@code users.alice}
     * of a password file): it stands in for the value, so that none is looked up and shown.
     */
    static final Object NOT_SHOWN = new Object();
    /**
     * What comes between a URL's {@code scheme://} and its last {@code @}: the user and password
     * ({@code redis://:password@host}), left out of any value shown, whatever its key. A URL refused
     * for being malformed is often one whose password holds a {@code /} or {@code #}, so the URL is not
     * parsed to find them.
     */
    private static final Pattern USER_INFO = Pattern.compile("(?<=://)[^@]*@");
    /**
     * A URL up to its host and port, then its path, query or fragment: left out of the value of a key
     * that names a URL ({@code url}, {@code hashes-url}), whatever the value looks like, since a
     * webhook's URL often holds its secret there, and a URL refused is often one without its scheme,
     * or malformed. The file and line point at the rest.
     */
    private static final Pattern URL_PATH = Pattern.compile("^((?:[^:/?#]+:)?+(?://)?+[^/?#]*+)[/?#].*", Pattern.DOTALL);
    /**
     * What follows the {@code ?} of a URL in the value of any other key (an {@code endpoint}, a
     * {@code homeserver}): its query string and fragment, left out likewise, since a backend's URL may
     * carry its token there ({@code ?token=...}), and module docs promise never to log it.
     */
    private static final Pattern QUERY = Pattern.compile("(://[^?]*\\?).*", Pattern.DOTALL);

    /** The setting, with its value and origin looked up in {@code sources} where it has none yet. */
    BadSetting locatedIn(Iterable<ConfigurationPropertySource> sources) {
        return locatedIn(key, sources);
    }

    /** The same, looked up by {@code absoluteKey}: the key a setting shown relative to its module entry is written at. */
    BadSetting locatedIn(String absoluteKey, Iterable<ConfigurationPropertySource> sources) {
        // adapted, not parsed: a module's keys may be written in snake case (user_may_create_room), as in Synapse
        ConfigurationPropertyName name = absoluteKey == null || absoluteKey.isEmpty() ? null : ConfigurationPropertyName.adapt(absoluteKey, '.');
        if (name == null || origin != null) {
            return this;
        }
        for (ConfigurationPropertySource source : sources) {
            ConfigurationProperty property = source.getConfigurationProperty(name);
            if (property != null) {
                return new BadSetting(key, value != null ? value : property.getValue(), property.getOrigin(), problem, fix);
            }
        }
        return this;
    }

    /** A failure analysis of settings: the heading, each setting's lines, and the fixes. */
    static FailureAnalysis analysis(String heading, List<BadSetting> settings, Throwable cause) {
        return new FailureAnalysis(heading + ":\n\n" + describe(settings, "key"), fixes(settings), cause);
    }

    /** The setting's lines in a failure analysis, indented, with the key under {@code keyLabel}. */
    String describe(String keyLabel) {
        StringBuilder lines = new StringBuilder();
        if (key != null) {
            line(lines, keyLabel, key);
        }
        if (value != null) {
            line(lines, "value", shownValue());
        }
        if (origin != null) {
            line(lines, text(origin).isPresent() ? "file" : "from", where(origin));
        }
        line(lines, "problem", problem);
        return lines.toString();
    }

    /** The setting on one line, for an exception message: {@code config.timeout: invalid value '5 x': ...}. */
    String summary() {
        return key + ": " + (value == null || value == NOT_SHOWN ? "" : "invalid value " + shownValue() + ": ") + problem;
    }

    /** Whether the value of {@code key} may be a secret, by its name: a token, a password, but not a token file. */
    static boolean mayBeSecret(String key) {
        String last = lastName(key);
        return SECRET.matcher(last).find() && !last.endsWith("file") && !last.endsWith("path");
    }

    private String shownValue() {
        boolean secret = value == NOT_SHOWN || mayBeSecret(key);
        if (secret) {
            return "(not shown: it may be a secret)";
        }
        String shown = USER_INFO.matcher(String.valueOf(value)).replaceAll("(user and password not shown)@");
        return "'" + (namesAUrl(key) ? URL_PATH.matcher(shown).replaceFirst("$1/(path and query not shown)")
                : QUERY.matcher(shown).replaceAll("$1(query not shown)")) + "'";
    }

    /** Whether {@code key} holds a URL, by its name: {@code url}, {@code hashes-url}. */
    private static boolean namesAUrl(String key) {
        return key != null && lastName(key).endsWith("url");
    }

    /** The last name of {@code key}, lower case, without separators: {@code hashes-url} as {@code hashesurl}. */
    private static String lastName(String key) {
        return KeyNames.uniform(key.substring(key.lastIndexOf('.') + 1));
    }

    /** Every setting's lines, a blank line between settings. */
    static String describe(List<BadSetting> settings, String keyLabel) {
        return settings.stream().map(setting -> setting.describe(keyLabel)).collect(Collectors.joining("\n"));
    }

    /** Every setting's fix, one a line. */
    static String fixes(List<BadSetting> settings) {
        return settings.stream().map(BadSetting::fix).distinct().collect(Collectors.joining("\n"));
    }

    /** A file and line, {@code /etc/policy-gateway/application.yml, line 4, column 17}, or the origin's own description. */
    static String where(Origin origin) {
        return text(origin)
                .map(text -> file(text.getResource()) + ", line " + (text.getLocation().getLine() + 1)
                        + ", column " + (text.getLocation().getColumn() + 1))
                .orElseGet(origin::toString);
    }

    /** The file and line behind an origin, if it has them; a property source may wrap them in its own origin. */
    static Optional<TextResourceOrigin> text(Origin origin) {
        if (origin instanceof TextResourceOrigin text && text.getLocation() != null) {
            return Optional.of(text);
        }
        return origin instanceof PropertySourceOrigin wrapper && wrapper.getOrigin() != null
                ? text(wrapper.getOrigin()) : Optional.empty();
    }

    /** A file's path, or the description of a resource that is no file (the packaged {@code application.yml}, say). */
    static String file(Resource resource) {
        Resource underlying = resource instanceof OriginTrackedResource tracked ? tracked.getResource() : resource;
        if (underlying == null) {
            return "an unknown file";
        }
        try {
            if (underlying.isFile()) {
                return underlying.getFile().getPath();
            }
        } catch (IOException notAFile) {
            // described below
        }
        return underlying.getDescription();
    }

    private static void line(StringBuilder lines, String label, Object text) {
        lines.append("    ").append(label).append(": ").append(text).append('\n');
    }
}
