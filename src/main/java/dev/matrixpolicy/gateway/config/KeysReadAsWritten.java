package dev.matrixpolicy.gateway.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginLookup;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.Resource;

/**
 * A key in a configuration file must be bound as it is written. Outside {@code [brackets]}, Spring
 * Boot keeps only letters, digits, {@code -} and {@code _} of a key's part and drops the rest
 * without a word, and a part left with nothing drops out of the key: a password file's inline user
 * {@code alice+work} becomes {@code alicework}, an account nobody set up that then logs in, and
 * {@code café} becomes {@code caf}. The same holds for every map keyed by the administrator's own
 * names (users, rooms, servers, event types). Such a key stops startup, and a reload, naming the key,
 * the file and line, what Boot would read, and the bracketed spelling that keeps it. So do two keys of
 * one file that Boot reads as one setting ({@code maxBodySize} beside {@code max-body-size}, the users
 * {@code Alice} and {@code alice}): it would read one value for both and drop the other.
 *
 * <p>A part Boot keeps, whatever its case or separator ({@code cacheTtl}, {@code cache_ttl}), and a
 * bracketed one ({@code "[alice+work]"}, {@code [com.example.key]}) pass: relaxed binding gives them
 * meaning, not a different name.
 */
final class KeysReadAsWritten {
    private KeysReadAsWritten() {
    }

    /** {@code read}, what {@code resource} gave, if Boot binds each of its keys as written. */
    static List<PropertySource<?>> of(Resource resource, List<PropertySource<?>> read) {
        for (PropertySource<?> source : read) {
            if (source instanceof EnumerablePropertySource<?> settings) {
                Map<ConfigurationPropertyName, String> written = new HashMap<>();
                for (String key : settings.getPropertyNames()) {
                    ConfigurationPropertyName name = ConfigurationPropertyName.adapt(Objects.requireNonNullElse(key, ""), '.');
                    Part changed = changedPart(key, name);
                    if (changed != null) {
                        throw changed(resource, settings, key, changed);
                    }
                    String first = name.isEmpty() ? null : written.putIfAbsent(name, key);
                    if (first != null) {
                        throw sameSetting(resource, first, OriginLookup.getOrigin(settings, first), key,
                                OriginLookup.getOrigin(settings, key));
                    }
                }
            }
        }
        return read;
    }

    /**
     * The part of {@code key} that binding would change, or {@code null} when it binds as written:
     * an unbracketed part Boot does not keep, or a bracketed one when Boot splits the key otherwise
     * than its brackets read (a '[' never closed). An empty key is Boot's reading of {@code {}},
     * {@link SettingsRequired}'s to judge.
     *
     * @param read the key as Boot reads it, {@code ConfigurationPropertyName.adapt(key, '.')}, which the
     *             caller has at hand: adapted once, not once here and once more there
     */
    static Part changedPart(String key, ConfigurationPropertyName read) {
        if (key == null || key.isEmpty()) {
            return null;
        }
        List<Part> written = Part.of(key);
        boolean same = written.size() == read.getNumberOfElements();
        for (int i = 0; same && i < written.size(); i++) {
            same = written.get(i).text().equals(read.getElement(i, Form.ORIGINAL));
        }
        if (same) {
            return null;
        }
        return written.stream().filter(part -> !part.bracketed() && !keptAlone(part.text())).findFirst()
                .orElseGet(() -> written.stream().filter(Part::bracketed).findFirst().orElse(new Part(key, true)));
    }

    /** Whether Boot keeps this unbracketed part of a key as it is. */
    private static boolean keptAlone(String part) {
        ConfigurationPropertyName read = ConfigurationPropertyName.adapt(part, '.');
        return read.getNumberOfElements() == 1 && part.equals(read.getElement(0, Form.ORIGINAL));
    }

