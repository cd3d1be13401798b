package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import dev.matrixpolicy.gateway.policyserver.IpRanges;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.policyserver.Redaction;
import dev.matrixpolicy.gateway.state.Bucket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Everything under {@code policy-gateway}, bound and validated once at startup. An unknown key
 * stops startup ({@link UnknownKeyCheck}, added by {@link GatewayConfiguration}): a misspelt key
 * would otherwise leave its setting at the default without a word.
 *
 * @param serverName  the homeserver this gateway serves, as in Synapse's {@code server_name}
 * @param auth        how callers authenticate
 * @param admin       how admins authenticate on the management port
 * @param decisionLog the in-memory log of recent refusals and failures
 * @param defaults    failure handling for modules that do not set their own
 * @param maxBodySize the largest request body accepted; larger ones get 413 M_TOO_LARGE
 * @param modules     the module list, in chain order, like Synapse's {@code modules:}
 * @param reload      how changed configuration files are noticed; read at startup only
 * @param policyServer being a room's policy server (MSC4284) on a federation-facing port of its own
 * @param state       where limits keep their counters: in memory, or in Redis shared by every replica
 */
@Validated
@ConfigurationProperties("policy-gateway")
public record PolicyGatewayProperties(
        @NotBlank String serverName,
        @Valid @DefaultValue Auth auth,
        @Valid @DefaultValue Admin admin,
        @Valid @DefaultValue DecisionLog decisionLog,
        @Valid @DefaultValue Defaults defaults,
        @DefaultValue("1MB") DataSize maxBodySize,
        @DefaultValue List<@Valid ModuleEntry> modules,
        @Valid @DefaultValue Reload reload,
        @Valid @DefaultValue PolicyServer policyServer,
        @Valid @DefaultValue State state) {

    public PolicyGatewayProperties {
        if (serverName != null && !serverName.isBlank() && !MatrixIds.isServerName(serverName)) {
            throw new InvalidSettingException("server-name", "not a valid Matrix server name (hostname[:port])");
        }
        if (maxBodySize.toBytes() <= 0) {
            throw new InvalidSettingException("max-body-size", "must be positive");
        }
        modules = List.copyOf(modules);
    }

    /**
     * The shared bearer token, compared in constant time. Without a token the gateway answers
     * loopback callers only.
     *
     * @param token     the token itself
     * @param tokenFile a file holding the token (a mounted Kubernetes Secret, say); surrounding
     *                  white space is ignored. Each line holds a token, and callers may present any
     *                  of them: a token is rotated by adding the new one, moving the callers over,
     *                  then removing the old one
     */
    public record Auth(String token, Path tokenFile) {
        static final String PREFIX = "policy-gateway.auth";

        public Auth {
            TokenSetting.requireAtMostOne(token, tokenFile);
        }

        /**
         * The token callers must present: the token file's content when there is one, else
         * {@code token}; empty when neither holds one. Read by the API once, at startup. A token
         * file that does not exist, cannot be read or is empty stops startup with one message.
         */
        public Optional<String> sharedToken() {
            return TokenSetting.read(PREFIX, token, tokenFile, "the shared token (the one the homeserver's module sends)");
        }
    }

    /**
     * The token of the management port's admin endpoints ({@code reload}, {@code explain},
     * {@code decisions}, {@code sources}) and the console; distinct from the homeserver's. Without one they answer
     * loopback callers only.
     *
     * @param token     the token itself
     * @param tokenFile a file holding the token; surrounding white space is ignored
     */
    public record Admin(String token, Path tokenFile) {
        static final String PREFIX = "policy-gateway.admin";

        public Admin {
            TokenSetting.requireAtMostOne(token, tokenFile);
        }
    }

    /**
     * The admin token, read once at startup like {@link Auth#sharedToken()}. One equal to the
     * homeserver's token stops startup: whoever holds the homeserver's token would be an admin.
     */
    public Optional<String> adminToken() {
        Optional<String> adminToken = TokenSetting.read(Admin.PREFIX, admin.token(), admin.tokenFile(), "the admin token");
        List<String> shared = auth.sharedToken().map(TokenSetting::lines).orElse(List.of());
        if (adminToken.map(TokenSetting::lines).orElse(List.of()).stream().anyMatch(shared::contains)) {
            String key = Admin.PREFIX + (admin.tokenFile() == null ? ".token" : ".token-file");
            throw new InvalidConfigurationException("Invalid configuration", new BadSetting(key, null, null,
                    "the admin token equals the homeserver's token (" + Auth.PREFIX + ".token or token-file)",
                    "Give " + Admin.PREFIX + " a token of its own: whoever holds the homeserver's token must not be an admin."),
                    null);
        }
        return adminToken;
    }

    /**
     * What a request holds of the heap from its first bytes to its answer, beside its two header buffers,
     * which Tomcat allocates whole ({@code server.max-http-request-header-size} and
     * {@code server.tomcat.max-http-response-header-size}, 8 KiB each by default): its connection's
     * socket buffers, the input buffer's room for a read, the request and answer objects. Measured at
     * about 55 KiB in all with the default sizes; rounded up, so that the defaults come to 64 KiB.
     */
    private static final long REQUEST_BYTES_BESIDE_HEADERS = 48 * 1024;

    /**
     * How many requests in progress {@code bytes} of heap hold at {@link #REQUEST_BYTES_BESIDE_HEADERS}
     * and their header buffers each, at least 64: a listener's default bound of them.
     *
     * @param headerBufferBytes the listener's request and answer header sizes together
     */
    public static int requestsHeldIn(long bytes, long headerBufferBytes) {
        return (int) Math.max(64, bytes / (REQUEST_BYTES_BESIDE_HEADERS + headerBufferBytes));
    }

    /** The tokens a token setting's text holds, one a line: what callers may present. */
    public static List<String> tokens(String configured) {
        return TokenSetting.lines(configured);
    }

    /**
     * The decision log: the most recent refusals and failures, kept in memory for
     * {@code /actuator/decisions} and the console.
     *
     * @param capacity how many it keeps; the oldest make way for new ones
     */
    public record DecisionLog(@DefaultValue("2000") int capacity) {
        static final int MAX_CAPACITY = 1_000_000;

        public DecisionLog {
            if (capacity < 1 || capacity > MAX_CAPACITY) {
                throw new InvalidSettingException("capacity", "must be between 1 and " + MAX_CAPACITY);
            }
        }
    }

    /**
     * @param onFailure what a chain does when a module throws or times out; Synapse fails the
     *                  operation, so the default is {@code fail-closed}
     * @param timeout   how long a module that may block can take per call
     */
    public record Defaults(@DefaultValue("fail-closed") @NotNull FailurePolicy onFailure,
                           @DefaultValue("5s") @NotNull Duration timeout) {
        public Defaults {
            requirePositive("timeout", timeout);
        }
    }

    /**
     * The configuration files the settings were read from, and the token file, are checked every
     * {@code check-interval} by their content (following symbolic links, so a Kubernetes ConfigMap
     * update, which swaps a link, is seen) and applied when they change. {@code POST /actuator/reload}
     * applies them at once, whatever these say.
     *
     * @param watch         whether the files are checked at all
     * @param checkInterval how often; at least {@link #LEAST_CHECK_INTERVAL}, as a policy list's file source: each
     *                      check reads every file whole, and one more often costs CPU and disk for nothing
     */
    public record Reload(@DefaultValue("true") boolean watch, @DefaultValue("1s") @NotNull Duration checkInterval) {
        private static final Duration LEAST_CHECK_INTERVAL = Duration.ofMillis(100);

        public Reload {
            if (checkInterval != null && checkInterval.compareTo(LEAST_CHECK_INTERVAL) < 0) {
                throw new InvalidSettingException("check-interval", "must be at least 100ms: each check reads every"
                        + " configuration file whole, so checking more often costs CPU for nothing");
            }
        }
    }

    /**
     * Being the policy server (MSC4284, spec v1.18) of the rooms listed: homeservers ask it to sign
     * each new event of those rooms on a federation-facing listener of its own, and it signs what the
     * {@code check_event_for_spam} chain allows. Only {@code rooms} and {@code rate-limit} are applied by
     * a reload; the rest is read at startup.
     *
     * @param enabled            whether the listener runs at all
     * @param name               the policy server's server name: the {@code via} of the rooms'
     *                           {@code m.room.policy} events, and the destination homeservers sign their requests for
     * @param port               the listener's port
     * @param address            the address it binds; every interface by default
     * @param keyFile            the policy server's own signing key (never the homeserver's), written by
     *                           {@code GeneratePolicyServerKey}
     * @param rooms              the rooms served; events of any other room get 404 {@code M_NOT_FOUND}
     * @param servers            how to reach given homeservers for their signing keys, instead of the
     *                           spec's server-name resolution (private federations, tests)
     * @param notaries           key servers asked when a homeserver cannot be reached itself, as Synapse's
     *                           {@code trusted_key_servers}
     * @param signatureCacheSize how many events' answers (signature or refusal) are kept, by event ID
     * @param keyCacheServers    how many homeservers' keys are kept
     * @param keyFetchTimeout    for connecting to a homeserver or notary and for each answer; a whole fetch
     *                           ends after twice it
     * @param ipRangeBlocklist   addresses a key fetch never connects to when it found them by resolving a name
     *                           that a request gave (every host but the {@code servers} addresses), in CIDR
     *                           notation; left out, Synapse's default {@code federation_ip_range_blocklist}
     *                           ({@link IpRanges#SYNAPSE_BLOCKLIST}); {@code 0.0.0.0} and {@code ::} always
     * @param ipRangeAllowlist   exceptions to {@code ip-range-blocklist}, in CIDR notation
     * @param rateLimit          how many events each asking homeserver may have judged, once its request
     *                           signature is verified: the answers remembered aside
     * @param maxConnections     how many connections the listener holds at once, idle ones included
     * @param maxRequestsInProgress how many of them may have a request being read or answered at once; left
     *                           out, each is what the heap holds ({@link #listenerLimits(long)})
     */
    public record PolicyServer(@DefaultValue("false") boolean enabled, String name, @DefaultValue("8448") int port,
                               InetAddress address, Path keyFile, @DefaultValue List<@Valid Room> rooms,
                               @DefaultValue List<@Valid KnownServer> servers, @DefaultValue List<@Valid Notary> notaries,
                               @DefaultValue("100000") int signatureCacheSize, @DefaultValue("10000") int keyCacheServers,
                               @DefaultValue("10s") @NotNull Duration keyFetchTimeout, List<String> ipRangeBlocklist,
                               @DefaultValue List<String> ipRangeAllowlist, @DefaultValue RateLimit rateLimit,
                               Integer maxConnections, Integer maxRequestsInProgress) {
        public PolicyServer {
            rooms = List.copyOf(rooms);
            servers = List.copyOf(servers);
            notaries = List.copyOf(notaries);
            ipRangeBlocklist = ipRangeBlocklist == null ? IpRanges.SYNAPSE_BLOCKLIST : ipRanges("ip-range-blocklist", ipRangeBlocklist);
            ipRangeAllowlist = ipRanges("ip-range-allowlist", ipRangeAllowlist);
            if (name != null && !MatrixIds.isServerName(name)) {
                throw new InvalidSettingException("name", "not a valid Matrix server name (hostname[:port])");
            }
            if (port < 0 || port > 65535) {
                throw new InvalidSettingException("port", "must be between 0 and 65535");
            }
            if (signatureCacheSize < 1) {
                throw new InvalidSettingException("signature-cache-size", "must be at least 1");
            }
            if (keyCacheServers < 1) {
                throw new InvalidSettingException("key-cache-servers", "must be at least 1");
            }
            requirePositive("key-fetch-timeout", keyFetchTimeout);
            if (maxConnections != null && maxConnections < 1) {
                throw new InvalidSettingException("max-connections", "must be at least 1");
            }
            if (maxRequestsInProgress != null && maxRequestsInProgress < 1) {
                throw new InvalidSettingException("max-requests-in-progress", "must be at least 1");
            }
            if (enabled && (name == null || name.isBlank())) {
                throw new InvalidSettingException("name", "required when the policy server is enabled: "
                        + "the server name in the rooms' m.room.policy 'via'");
            }
            if (enabled && keyFile == null) {
                throw new InvalidSettingException("key-file", "required when the policy server is enabled: "
                        + "generate one with GeneratePolicyServerKey (docs/policy-server.md)");
            }
            if (rooms.stream().map(Room::id).distinct().count() < rooms.size()) {
                throw new InvalidSettingException("rooms", "a room is listed twice");
            }
        }

        static final String PREFIX = "policy-gateway.policy-server";

        /**
         * What a connection to the listener holds of the heap between requests: its socket's read and
         * write buffers and what tracks it. Measured at 16.7 KiB with Tomcat's 8 KiB buffers; rounded up.
         */
        private static final long CONNECTION_BYTES = 18 * 1024;

        /** Tomcat's own connection limit, which a default never exceeds. */
        private static final int TOMCAT_MAX_CONNECTIONS = 8192;

        /** The fewest connections that a default gives the listener. */
        private static final int FEWEST = 64;

        /**
         * How many connections the listener holds at once, and how many of them may have a request
         * being read or answered.
         */
        public record ListenerLimits(int connections, int requestsInProgress) {
        }

        /**
         * {@link #listenerLimits(Integer, Integer, long, long)} of {@code max-connections} and
         * {@code max-requests-in-progress}, for this JVM's heap.
         *
         * @param headerBufferBytes the listener's request and answer header sizes together
         */
        public ListenerLimits listenerLimits(long headerBufferBytes) {
            return listenerLimits(maxConnections, maxRequestsInProgress, Runtime.getRuntime().maxMemory(), headerBufferBytes);
        }

        /**
         * The listener's limits, each as configured or else out of an eighth of {@code heapBytes} in
         * all: requests in progress as many as a sixteenth holds ({@link #requestsHeldIn}; at most the
         * connections), and connections those and as many more as another sixteenth holds at
         * {@link #CONNECTION_BYTES} each (64 to Tomcat's default of 8192). Anyone may
         * connect, and Tomcat keeps a request whose line or headers come a byte at a time for as long
         * as each byte comes within the connection timeout: without a bound, a few thousand of them
         * would run the heap out, and the policy API with it.
         */
        public static ListenerLimits listenerLimits(Integer configuredConnections, Integer configuredRequests,
                                                    long heapBytes, long headerBufferBytes) {
            long share = heapBytes / 16;
            long requests = configuredRequests != null ? configuredRequests : requestsHeldIn(share, headerBufferBytes);
            long connections = configuredConnections != null ? configuredConnections
                    : Math.clamp(requests + share / CONNECTION_BYTES, FEWEST, TOMCAT_MAX_CONNECTIONS);
            return new ListenerLimits((int) connections,
                    (int) (configuredRequests != null ? requests : Math.min(requests, connections)));
        }

        /** {@code ranges}, each checked to be an IP range in CIDR notation; the first that is not names its index. */
        private static List<String> ipRanges(String key, List<String> ranges) {
            for (int i = 0; i < ranges.size(); i++) {
                try {
                    IpRanges.of(Collections.singletonList(ranges.get(i)));
                } catch (IllegalArgumentException notARange) {
                    throw new InvalidSettingException(key + "[" + i + "]", notARange.getMessage());
                }
            }
            return List.copyOf(ranges);
        }

        /** The addresses a key fetch never connects to, unless {@link #allowedRanges()} holds them. */
        public IpRanges blockedRanges() {
            return IpRanges.of(ipRangeBlocklist);
        }

        /** The exceptions to {@link #blockedRanges()}. */
        public IpRanges allowedRanges() {
            return IpRanges.of(ipRangeAllowlist);
        }

        /**
         * The policy server's signing key, read from {@code key-file} once, at startup. A file that
         * does not exist, cannot be read or holds no policy server key stops startup with one message
         * naming the key and the fix.
         */
        public PolicyServerKey signingKey() {
            String key = PREFIX + ".key-file";
            try {
                return PolicyServerKey.load(keyFile);
            } catch (NoSuchFileException missing) {
                throw badKeyFile(key, "does not exist", "Create it with GeneratePolicyServerKey (docs/policy-server.md), "
                        + "or correct " + key + ".", missing);
            } catch (IOException unreadable) {
                throw badKeyFile(key, "cannot be read: " + unreadable.getMessage(),
                        "Let the gateway's user read " + keyFile + ", or correct " + key + ".", unreadable);
            } catch (IllegalArgumentException notAKey) {
                throw badKeyFile(key, "holds no policy server key: " + notAKey.getMessage(),
                        "Point " + key + " at the file GeneratePolicyServerKey wrote (one line \"ed25519 policy_server <seed>\").",
                        notAKey);
            }
        }

        private InvalidConfigurationException badKeyFile(String key, String problem, String fix, Exception cause) {
            return new InvalidConfigurationException("Invalid configuration",
                    new BadSetting(key, keyFile, null, "the policy server key file " + problem, fix), cause);
        }

        /** The defaults: no listener, no rooms. */
        public static PolicyServer disabled() {
            return new PolicyServer(false, null, 8448, null, null, List.of(), List.of(), List.of(), 100_000, 10_000,
                    Duration.ofSeconds(10), null, List.of(), new RateLimit(1000, Duration.ofSeconds(10)), null, null);
        }

        /**
         * The policy server's own limit, a token bucket per asking homeserver (its request's {@code
         * X-Matrix} origin), taken by each event it has no answer for yet; shaped as the {@code
         * rate_limits} module's buckets. Synapse takes a 429 as a refusal, never retried, so the default
         * (1000 at once, 100 a second) is well above what an honest homeserver asks
         * (docs/policy-server.md, "Rate limit").
         *
         * @param capacity the burst, at least 1
         * @param period   how long an empty bucket takes to refill, at least 1 ms and a year at most
         */
        public record RateLimit(@DefaultValue("1000") long capacity, @DefaultValue("10s") Duration period) {
            public RateLimit {
                if (capacity < 1) {
                    throw new InvalidSettingException("capacity", "must be at least 1 (the requests one homeserver may "
                            + "send at once); raise it rather than turn the limit off");
                }
                if (period == null || period.toMillis() < 1 || period.compareTo(Duration.ofDays(366)) > 0) {
                    throw new InvalidSettingException("period", "must be between 1ms and 366d (how long an empty "
                            + "bucket takes to refill), e.g. 10s");
                }
            }

            /** The bucket each asking homeserver gets. */
            public Bucket bucket() {
                return new Bucket(capacity, period);
            }
        }

        /**
         * One room served.
         *
         * @param id      the room ID
         * @param version the room version, which decides the redaction algorithm every signature is
         *                computed over (Element shows it under Settings, Advanced). Rooms of version 12
         *                and later, whose ID has no server name, may leave it out.
         */
        public record Room(@NotBlank String id, String version) {
            public Room {
                if (id != null) {
                    try {
                        MatrixIds.roomId(id);
                    } catch (IllegalArgumentException notARoomId) {
                        throw new InvalidSettingException("id", "not a room ID (!opaque:server, or ! and 43 base64 characters "
                                + "from room version 12): " + notARoomId.getMessage());
                    }
                }
                if (version != null && !Redaction.KNOWN_ROOM_VERSIONS.contains(version)) {
                    throw new InvalidSettingException("version", "unknown room version; known are "
                            + String.join(", ", Redaction.KNOWN_ROOM_VERSIONS));
                }
                if (version == null && id != null && id.indexOf(':') >= 0) {
                    throw new InvalidSettingException("version", "required for a room whose ID names a server "
                            + "(room versions 1 to 11): the signature depends on it");
                }
            }

            /** The room version: as configured, else 12 for a room whose ID names no server. */
            public String roomVersion() {
                return version == null ? "12" : version;
            }
        }

        /**
         * How to reach one homeserver for its keys.
         *
         * @param name                its server name, as in the {@code origin} of its requests
         * @param address             the base URL of its federation API ({@code https://matrix.internal:8448})
         * @param trustAnyCertificate skip TLS certificate checks for it (a test federation's self-signed certificate)
         */
        public record KnownServer(@NotBlank String name, URI address, @DefaultValue("false") boolean trustAnyCertificate) {
            public KnownServer {
                // hs.internal:8448 parses as a URI of scheme "hs.internal" and no host: every key fetch would fail
                if (address != null && (!List.of("https", "http").contains(address.getScheme()) || address.getHost() == null)) {
                    throw new InvalidSettingException("address",
                            "expected the base URL of its federation API, such as https://10.0.0.5:8448");
                }
            }
        }

        /**
         * A key server, as an entry of Synapse's {@code trusted_key_servers}.
         *
         * @param name       its server name
         * @param verifyKeys its public keys; its answers count only when signed by one of them
         */
        public record Notary(@NotBlank String name, @DefaultValue List<@Valid VerifyKey> verifyKeys) {
            public Notary {
                verifyKeys = List.copyOf(verifyKeys);
                if (verifyKeys.isEmpty()) {
                    throw new InvalidSettingException("verify-keys", "at least one key is needed to trust the notary's answers");
                }
            }
        }

        /**
         * @param id  the key ID ({@code ed25519:auto})
         * @param key the public key, unpadded base64
         */
        public record VerifyKey(@NotBlank String id, @NotBlank String key) {
            public VerifyKey {
                if (id != null && !id.startsWith("ed25519:")) {
                    throw new InvalidSettingException("id", "only ed25519 keys are supported (ed25519:<version>)");
                }
                if (key != null && decoded(key).length != 32) {
                    throw new InvalidSettingException("key", "not an Ed25519 public key: expected 32 bytes in base64");
                }
            }

            /** The raw 32-byte key. */
            public byte[] rawKey() {
                return decoded(key);
            }

            /** Base64, padded or not, standard or URL-safe; nothing for what is not base64. */
            private static byte[] decoded(String key) {
                try {
                    return java.util.Base64.getDecoder().decode(key.replace('-', '+').replace('_', '/').replace("=", ""));
                } catch (IllegalArgumentException notBase64) {
                    return new byte[0];
                }
            }
        }
    }

    /**
     * Where limits ({@code rate_limits}, {@code content_rules}) keep their counters; read at startup
     * only. Without {@code redis}, in this process's memory: right for one replica, nothing to install.
     *
     * @param redis a Redis (or Valkey) every replica shares, so that N replicas enforce one limit
     */
    public record State(@Valid Redis redis) {

        /** The default: counters in this process's memory. */
        public static State inMemory() {
            return new State(null);
        }

        /** The Redis settings, when there are any. */
        public Optional<Redis> sharedRedis() {
            return Optional.ofNullable(redis);
        }

        /**
         * @param url       {@code redis://[user:password@]host[:port][/database]}, or {@code rediss://} for TLS;
         *                  give a URL with a password through the environment ({@code POLICY_GATEWAY_STATE_REDIS_URL}
         *                  from a Secret), not in a file
         * @param timeout   how long a call may take in all, a connection being made included: past it, the call fails and the module
         *                  entry's {@code on-failure} decides
         * @param keyPrefix put before every key, so that several gateways or other programs can share one Redis
         * @param sslBundle for {@code rediss://}: the Spring Boot SSL bundle ({@code spring.ssl.bundle.pem.<name>} or
         *                  {@code .jks.<name>}) whose trust store holds the certificate authority of Redis's certificate,
         *                  and whose key store, if any, the client certificate a Redis that asks for one is shown;
         *                  without one, the JVM's authorities and no client certificate
         */
        public record Redis(String url, @DefaultValue("200ms") @NotNull Duration timeout,
                            @DefaultValue("mpg:") @NotNull String keyPrefix, String sslBundle) {
            static final Duration MAX_TIMEOUT = Duration.ofSeconds(10);
            static final String PREFIX = "policy-gateway.state.redis";

            public Redis {
                if (url == null || url.isBlank()) {
                    throw new InvalidSettingException("url", "required under policy-gateway.state.redis: "
                            + "redis://host:port or rediss://host:port (remove the redis block to keep the state in memory)");
                }
                String problem = urlProblem(url);
                if (problem != null) {
                    throw new InvalidSettingException("url", problem);
                }
                if (timeout != null && (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0)) {
                    throw new InvalidSettingException("timeout", "must be positive and at most 10s: a limit is "
                            + "checked on every event, and a slow Redis should fail fast");
                }
                if (sslBundle != null && sslBundle.isBlank()) {
                    throw new InvalidSettingException("ssl-bundle", "names no bundle: give the name of a spring.ssl.bundle.pem "
                            + "(or .jks) entry, or remove the key to trust the JVM's certificate authorities");
                }
                if (sslBundle != null && !url.startsWith("rediss:")) {
                    throw new InvalidSettingException("ssl-bundle", "is for TLS, and the url (redis://) does not use it: "
                            + "write rediss:// for TLS, or remove ssl-bundle");
                }
            }

            private static String urlProblem(String url) {
                try {
                    URI uri = new URI(url);
                    if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
                        return "expected a redis:// or rediss:// URL";
                    }
                    if (uri.getHost() == null) {
                        return noHost(url);
                    }
                    // what the Redis client would refuse when the state is made, with a stack trace and no key
                    if (uri.getPort() != -1 && (uri.getPort() < 1 || uri.getPort() > 65_535)) {
                        return "port " + uri.getPort() + " is out of range: expected 1 to 65535";
                    }
                    String path = uri.getPath();
                    if (path != null && path.length() > 1 && !path.matches(DATABASE_PATH)) {
                        return "the path is the database index: expected a number such as /0, got " + path;
                    }
                    return uri.getRawQuery() == null ? null : queryProblem(uri.getRawQuery(), path != null && path.length() > 1);
                } catch (URISyntaxException malformed) {
                    return "not a URL: " + malformed.getReason() + (hasUserInfo(url) ? ": " + RESERVED_IN_USER_INFO : "");
                }
            }

            /** Said of a user or password that breaks the URL, without quoting them. */
            private static final String RESERVED_IN_USER_INFO = "a character of the user or password that a URL reserves must be "
                    + "percent-encoded: / as %2F, ? as %3F, # as %23, @ as %40, % as %25, [ and ] as %5B and %5D, a space as %20";

            /**
             * Why a URL that reads as naming a host to whoever wrote it names none to the parser: a
             * password holding a reserved character (a generated one often holds a {@code /}), a port
             * that is no number, or a host name with {@code _} (a Docker Compose service's), which no
             * host name may hold and the Redis client misreads as well.
             */
            private static String noHost(String url) {
                if (hasUserInfo(url)) {
                    return "names no host: " + RESERVED_IN_USER_INFO;
                }
                String hostAndPort = url.substring(url.indexOf("://") + 3).split("[/?#]", 2)[0];
                int colon = hostAndPort.lastIndexOf(':');
                if (colon >= 0 && !hostAndPort.startsWith("[") && !hostAndPort.substring(colon + 1).matches("[0-9]*")) {
                    return "the port is no number: '" + hostAndPort.substring(colon + 1) + "'";
                }
                String host = colon >= 0 && !hostAndPort.startsWith("[") ? hostAndPort.substring(0, colon) : hostAndPort;
                if (host.contains("_")) {
                    return "names no host: '" + host + "' holds '_', which a host name may not (letters, digits, '-' and '.'): "
                            + "give the host another name (an alias, a network alias in Docker Compose) or its IP address";
                }
                return "names no host: expected redis://host:port";
            }

            /** Whether the URL has a user or password: an {@code @} after the scheme, parsed or not. */
            private static boolean hasUserInfo(String url) {
                return url.indexOf('@', Math.max(0, url.indexOf("://"))) >= 0;
            }

            private static final String DATABASE_PATH = "/[0-9]{1,9}";

            /**
             * The Redis client's URL parameters, checked as it would not: it reads {@code ?database=abc}
             * as database 0 and passes over a parameter it does not know, and a {@code verifyPeer} it
             * cannot read fails the start with a stack trace.
             */
            private static String queryProblem(String query, boolean databaseInPath) {
                boolean database = databaseInPath;
                for (String parameter : query.split("&", -1)) {
                    int equals = parameter.indexOf('=');
                    String name = equals < 0 ? parameter : parameter.substring(0, equals);
                    // the URI checked its escapes already
                    String value = equals < 0 ? "" : URLDecoder.decode(parameter.substring(equals + 1), StandardCharsets.UTF_8);
                    String problem = switch (name) {
                        case "database", "db" -> {
                            if (database) {
                                yield "names the database twice (" + name + "=" + value + "): give it once, as the path /0 or as "
                                        + "?database=0";
                            }
                            database = true;
                            yield ("/" + value).matches(DATABASE_PATH) ? null
                                    : name + " is the database index: expected a number such as 0, got '" + value + "'";
                        }
                        case "verifyPeer" -> List.of("FULL", "CA", "NONE").contains(value.toUpperCase(Locale.ROOT)) ? null
                                : "verifyPeer: expected FULL (the default), CA or NONE, got '" + value + "'";
                        case "clientName", "libraryName", "libraryVersion" -> null;
                        case "timeout" -> "the URL's timeout is not read: set policy-gateway.state.redis.timeout instead";
                        default -> "unknown parameter '" + name + "': the URL takes database (or db), verifyPeer, "
                                + "clientName, libraryName and libraryVersion";
                    };
                    if (problem != null) {
                        return problem;
                    }
                }
                return null;
            }

            /** Where Redis is, for log lines: host and port, never the password. */
            public String address() {
                URI uri = URI.create(url);
                return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
            }
        }
    }

    /**
     * One {@code modules} entry.
     *
     * @param module    the module type name
     * @param name      the instance name; defaults to {@code <type>-<position>}
     * @param onFailure overrides {@link Defaults#onFailure()} for this instance
     * @param timeout   overrides {@link Defaults#timeout()} for this instance
     * @param mode      {@code enforce} (default), or {@code shadow}: the instance is asked and its
     *                  answers recorded, but they never count
     * @param config    the module type's own configuration, as plain values: each setting's text by
     *                  its path below {@code config} ({@code rules.0.keywords.1}), which is what tells
     *                  a changed entry from an unchanged one on reload. It is bound again, to the
     *                  module type's record and with its own unknown-key check, where the instance is
     *                  built. Flat text binds in one pass over the settings; nested maps cost Spring's
     *                  binder a pass over all of them for each map and list within, which made
     *                  thousands of rules take seconds.
     */
    public record ModuleEntry(@NotBlank String module, String name, FailurePolicy onFailure, Duration timeout,
                              @DefaultValue("enforce") Link.Mode mode, Map<String, String> config) {
        public ModuleEntry {
            // Checked here, not only by the chain's link: the link is built for modules that may block
            // alone, and would refuse it without naming the key, value or file.
            requirePositive("timeout", timeout);
        }
    }

    /** Refuses a duration of zero or less: a deadline or an interval that has passed before it starts. */
    private static void requirePositive(String key, Duration duration) {
        if (duration != null && (duration.isNegative() || duration.isZero())) {
            throw new InvalidSettingException(key, "must be positive");
        }
    }
}
