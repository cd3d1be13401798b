package dev.matrixpolicy.gateway.policyserver;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code Authorization: X-Matrix origin=…,destination=…,key="ed25519:…",sig="…"} header (spec,
 * server-server API, "Request Authentication").
 *
 * <p>Parsed as Synapse 1.67's {@code _parse_auth_header} does, where it and the spec's grammar
 * differ: the parameters are whatever follows the first run of spaces, split on every comma (a comma
 * inside a quoted value is not supported, as in Synapse); parameter names are case-insensitive; a
 * value starting with {@code "} loses its first and last character and has backslash escapes undone;
 * unknown parameters are ignored, and {@code destination} may be absent (older servers). A parameter
 * without {@code =}, a missing {@code origin}, {@code key} or {@code sig}, an origin that is not a
 * server name or a key that is not a key ID is a {@link UnauthorizedException} (401 {@code M_UNAUTHORIZED}).
 */
record XMatrix(String origin, Optional<String> destination, String keyId, String signature) {
    /** The scheme, matched case-sensitively at the start of the header as Synapse does. */
    public static final String SCHEME = "X-Matrix";

    /** The spec's server name grammar: a DNS name or IPv4 literal, or a bracketed IPv6 literal, and an optional port. */
    private static final Pattern SERVER_NAME =
            Pattern.compile("(\\[[0-9A-Fa-f:.]{2,45}]|[0-9A-Za-z.-]{1,255})(:[0-9]{1,5})?");
    private static final Pattern ESCAPE = Pattern.compile("\\\\(.)");
    /**
     * The spec's key ID: an algorithm and a version, each of letters, digits and {@code _}. Anything
     * else names no key a homeserver publishes, and would only be echoed back in the refusal.
     */
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_]{1,64}:[A-Za-z0-9_]{1,190}");

    /** Whether {@code header} is an {@code X-Matrix} one (others, a bearer token say, are not ours to judge). */
    public static boolean isXMatrix(String header) {
        return header.startsWith(SCHEME);
    }

    /**
     * Parses one header value.
     *
     * @throws UnauthorizedException when it is not a well-formed {@code X-Matrix} header
     */
    public static XMatrix parse(String header) {
        String[] schemeAndParams = header.strip().split(" +", 2);
        if (!schemeAndParams[0].equals(SCHEME) || schemeAndParams.length < 2) {
            throw new UnauthorizedException("Not an X-Matrix Authorization header");
        }
        Map<String, String> params = new HashMap<>();
        for (String param : schemeAndParams[1].split(",")) {
            int equals = param.indexOf('=');
            if (equals < 0) {
                throw new UnauthorizedException("Malformed X-Matrix parameter without a value");
            }
            // the grammar allows white space around the commas, as Synapse's parser does
            params.put(param.substring(0, equals).strip().toLowerCase(Locale.ROOT), unquote(param.substring(equals + 1).strip()));
        }
        String origin = required(params, "origin");
        if (!SERVER_NAME.matcher(origin).matches()) {
            throw new UnauthorizedException("X-Matrix origin is not a server name");
        }
        String keyId = required(params, "key");
        if (!KEY_ID.matcher(keyId).matches()) {
            throw new UnauthorizedException("X-Matrix key is not a key ID (algorithm:version, of letters, digits and _)");
        }
        return new XMatrix(origin, Optional.ofNullable(params.get("destination")), keyId, required(params, "sig"));
    }

    private static String required(Map<String, String> params, String name) {
        String value = params.get(name);
        if (value == null || value.isEmpty()) {
            throw new UnauthorizedException("X-Matrix header has no " + name);
        }
        return value;
    }

    private static String unquote(String value) {
        if (!value.startsWith("\"")) {
            return value;
        }
        if (value.length() < 2 || !value.endsWith("\"")) {
            throw new UnauthorizedException("Unterminated quoted X-Matrix value");
        }
        return ESCAPE.matcher(value.substring(1, value.length() - 1)).replaceAll(match -> Matcher.quoteReplacement(match.group(1)));
    }

    /** The header a sending server writes (values quoted where they may hold a colon). */
    public String toHeader() {
        return SCHEME + " origin=\"" + origin + "\"," + destination.map(d -> "destination=\"" + d + "\",").orElse("")
                + "key=\"" + keyId + "\",sig=\"" + signature + "\"";
    }
}