    private static InvalidConfigurationException changed(Resource resource, EnumerablePropertySource<?> source, String key,
            Part changed) {
        Origin origin = Objects.requireNonNullElseGet(OriginLookup.getOrigin(source, key), () -> new TextResourceOrigin(resource, null));
        String part = changed.text();
        ConfigurationPropertyName read = ConfigurationPropertyName.adapt(part, '.');
        String problem = changed.bracketed() ? "Spring Boot would split it otherwise than its brackets read"
                : part.isEmpty() ? "its part '' (between two dots, or after a dot at its end) would be dropped from it"
                : read.getNumberOfElements() == 0 ? "its part '" + part + "' would be dropped from it"
                : "its part '" + part + "' would be read as '" + joined(read) + "'";
        String bracketed = yaml(resource) ? " in quotes and brackets, \"[" + part + "]\":," : " in brackets, [" + part + "],";
        String fix = changed.bracketed() ? "Close every '[' of the key with a ']', around a whole part of the key."
                : part.isEmpty() ? "Remove the empty part, or write the name it stands for."
                : "If '" + part + "' is a name of your own (a user, room, server or event type), write it" + bracketed
                        + " and it is kept as written. If it names a setting, correct its spelling.";
        return new InvalidConfigurationException("Configuration key that would not be read as written", new BadSetting(key, null,
                origin, problem + ": outside [brackets], Spring Boot keeps only ASCII letters, digits, '-' and '_' of a key", fix),
                null);
    }

    /**
     * Two keys of one file that Boot reads as one setting ({@code max-body-size} and {@code maxBodySize},
     * users {@code carol-smith} and {@code carolsmith}, or one key written both dotted and nested): it
     * binds one value to both and drops the other.
     *
     * @param first       the key written first, and where ({@code null} when unknown)
     * @param key         the key written again, and where
     */
    static InvalidConfigurationException sameSetting(Resource resource, String first, Origin firstOrigin, String key, Origin origin) {
        String firstAt = Optional.ofNullable(firstOrigin).flatMap(BadSetting::text)
                .map(text -> " (line " + (text.getLocation().getLine() + 1) + ")").orElse("");
        String bracketed = yaml(resource) ? "in quotes and brackets (\"[Alice]\":)" : "in brackets (users[Alice]=)";
        String how = first.equals(key) ? ", written a second time (once as a dotted key, once nested)"
                : ", which differs only in case, '-' or '_', or in brackets";
        return new InvalidConfigurationException("Configuration key that would not be read as written", new BadSetting(key, null,
                Objects.requireNonNullElseGet(origin, () -> new TextResourceOrigin(resource, null)),
                "Spring Boot reads it as the same setting as '" + first + "'" + firstAt + how
                        + ": one value would be read for both and the other dropped",
                "Keep one of the two. If they are names of your own (users, rooms, servers, event types), write each of them "
                        + bracketed + ", and each is kept as written."), null);
    }

    private static boolean yaml(Resource resource) {
        return !Objects.requireNonNullElse(resource.getFilename(), "").endsWith(".properties");
    }

    private static String joined(ConfigurationPropertyName name) {
        List<String> elements = new ArrayList<>();
        for (int i = 0; i < name.getNumberOfElements(); i++) {
            elements.add(name.getElement(i, Form.ORIGINAL));
        }
        return String.join(".", elements);
    }

    /** A part of a key as written: between dots, or inside brackets. */
    record Part(String text, boolean bracketed) {

        static List<Part> of(String key) {
            List<Part> parts = new ArrayList<>();
            int i = 0;
            while (i <= key.length()) {
                if (i < key.length() && key.charAt(i) == '[') {
                    int close = closing(key, i);
                    if (close < 0) {
                        parts.add(new Part(key.substring(i), true)); // never closed: Boot reads it otherwise, and the key is shown whole
                        return parts;
                    }
                    parts.add(new Part(key.substring(i + 1, close), true));
                    i = close + 1;
                    if (i < key.length() && key.charAt(i) == '.') {
                        i++;
                    } else if (i == key.length()) {
                        return parts;
                    }
                } else {
                    int end = i;
                    while (end < key.length() && key.charAt(end) != '.' && key.charAt(end) != '[') {
                        end++;
                    }
                    parts.add(new Part(key.substring(i, end), false));
                    i = end < key.length() && key.charAt(end) == '.' ? end + 1 : end;
                    if (end == key.length()) {
                        return parts;
                    }
                }
            }
            return parts;
        }

        /** The index of the ']' closing the '[' at {@code open}, brackets inside it counted, or -1. */
        private static int closing(String key, int open) {
            int depth = 0;
            for (int i = open; i < key.length(); i++) {
                depth += key.charAt(i) == '[' ? 1 : key.charAt(i) == ']' ? -1 : 0;
                if (depth == 0) {
                    return i;
                }
            }
            return -1;
        }
    }
}
