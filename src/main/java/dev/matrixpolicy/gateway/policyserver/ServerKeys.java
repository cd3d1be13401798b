package dev.matrixpolicy.gateway.policyserver;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Other servers' public keys, fetched from the server itself with {@code GET /_matrix/key/v2/server}
 * (spec, "Retrieving server keys") and cached until they expire.
 *
 * <p>A response counts only when its {@code server_name} is the server asked for and it is signed by
 * one of the {@code verify_keys} it lists for that server; as in Synapse 1.67's {@code
 * process_v2_response}, the first of its signatures by a listed key must verify. A key in {@code
 * verify_keys} is then valid until the lesser of {@code valid_until_ts} and seven days after the
 * fetch (the spec's cap; Synapse 1.67 does not cap), a key in {@code old_verify_keys} until its
 * {@code expired_ts}. A key missing from the cache, or expiring before the time asked for, makes one
 * new fetch. The cache holds at most {@link Settings#maxServers} servers, least recently used first out.
 *
 * <p>Where a server is reached: a base URL configured for its name (private federations, tests);
 * otherwise the spec's "Resolving server names" without SRV (the JDK has no SRV resolver): an IP
 * literal or an explicit port is used as is, else {@code /.well-known/matrix/server} may delegate
 * (the delegated name again by IP literal or explicit port, else port 8448), else port 8448. TLS
 * certificates are verified, except for server names listed in {@link Settings#selfSigned}.
 *
 * <p>Not done yet: notaries ({@code POST /_matrix/key/v2/query}, Synapse's {@code
 * trusted_key_servers}), caching the well-known answer, and back-off after a failed fetch.
 */
public final class ServerKeys implements KeyLookup {
    static final Duration MAX_VALIDITY = Duration.ofDays(7);
    static final String KEYS_PATH = "/_matrix/key/v2/server";
    private static final int DEFAULT_PORT = 8448;
    private static final int MAX_RESPONSE_BYTES = 64 * 1024;
    private static final Pattern HOST_AND_PORT = Pattern.compile("(\\[[^]]+]|[^:]+)(?::([0-9]{1,5}))?");
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

    /**
     * @param addresses  base URLs by server name ({@code https://keys.internal:8448}), tried instead of resolution
     * @param selfSigned server names whose TLS certificate is not checked (a test federation's self-signed ones)
     * @param maxServers how many servers' keys the cache holds
     * @param timeout    for connecting and for each answer
     */
    public record Settings(Map<String, URI> addresses, Set<String> selfSigned, int maxServers, Duration timeout) {
        public Settings {
            addresses = Map.copyOf(addresses);
            selfSigned = Set.copyOf(selfSigned);
            if (maxServers < 1) {
                throw new IllegalArgumentException("maxServers must be at least 1");
            }
        }
    }

    private record CachedKey(byte[] key, long validUntilTs) {
    }

    private final Settings settings;
    private final InstantSource clock;
    private final HttpClient verifying;
    private final HttpClient trustingAnyCertificate;
    private final Map<String, Map<String, CachedKey>> cache;

    public ServerKeys(Settings settings, InstantSource clock) {
        this.settings = settings;
        this.clock = clock;
        this.verifying = client(settings.timeout(), null);
        this.trustingAnyCertificate = client(settings.timeout(), trustingAnyCertificate());
        this.cache = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Map<String, CachedKey>> eldest) {
                return size() > settings.maxServers();
            }
        };
    }

    @Override
    public Optional<byte[]> verifyKey(String serverName, String keyId, long minimumValidUntilTs) {
        Optional<byte[]> cached = cached(serverName, keyId, minimumValidUntilTs);
        if (cached.isPresent()) {
            return cached;
        }
        Map<String, CachedKey> fetched = fetch(serverName);
        synchronized (cache) {
            cache.put(serverName, fetched);
        }
        return cached(serverName, keyId, minimumValidUntilTs);
    }

    private Optional<byte[]> cached(String serverName, String keyId, long minimumValidUntilTs) {
        synchronized (cache) {
            return Optional.ofNullable(cache.get(serverName)).map(keys -> keys.get(keyId))
                    .filter(key -> key.validUntilTs() >= minimumValidUntilTs).map(key -> key.key().clone());
        }
    }

    private Map<String, CachedKey> fetch(String serverName) {
        long now = clock.millis();
        URI base = Optional.ofNullable(settings.addresses().get(serverName))
                .orElseGet(() -> resolve(serverName, this::wellKnown));
        JsonNode response;
        try {
            response = getJson(serverName, base.resolve(KEYS_PATH));
        } catch (IOException | JacksonException e) {
            throw new UnauthorizedException("Could not fetch the keys of " + serverName + ": " + e.getMessage(), e);
        }
        return parseKeys(serverName, response, now);
    }

    /** The keys a verified {@code /_matrix/key/v2/server} answer lists, with their validity. */
    static Map<String, CachedKey> parseKeys(String serverName, JsonNode response, long fetchedAt) {
        if (!serverName.equals(response.path("server_name").asString(null))) {
            throw new UnauthorizedException("Key response for " + serverName + " names server "
                    + response.path("server_name"));
        }
        long validUntil = Math.min(response.path("valid_until_ts").asLong(0), fetchedAt + MAX_VALIDITY.toMillis());
        Map<String, CachedKey> keys = new HashMap<>();
        try {
            response.path("verify_keys").properties().forEach(entry ->
                    keys.put(entry.getKey(), new CachedKey(Ed25519.decodeKey(entry.getValue().path("key").asString()), validUntil)));
            String signedBy = response.path("signatures").path(serverName).propertyNames().stream()
                    .filter(keys::containsKey).findFirst()
                    .orElseThrow(() -> new UnauthorizedException("Key response for " + serverName
                            + " is not signed by a key it lists"));
            if (!Ed25519.verifyJson(response, serverName, signedBy, keys.get(signedBy).key())) {
                throw new UnauthorizedException("Key response for " + serverName + " has a bad signature by " + signedBy);
            }
            response.path("old_verify_keys").properties().forEach(entry ->
                    keys.put(entry.getKey(), new CachedKey(Ed25519.decodeKey(entry.getValue().path("key").asString()),
                            entry.getValue().path("expired_ts").asLong(0))));
        } catch (IllegalArgumentException | JacksonException malformed) {
            throw new UnauthorizedException("Malformed key response for " + serverName + ": " + malformed.getMessage(), malformed);
        }
        keys.keySet().removeIf(keyId -> !keyId.startsWith("ed25519:"));
        return keys;
    }

    /**
     * The spec's server name resolution without SRV: the base URL of {@code serverName}'s federation
     * API, asking {@code wellKnown} (host name → delegated server name) only when the name is neither
     * an IP literal nor has a port.
     */
    static URI resolve(String serverName, Function<String, Optional<String>> wellKnown) {
        Matcher name = hostAndPort(serverName);
        if (isIpLiteral(name.group(1)) || name.group(2) != null) {
            return base(name);
        }
        return wellKnown.apply(name.group(1)).map(ServerKeys::hostAndPort).map(ServerKeys::base)
                .orElseGet(() -> base(name));
    }

    private static Matcher hostAndPort(String serverName) {
        Matcher matcher = HOST_AND_PORT.matcher(serverName);
        if (!matcher.matches()) {
            throw new UnauthorizedException("Not a server name: " + serverName);
        }
        return matcher;
    }

    private static boolean isIpLiteral(String host) {
        return host.startsWith("[") || IPV4.matcher(host).matches();
    }

    private static URI base(Matcher hostAndPort) {
        int port = hostAndPort.group(2) == null ? DEFAULT_PORT : Integer.parseInt(hostAndPort.group(2));
        return URI.create("https://" + hostAndPort.group(1) + ":" + port);
    }

    /** The {@code m.server} of {@code https://<host>/.well-known/matrix/server}, if any answers. */
    private Optional<String> wellKnown(String host) {
        try {
            return Optional.ofNullable(getJson(host, URI.create("https://" + host + "/.well-known/matrix/server"))
                    .path("m.server").asString(null)).filter(delegated -> HOST_AND_PORT.matcher(delegated).matches());
        } catch (IOException | JacksonException | IllegalArgumentException | UnauthorizedException noDelegation) {
            return Optional.empty();
        }
    }

    private JsonNode getJson(String serverName, URI uri) throws IOException {
        HttpClient client = settings.selfSigned().contains(serverName) ? trustingAnyCertificate : verifying;
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(settings.timeout()).GET().build();
        try {
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                byte[] bytes = body.readNBytes(MAX_RESPONSE_BYTES + 1);
                if (response.statusCode() != 200) {
                    throw new IOException(uri + " answered " + response.statusCode());
                }
                if (bytes.length > MAX_RESPONSE_BYTES) {
                    throw new IOException(uri + " answered more than " + MAX_RESPONSE_BYTES + " bytes");
                }
                return Json.MAPPER.readTree(bytes);
            }
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while asking " + uri, interrupted);
        }
    }

    private static HttpClient client(Duration timeout, SSLContext tls) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL);
        return (tls == null ? builder : builder.sslContext(tls)).build();
    }

    /**
     * TLS that takes any certificate and, being an {@link X509ExtendedTrustManager}, skips the host
     * name check too: for the server names configured as self-signed only.
     */
    private static SSLContext trustingAnyCertificate() {
        X509ExtendedTrustManager anyCertificate = new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {anyCertificate}, null);
            return context;
        } catch (GeneralSecurityException impossible) {
            throw new IllegalStateException("The JDK has no TLS", impossible);
        }
    }
}
