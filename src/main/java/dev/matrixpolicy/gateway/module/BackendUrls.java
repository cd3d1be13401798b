package dev.matrixpolicy.gateway.module;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one rule for a configured backend URL: absolute {@code http} or {@code https} with a host, a
 * port (if any) from 1 to 65535, no {@code user:password@} (the JDK client would silently drop it, so
 * the backend would see no credentials) and no {@code #fragment} (never sent). Messages never quote
 * the URL: webhook and backend URLs often carry a secret.
 */
public final class BackendUrls {
    /** An authority whose port is past what an int holds (java.net.URI then sees no host); its digits. */
    private static final Pattern PORT_PAST_AN_INT = Pattern.compile("[^:@]+:0*([1-9][0-9]{9,})");

    private BackendUrls() {
    }

    /**
     * @param field the config key, for the startup error, e.g. {@code url}
     * @throws ModuleConfigurationException when the text is not a URL or breaks the rule
     */
    public static URI parse(String field, String configured) {
        try {
            return require(field, new URI(configured.strip()));
        } catch (URISyntaxException malformed) {
            throw new ModuleConfigurationException(field, "not a valid URL: " + malformed.getReason());
        }
    }

    /**
     * A backend URL as logs and configuration dumps show it: its scheme, host and port only, since its
     * path, query and user info may hold a secret (a webhook's key, an API key). {@code none} for none.
     */
    public static String origin(URI url) {
        return url == null ? "none" : url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort());
    }

    /** @throws ModuleConfigurationException when the URL breaks the rule */
    public static URI require(String field, URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ModuleConfigurationException(field, "must be an absolute http or https URL, got "
                    + (scheme.isEmpty() ? "no scheme" : "scheme '" + scheme + "'"));
        }
        if (url.getHost() == null) {
            // java.net.URI reads an authority that is not a host name (threepid_backend:8080), or whose port
            // does not fit an int (svc:99999999999), as no host at all
            String authority = url.getRawAuthority();
            Matcher port = authority == null ? null : PORT_PAST_AN_INT.matcher(authority);
            throw new ModuleConfigurationException(field, authority == null ? "has no host name"
                    : port.matches() ? "has a port of " + port.group(1).length() + " digits, but a port is 1 to 65535"
                    : "has no host name the HTTP client can use: letters, digits, '-' and '.' only (a Docker service name "
                    + "with '_' is not one)");
        }
        // java.net.URI takes any digits; the client would refuse them on every request, not at startup
        if (url.getPort() == 0 || url.getPort() > 65535) {
            throw new ModuleConfigurationException(field, "has port " + url.getPort() + ", but a port is 1 to 65535");
        }
        if (url.getRawUserInfo() != null) {
            throw new ModuleConfigurationException(field, "credentials in the URL (user:password@) are never sent; use a token");
        }
        if (url.getRawFragment() != null) {
            throw new ModuleConfigurationException(field, "must not have a #fragment: it is never sent to the server");
        }
        return url;
    }

    /**
     * The URL of one endpoint under a configured base URL: {@code path} added to the base's path,
     * with the base's query string (an API key, say) kept after it, where a server reads it.
     * {@code https://svc/v1?key=k} and {@code spam_checker/user_may_invite} give
     * {@code https://svc/v1/spam_checker/user_may_invite?key=k}; a trailing {@code /} of the base's
     * path is not doubled.
     *
     * @param base a URL that follows the rule ({@link #require})
     * @param path a relative path, already encoded, e.g. {@code spam_checker/user_may_invite}
     */
    public static URI endpoint(URI base, String path) {
        String basePath = base.getRawPath() == null ? "" : base.getRawPath();
        if (basePath.endsWith("/")) {
            basePath = basePath.substring(0, basePath.length() - 1);
        }
        return URI.create(base.getScheme() + "://" + base.getRawAuthority() + basePath + "/" + path
                + (base.getRawQuery() == null ? "" : "?" + base.getRawQuery()));
    }
}
