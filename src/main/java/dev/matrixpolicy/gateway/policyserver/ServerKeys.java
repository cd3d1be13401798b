package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import dev.matrixpolicy.gateway.replies.ReplyTooLargeException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.Socket;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Other servers' public keys, fetched from the server itself with {@code GET /_matrix/key/v2/server}
 * (spec, "Retrieving server keys") and cached until they expire.
 *
 * <p>A response counts only when its {@code server_name} is the server asked for and it is signed by
 * one of the {@code verify_keys} it lists for that server; as in Synapse 1.67's {@code
 * process_v2_response}, the first of its signatures by a listed key must verify. A key in {@code
 * verify_keys} is then valid until the lesser of {@code valid_until_ts} and seven days after the
 * fetch (the spec's cap; Synapse 1.67 does not cap), a key in {@code old_verify_keys} until the
 * lesser of its {@code expired_ts} and the same cap. A key missing from the cache, or expiring before
 * the time asked for, makes one new fetch, unless the server's keys were fetched less than {@link
 * #REFETCH_AFTER} ago (below).
 *
 * <p>Notaries, as Synapse's {@code trusted_key_servers}: when the server itself fails, or its answer
 * lacks the key asked for (or lists it as expiring too early), the configured notaries are asked in
 * turn with {@code POST /_matrix/key/v2/query} (spec, "Querying Keys Through Another Server") for that
 * key ID and minimum validity, until one delivers it. A notary's answer counts only when each key
 * object in it passes the checks Synapse 1.67's {@code PerspectivesKeyFetcher} makes: signed by the
 * notary with one of its configured keys (every such signature verifying), and, as {@code
 * process_v2_response} requires, naming the server asked for and self-signed by it as above; its keys'
 * validity is capped as for a direct fetch. Unlike Synapse, which asks notaries before the server and
 * drops only the key objects that fail, the server is asked first and one bad key object voids the
 * notary's whole answer. A notary that fails or answers with no key objects (as Synapse 1.67 does when
 * asked for its own keys) just delivered nothing. A fetch replaces the cached keys with those the
 * server and the notaries gave together (of two for one key ID, the one valid longer), unless the
 * server failed and no notary delivered the key asked for.
 *
 * <p>Since whoever sends a request chooses the server and key ID we look up, before any signature
 * can be checked, fetching is guarded:
 * <ul>
 *   <li>One fetch per server at a time, notaries included: a lookup that finds a fetch of the same
 *   server under way waits for its result instead of fetching too (notaries were asked only for the
 *   key that fetch was for).</li>
 *   <li>At most {@link #MAX_CONCURRENT_FETCHES} fetches (of as many servers) at once, of which
 *   {@link #KNOWN_SERVERS_SLOTS} only for servers whose keys were fetched before (their keys expired,
 *   or a new key): a caller naming new servers by the hundred cannot keep those out. A lookup that
 *   needs another fetch is refused at once ({@link KeyFetchBusyException}).</li>
 *   <li>A whole fetch, the well-known lookup, the server and every notary included, ends after
 *   {@link Settings#fetchDeadline()}: its thread is interrupted, which ends a reply that trickles
 *   in, or never ends, as well as a connection; no lookup waits longer than that (and a second) for
 *   it. A well-known lookup cut off so is not remembered as an answer. Name resolution by the
 *   platform ({@code getaddrinfo}) does not heed an interrupt, so a slow DNS server can keep a fetch
 *   past its deadline, though no lookup waits for it.</li>
 *   <li>A key ID missing from what the server published less than {@link #REFETCH_AFTER} ago is
 *   not fetched again: the lookup finds nothing, at once. So a caller naming key IDs that do not
 *   exist makes at most one fetch a minute, and never keeps the server's real keys from being
 *   fetched.</li>
 *   <li>Back-off: after a fetch that failed (neither the server nor any notary gave a usable
 *   answer), neither is asked about the server again for {@link #MIN_BACKOFF}, doubling with each
 *   further failed fetch up to {@link #MAX_BACKOFF}; a usable answer ends it. Meanwhile lookups that
 *   the cache cannot answer are refused at once, saying when the server will be asked again.</li>
 *   <li>At most {@link #MAX_KEYS_PER_SERVER} keys of a server are kept, those valid longest (and
 *   the one asked for).</li>
 * </ul>
 * A key found in the cache that has lived three quarters of the validity its server gave it is
 * fetched again in the background, nobody waiting, while more than half of the slots for any server
 * are free ({@link #refreshIfAging}):
 * a homeserver's next key is then usually cached before its current one expires, where otherwise
 * the first request after the expiry would wait for the fetch (Synapse gives its keys a day). A
 * refresh that fails backs off refreshes alone: once the key has expired, a lookup fetches it as
 * before, from a server that may be back.
 * The key cache, the back-offs and the well-known answers each hold at most {@link
 * Settings#maxServers} servers, least recently used first out.
 *
 * <p>Where a server (origin or notary) is reached: a base URL configured for its name (private
 * federations, tests); otherwise the spec's "Resolving server names": an IP literal or an explicit
 * port is used as is, else {@code /.well-known/matrix/server} may delegate (the delegated name again
 * by IP literal or explicit port), else the SRV record of {@code _matrix-fed._tcp.<name>}, else of the
 * deprecated {@code _matrix._tcp.<name>} ({@code <name>} being the delegated name if there is one),
 * gives target host and port, else port 8448. SRV records are looked up with the JDK's JNDI DNS
 * provider ({@code jdk.naming.dns}); a failed or timed-out lookup counts as no record; of several, the
 * one with the lowest priority and then the highest weight is used. The well-known answer is cached as
 * the spec recommends: for its {@code Cache-Control} max-age, at most {@link #WELL_KNOWN_MAX_CACHE},
 * else {@link #WELL_KNOWN_DEFAULT_CACHE}; no or a bad answer for {@link #WELL_KNOWN_ERROR_CACHE}.
 *
 * <p>TLS, except for server names listed in {@link Settings#selfSigned} (any certificate then): the
 * certificate must chain to the platform's trust anchors and be valid for the name the spec says,
 * the host of the server name or of the delegated name, also where an SRV record sent us to
 * another host, as Synapse checks it. The JDK's {@link HttpClient} checks the certificate against
 * the URL's host and sends that as SNI, whatever its {@code SSLParameters} say; so a request to an
 * SRV target goes through a client of its own for that name ({@link NamedTls}, one per name, at
 * most {@link #MAX_NAMED_CLIENTS}, least recently used first out: each holds a thread), which
 * sends the name as SNI and checks the certificate against it (subjectAltName only, RFC 6125
 * wildcards).
 *
 * <p>Not as the spec says: the JDK's {@link HttpClient} takes the {@code Host} header from the URL
 * and does not let a request set it (nor HTTP/2's {@code :authority}) unless the system property
 * {@code jdk.httpclient.allowRestrictedHeaders} says so, which this class leaves alone. So where the
 * spec wants {@code Host: <name>} (the server name, or the delegated one), this class sends:
 * <ul>
 *   <li>for an SRV record: {@code Host: <target>:<port>} (without the port if 443). A server that
 *   answers key requests only for {@code Host: <name>} cannot be fetched from (Synapse answers
 *   them whatever the {@code Host});</li>
 *   <li>for a name used at the default port 8448, or an IP literal without a port: {@code
 *   Host: <name>:8448} rather than {@code <name>}.</li>
 * </ul>
 * An explicit port, and a delegated name with one, give what the spec wants.
 *
 * <p>Since whoever sends a request also chooses where we connect, no host is reached by name
 * resolution (the origin, its well-known host, a delegated name, an SRV target, a notary) when any
 * of its addresses is in {@link Settings#blocklist} and not in {@link Settings#allowlist}, nor
 * ever at {@code 0.0.0.0} or {@code ::}, as Synapse's {@code federation_ip_range_blocklist}; only the
 * base URLs the admin lists ({@link Settings#addresses}) are exempt. The host is resolved here, all
 * of its addresses checked, and the JDK's client then connects by name: it resolves it again, from
 * the JDK's DNS cache ({@code networkaddress.cache.ttl}, 30 s by default), so a DNS answer changed
 * between the check and the connection (rebinding) gets through only if the cached entry expires in
 * that instant. Connecting to the checked address itself would need a {@code Host} header the JDK's
 * client will not let us set. No redirect is followed, except for {@code /.well-known/matrix/server},
 * which the spec says to follow: at most {@link #MAX_WELL_KNOWN_REDIRECTS}, each to the same scheme,
 * each hop's host checked as above.
 *
 * <p>A failed fetch is answered with one fixed message naming the server asked about, never the
 * reason: the reason (an address, a TLS error, what the server answered) would tell a caller who
 * named a server of our network what runs there. It is logged at DEBUG for the admin instead: any
 * caller can cause one per request, so it must not flood the WARN log.
 */
public final class ServerKeys implements KeyLookup {
    private static final Logger log = LoggerFactory.getLogger(ServerKeys.class);
    /** How many redirects a well-known answer may take: a few, as the spec asks to avoid loops. */
    static final int MAX_WELL_KNOWN_REDIRECTS = 5;
    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
    static final Duration MAX_VALIDITY = Duration.ofDays(7);
    static final String KEYS_PATH = "/_matrix/key/v2/server";
    static final String QUERY_PATH = "/_matrix/key/v2/query";
    static final String WELL_KNOWN_PATH = "/.well-known/matrix/server";
    static final Duration MIN_BACKOFF = Duration.ofMinutes(1);
    /** How long a server's published keys answer for every key ID, those it did not list included. */
    static final Duration REFETCH_AFTER = Duration.ofMinutes(1);
    /** How many fetches run at once: each holds a thread and a connection for up to the fetch deadline. */
    static final int MAX_CONCURRENT_FETCHES = 32;
    /** Of {@link #MAX_CONCURRENT_FETCHES}, how many only servers whose keys were fetched before may take. */
    static final int KNOWN_SERVERS_SLOTS = 8;
    /** How many servers' own TLS clients (for SRV targets) are kept: each holds a selector thread. */
    static final int MAX_NAMED_CLIENTS = 64;
    /** How many keys of one server are kept: a server has one current key and a few old ones. */
    static final int MAX_KEYS_PER_SERVER = 16;
    static final Duration MAX_BACKOFF = Duration.ofMinutes(30);
    static final Duration WELL_KNOWN_DEFAULT_CACHE = Duration.ofHours(24);
    static final Duration WELL_KNOWN_MAX_CACHE = Duration.ofHours(48);
    static final Duration WELL_KNOWN_ERROR_CACHE = Duration.ofHours(1);
    private static final Pattern MAX_AGE = Pattern.compile("(?:^|[,\\s])max-age=\"?([0-9]{1,10})");
    private static final int DEFAULT_PORT = 8448;
    /** How much longer than the fetch deadline a lookup waits: the interrupted fetch's time to end. */
    private static final Duration DEADLINE_MARGIN = Duration.ofSeconds(1);
    /**
     * A server's keys, a notary's answer for one server, a {@code .well-known}: a few KB at most. Fixed,
     * not a setting: a larger answer is a broken or hostile server, never a bigger deployment.
     */
    private static final ReplyCap MAX_RESPONSE = new ReplyCap("the key-fetch reply limit", 64 * 1024);
    private static final Pattern HOST_AND_PORT = Pattern.compile("(\\[[^]]+]|[^:]+)(?::([0-9]{1,5}))?");
    /** A host name as an SRV record's target names it, the root ({@code .}, "no such service") excluded. */
    private static final Pattern SRV_TARGET = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*\\.?");

    /**
     * @param addresses  base URLs by server name ({@code https://keys.internal:8448}), tried instead of resolution
     * @param selfSigned server names whose TLS certificate is not checked (a test federation's self-signed ones)
     * @param notaries   servers asked for other servers' keys ({@code POST /_matrix/key/v2/query}),
     *                   as Synapse's {@code trusted_key_servers}; tried in order when the origin itself fails
     * @param maxServers how many servers' keys the cache holds
     * @param timeout    for connecting and for each answer
     * @param blocklist  addresses never connected to when reached by name resolution ({@link
     *                   IpRanges#SYNAPSE_BLOCKLIST} in production)
     * @param allowlist  exceptions to {@code blocklist}
     */
    public record Settings(Map<String, URI> addresses, Set<String> selfSigned, List<Notary> notaries, int maxServers,
                           Duration timeout, IpRanges blocklist, IpRanges allowlist) {
        public Settings {
            addresses = Map.copyOf(addresses);
            selfSigned = Set.copyOf(selfSigned);
            notaries = List.copyOf(notaries);
            Objects.requireNonNull(blocklist, "blocklist");
            Objects.requireNonNull(allowlist, "allowlist");
            if (maxServers < 1) {
                throw new IllegalArgumentException("maxServers must be at least 1");
            }
        }

        /** Whether a host resolving to {@code address} may not be reached: {@code 0.0.0.0} and {@code ::} never. */
        boolean blocks(InetAddress address) {
            return IpRanges.UNSPECIFIED.contains(address) || (blocklist.contains(address) && !allowlist.contains(address));
        }

        /** How long a whole fetch may take, every step included: twice {@link #timeout}. */
        Duration fetchDeadline() {
            return timeout.multipliedBy(2);
        }
    }

    /**
     * A notary, as an entry of Synapse's {@code trusted_key_servers}: its answers count only when
     * signed by one of {@code verifyKeys}.
     *
     * @param serverName its server name, resolved as any other unless listed in {@link Settings#addresses}
     * @param verifyKeys its public keys by key ID ({@code ed25519:auto}), raw 32 bytes each; at least one
     */
    public record Notary(String serverName, Map<String, byte[]> verifyKeys) {
        public Notary {
            verifyKeys = Map.copyOf(verifyKeys);
            if (verifyKeys.isEmpty()) {
                throw new IllegalArgumentException("a notary needs at least one verify key");
            }
        }
    }

    private record CachedKey(byte[] key, long validUntilTs) {
    }

    /** What a fetch of a server's keys gave, {@code fetchedAt}. */
    private record Published(Map<String, CachedKey> keys, long fetchedAt) {
    }

    /** {@code failures} fetches in a row were of no use; the next is not before {@code retryAt}. */
    private record Backoff(int failures, long retryAt) {
    }

    /** A well-known answer: the delegated server name, if any, until {@code expiresAt}. */
    private record Delegation(Optional<String> serverName, long expiresAt) {
    }

    /** A JSON answer with its headers. */
    private record JsonAnswer(JsonNode body, HttpHeaders headers) {
    }

    private final Settings settings;
    private final InstantSource clock;
    private final X509TrustManager trust;
    private final HttpClient verifying;
    private final HttpClient trustingAnyCertificate;
    /** A client by the name that certificates must be valid for, for SRV targets. */
    private final Map<String, HttpClient> expectingName;
    private final Map<String, Published> cache;
    private final Map<String, Backoff> backoffs;
    /**
     * The back-offs of background refreshes, apart from {@link #backoffs}: a refresh that failed must not
     * refuse the lookup that, once the cached key has expired, would fetch it from a server back up.
     */
    private final Map<String, Backoff> refreshBackoffs;
    private final Map<String, Delegation> delegations;
    private final Map<String, Fetch> fetching = new ConcurrentHashMap<>();
    /** Slots any fetch may take, and those kept for servers whose keys were fetched before. */
    private final Semaphore anyServerSlots = new Semaphore(MAX_CONCURRENT_FETCHES - KNOWN_SERVERS_SLOTS);
    private final Semaphore knownServerSlots = new Semaphore(KNOWN_SERVERS_SLOTS);

    /**
     * A fetch under way: how it ends, by when ({@link System#nanoTime}) it has ended, and whether it is a
     * background refresh ({@link #refreshIfAging}), whose failure backs off refreshes alone.
     */
    private record Fetch(CompletableFuture<Void> done, long deadline, boolean refresh) {
    }
    private final Function<String, URI> wellKnownUri;
    private final Function<String, List<Srv>> srv;

    public ServerKeys(Settings settings, InstantSource clock) {
        this(settings, clock, host -> URI.create("https://" + host + WELL_KNOWN_PATH),
                name -> dnsSrv(name, settings.timeout()), NamedTls.platformTrust());
    }

    /**
     * @param wellKnownUri where a host's well-known answer is asked for (tests serve it over plain HTTP)
     * @param srv          the SRV records of a DNS name ({@code _matrix-fed._tcp.example.org}); none if it has none
     * @param trust        which certificate chains are trusted: the platform's trust manager, an {@link
     *                     X509ExtendedTrustManager} that does endpoint identification too (tests trust their own)
     */
    ServerKeys(Settings settings, InstantSource clock, Function<String, URI> wellKnownUri,
               Function<String, List<Srv>> srv, X509ExtendedTrustManager trust) {
        this.settings = settings;
        this.clock = clock;
        this.wellKnownUri = wellKnownUri;
        this.srv = srv;
        this.trust = trust;
        this.verifying = client(settings.timeout(), NamedTls.context(trust));
        this.trustingAnyCertificate = client(settings.timeout(), trustingAnyCertificate());
        this.expectingName = leastRecentlyUsed(Math.min(settings.maxServers(), MAX_NAMED_CLIENTS), HttpClient::shutdown);
        this.cache = leastRecentlyUsed(settings.maxServers(), dropped -> { });
        this.backoffs = leastRecentlyUsed(settings.maxServers(), dropped -> { });
        this.refreshBackoffs = leastRecentlyUsed(settings.maxServers(), dropped -> { });
        this.delegations = leastRecentlyUsed(settings.maxServers(), dropped -> { });
    }

    /**
     * A thread-safe map of at most {@code max} entries that drops the least recently used, handing
     * each value it drops to {@code onDrop}.
     */
    private static <V> Map<String, V> leastRecentlyUsed(int max, Consumer<V> onDrop) {
        return Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                boolean drop = size() > max;
                if (drop) {
                    onDrop.accept(eldest.getValue());
                }
                return drop;
            }
        });
    }

    @Override
    public Optional<byte[]> verifyKey(String serverName, String keyId, long minimumValidUntilTs) {
        Optional<byte[]> cached = cached(serverName, keyId, minimumValidUntilTs);
        if (cached.isPresent()) {
            refreshIfAging(serverName, keyId, minimumValidUntilTs);
            return cached;
        }
        refuseDuringBackoff(serverName, keyId);
        Published published = cache.get(serverName);
        if (published != null && clock.millis() < published.fetchedAt() + REFETCH_AFTER.toMillis()) {
            return Optional.empty(); // not among the keys it published a moment ago
        }
        fetchOnce(serverName, keyId, minimumValidUntilTs);
        return cached(serverName, keyId, minimumValidUntilTs);
    }

    private Optional<byte[]> cached(String serverName, String keyId, long minimumValidUntilTs) {
        return Optional.ofNullable(cache.get(serverName)).map(Published::keys)
                .filter(keys -> includes(keys, keyId, minimumValidUntilTs))
                .map(keys -> keys.get(keyId).key().clone());
    }

    /**
     * Starts a fetch of {@code serverName}'s keys that no lookup waits for, when the key just found
     * has lived three quarters of the validity its server gave it (and at least {@link #REFETCH_AFTER})
     * and is still valid, unless a fetch is under way or the server is backing off: so a server's next
     * key is usually cached before the one in use expires, and no request waits for the fetch. It is
     * made only while more than half of the slots for any server are free, never in one kept for
     * known servers.
     */
    private void refreshIfAging(String serverName, String keyId, long minimumValidUntilTs) {
        Published published = cache.get(serverName);
        CachedKey key = published == null ? null : published.keys().get(keyId);
        long now = clock.millis();
        if (key == null || key.validUntilTs() <= now // expired: found for an older time, which no new answer changes
                || now - published.fetchedAt() < Math.max(REFETCH_AFTER.toMillis(), (key.validUntilTs() - published.fetchedAt()) / 4 * 3)) {
            return;
        }
        if (running(backoffs, serverName, now).isPresent() || running(refreshBackoffs, serverName, now).isPresent()) {
            return;
        }
        // Only while most slots for any server are free: a lookup that must wait for a fetch comes first.
        if (anyServerSlots.availablePermits() <= (MAX_CONCURRENT_FETCHES - KNOWN_SERVERS_SLOTS) / 2 || !anyServerSlots.tryAcquire()) {
            return;
        }
        Fetch refresh = new Fetch(new CompletableFuture<>(), System.nanoTime() + settings.fetchDeadline().toNanos(), true);
        if (fetching.putIfAbsent(serverName, refresh) == null) {
            // a notary is asked for the key valid past its current expiry, which only a new answer gives
            start(serverName, keyId, Math.max(minimumValidUntilTs, key.validUntilTs() + 1), refresh, anyServerSlots);
        } else {
            anyServerSlots.release();
        }
    }

    /** Whether {@code keys} hold {@code keyId} valid until {@code minimumValidUntilTs} at least. */
    private static boolean includes(Map<String, CachedKey> keys, String keyId, long minimumValidUntilTs) {
        CachedKey key = keys.get(keyId);
        return key != null && key.validUntilTs() >= minimumValidUntilTs;
    }

    private void refuseDuringBackoff(String serverName, String keyId) {
        running(backoffs, serverName, clock.millis()).ifPresent(backoff -> {
            throw new UnauthorizedException("Could not fetch key " + keyId + " of " + serverName
                    + "; its keys will be fetched again at " + Instant.ofEpochMilli(backoff.retryAt()));
        });
    }

    /** The back-off of {@code serverName} in {@code backoffs} (of lookups, or of refreshes), while it runs at {@code now}. */
    private static Optional<Backoff> running(Map<String, Backoff> backoffs, String serverName, long now) {
        return Optional.ofNullable(backoffs.get(serverName)).filter(backoff -> now < backoff.retryAt());
    }

    /**
     * Starts the back-off for {@code serverName} in {@code backoffs} (of lookups, or of refreshes), or
     * doubles it. Does nothing while one runs, so that lookups which waited for the same fetch count it once.
     */
    private void backOff(Map<String, Backoff> backoffs, String serverName) {
        long now = clock.millis();
        backoffs.compute(serverName, (name, previous) -> {
            if (previous != null && now < previous.retryAt()) {
                return previous;
            }
            int failures = previous == null ? 1 : previous.failures() + 1;
            Duration wait = MIN_BACKOFF.multipliedBy(1L << Math.min(failures - 1, 20));
            return new Backoff(failures, now + atMost(MAX_BACKOFF, wait).toMillis());
        });
    }

    private static Duration atMost(Duration max, Duration duration) {
        return duration.compareTo(max) > 0 ? max : duration;
    }

    /**
     * Fetches and caches {@code serverName}'s keys, or, when a fetch of them is under way already,
     * waits for that one; a failed fetch starts the back-off. The fetch runs on a thread of its own,
     * interrupted at its deadline, so no lookup waits longer than that (and {@link #DEADLINE_MARGIN}).
     *
     * @throws KeyFetchBusyException when {@link #MAX_CONCURRENT_FETCHES} fetches are under way
     */
    private void fetchOnce(String serverName, String keyId, long minimumValidUntilTs) {
        fetchOnce(serverName, keyId, minimumValidUntilTs, true);
    }

    /** @param afterRefresh whether a background refresh this lookup waited for and that failed may be followed by a fetch of its own */
    private void fetchOnce(String serverName, String keyId, long minimumValidUntilTs, boolean afterRefresh) {
        Fetch mine = new Fetch(new CompletableFuture<>(), System.nanoTime() + settings.fetchDeadline().toNanos(), false);
        Fetch running = fetching.putIfAbsent(serverName, mine);
        if (running == null) {
            running = mine;
            start(serverName, keyId, minimumValidUntilTs, mine, anyServerSlots.tryAcquire() ? anyServerSlots
                    : cache.containsKey(serverName) && knownServerSlots.tryAcquire() ? knownServerSlots : null);
        }
        long wait = running.deadline() + DEADLINE_MARGIN.toNanos() - System.nanoTime();
        try {
            running.done().get(Math.max(0, wait), TimeUnit.NANOSECONDS);
        } catch (ExecutionException failed) {
            if (running.refresh() && afterRefresh) {
                // a refresh's failure backs off refreshes only: this lookup asks for itself, once
                fetchOnce(serverName, keyId, minimumValidUntilTs, false);
                return;
            }
            if (failed.getCause() instanceof KeyFetchBusyException busy) {
                throw busy;
            }
            throw new UnauthorizedException(failed.getCause().getMessage(), failed.getCause());
        } catch (TimeoutException overdue) {
            throw new UnauthorizedException("Could not fetch the keys of " + serverName + " in time");
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new UnauthorizedException("Could not fetch the keys of " + serverName + ": interrupted");
        }
    }

    /**
     * Starts the fetch {@code mine}, listed under way, on a thread of its own, holding {@code slot}
     * (acquired), and interrupted at its deadline; or ends it at once, as busy, when no slot was free
     * ({@code slot} null).
     */
    private void start(String serverName, String keyId, long minimumValidUntilTs, Fetch mine, Semaphore slot) {
        if (slot == null) {
            ended(serverName, mine, new KeyFetchBusyException("Too many servers' keys are being fetched at once; try again shortly"));
            return;
        }
        Thread fetcher;
        try {
            fetcher = Thread.ofVirtual().name("key-fetch").start(() -> fetchInto(mine, slot, serverName, keyId, minimumValidUntilTs));
        } catch (RuntimeException | Error cannotStart) {
            slot.release();
            ended(serverName, mine, cannotStart);
            return;
        }
        long deadline = mine.deadline() - System.nanoTime();
        CompletableFuture.delayedExecutor(deadline, TimeUnit.NANOSECONDS, Runnable::run).execute(() -> {
            if (!mine.done().isDone()) {
                fetcher.interrupt();
            }
        });
    }

    /** The fetch, no longer listed as under way, ended with {@code failure}: a lookup that found it meanwhile hears the same. */
    private void ended(String serverName, Fetch fetch, Throwable failure) {
        fetching.remove(serverName, fetch);
        fetch.done().completeExceptionally(failure);
    }

    /**
     * One fetch, on its own thread: its keys cached, or the back-off started; then it says which,
     * once it is no longer listed as under way (a lookup it wakes may need the next one).
     */
    private void fetchInto(Fetch fetch, Semaphore slot, String serverName, String keyId, long minimumValidUntilTs) {
        Throwable failure = null;
        try {
            Map<String, CachedKey> keys = fetch(serverName, keyId, minimumValidUntilTs);
            cache.put(serverName, new Published(kept(keys, keyId), clock.millis()));
            backoffs.remove(serverName);
            refreshBackoffs.remove(serverName);
        } catch (RuntimeException | Error failed) {
            // an Error too (the heap ran out): the lookups waiting for it must hear, not wait out the deadline
            backOff(fetch.refresh() ? refreshBackoffs : backoffs, serverName);
            failure = failed;
        } finally {
            fetching.remove(serverName, fetch);
            slot.release();
        }
        if (failure == null) {
            fetch.done().complete(null);
        } else {
            fetch.done().completeExceptionally(failure);
        }
    }

    /** At most {@link #MAX_KEYS_PER_SERVER} of {@code keys}: {@code keyId}, then those valid longest. */
    private static Map<String, CachedKey> kept(Map<String, CachedKey> keys, String keyId) {
        if (keys.size() <= MAX_KEYS_PER_SERVER) {
            return Map.copyOf(keys);
        }
        Map<String, CachedKey> kept = new HashMap<>();
        Optional.ofNullable(keys.get(keyId)).ifPresent(key -> kept.put(keyId, key));
        keys.entrySet().stream().sorted(Map.Entry.comparingByValue(Comparator.comparingLong(CachedKey::validUntilTs).reversed()))
                .takeWhile(entry -> kept.size() < MAX_KEYS_PER_SERVER)
                .forEach(entry -> kept.putIfAbsent(entry.getKey(), entry.getValue()));
        return Map.copyOf(kept);
    }

    /**
     * {@code serverName}'s keys from the server itself and, unless they include {@code keyId} valid
     * until {@code minimumValidUntilTs}, from each notary in turn until one delivers it.
     *
     * @throws UnauthorizedException the origin's failure, when it failed and no notary delivered the key
     */
    private Map<String, CachedKey> fetch(String serverName, String keyId, long minimumValidUntilTs) {
        Map<String, CachedKey> keys = new HashMap<>();
        UnauthorizedException originFailure = null;
        try {
            keys.putAll(fromOrigin(serverName));
        } catch (UnauthorizedException failed) {
            originFailure = failed;
        }
        for (Notary notary : settings.notaries()) {
            if (includes(keys, keyId, minimumValidUntilTs)) {
                break;
            }
            addLongestValid(keys, fromNotary(notary, serverName, keyId, minimumValidUntilTs));
        }
        if (originFailure != null && !includes(keys, keyId, minimumValidUntilTs)) {
            throw originFailure;
        }
        return keys;
    }

    private Map<String, CachedKey> fromOrigin(String serverName) {
        long now = clock.millis();
        try {
            Target target = target(serverName);
            HttpRequest.Builder request = HttpRequest.newBuilder(target.base().resolve(KEYS_PATH)).GET();
            return parseKeys(serverName, askJson(serverName, target, request).body(), now);
        } catch (IOException | JacksonException | IllegalArgumentException | UnauthorizedException failed) {
            log.debug("Could not fetch the keys of {}: {}", serverName, detail(failed));
            throw new UnauthorizedException("Could not fetch the keys of " + serverName, failed);
        }
    }

    /**
     * The keys of {@code serverName} that {@code notary} vouches for when asked for {@code keyId}
     * ({@code POST /_matrix/key/v2/query}); none when it fails, answers nothing, or any key object of
     * its answer names another server, lacks a valid signature by one of the notary's configured keys
     * (each of its signatures by one of them must verify, as Synapse 1.67's {@code
     * _validate_perspectives_response} has it) or is not self-signed by the origin as {@link
     * #parseKeys} requires.
     */
    private Map<String, CachedKey> fromNotary(Notary notary, String serverName, String keyId, long minimumValidUntilTs) {
        long now = clock.millis();
        ObjectNode query = Json.MAPPER.createObjectNode();
        query.putObject("server_keys").putObject(serverName).putObject(keyId)
                .put("minimum_valid_until_ts", minimumValidUntilTs);
        Map<String, CachedKey> keys = new HashMap<>();
        try {
            Target target = target(notary.serverName());
            HttpRequest.Builder request = HttpRequest.newBuilder(target.base().resolve(QUERY_PATH))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(query)));
            JsonNode keyObjects = askJson(notary.serverName(), target, request).body().path("server_keys");
            for (JsonNode keyObject : keyObjects.isArray() ? keyObjects : List.<JsonNode>of()) {
                requireNotarySignature(notary, keyObject);
                addLongestValid(keys, parseKeys(serverName, keyObject, now));
            }
        } catch (IOException | JacksonException | IllegalArgumentException | UnauthorizedException unusable) {
            log.debug("Notary {} gave no keys of {}: {}", notary.serverName(), serverName, detail(unusable));
            return Map.of();
        }
        return keys;
    }

    /** Adds {@code more} to {@code keys}, keeping of two answers for one key ID the one valid longer. */
    private static void addLongestValid(Map<String, CachedKey> keys, Map<String, CachedKey> more) {
        more.forEach((keyId, key) -> keys.merge(keyId, key,
                (one, other) -> one.validUntilTs() >= other.validUntilTs() ? one : other));
    }

    private static void requireNotarySignature(Notary notary, JsonNode keyObject) {
        List<String> signedBy = keyObject.path("signatures").path(notary.serverName()).propertyNames().stream()
                .filter(notary.verifyKeys()::containsKey).toList();
        if (signedBy.isEmpty() || !signedBy.stream().allMatch(keyId ->
                Ed25519.verifyJson(keyObject, notary.serverName(), keyId, notary.verifyKeys().get(keyId)))) {
            throw new UnauthorizedException("Key object not signed by notary " + notary.serverName());
        }
    }

    /** Where {@code serverName}'s federation API is: as configured, else resolved. */
    private Target target(String serverName) {
        return Optional.ofNullable(settings.addresses().get(serverName)).map(uri -> new Target(uri, uri.getHost(), true))
                .orElseGet(() -> resolve(serverName, this::delegation, srv));
    }

    /**
     * The base URL of a server's federation API, and the host name (or IP literal) its TLS
     * certificate must be valid for: the URL's host, except for an SRV record's target, where it is
     * the name whose record that was.
     *
     * @param configured whether the admin listed the URL ({@link Settings#addresses}), which exempts
     *                   it from the blocklist; else it was resolved from what a caller named
     */
    record Target(URI base, String tlsName, boolean configured) {
        Target(String host, int port) {
            this(URI.create("https://" + host + ":" + port), host, false);
        }
    }

    /** An exception and its causes, for the log: it may quote what a server answered, so escaped. */
    private static String detail(Throwable failure) {
        StringBuilder detail = new StringBuilder(String.valueOf(failure));
        for (Throwable cause = failure.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            detail.append("; caused by ").append(cause);
        }
        return LogText.escaped(detail.toString());
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
            // an old key is capped like a current one: an expired_ts far ahead would otherwise keep it for years
            response.path("old_verify_keys").properties().forEach(entry ->
                    keys.put(entry.getKey(), new CachedKey(Ed25519.decodeKey(entry.getValue().path("key").asString()),
                            Math.min(entry.getValue().path("expired_ts").asLong(0), fetchedAt + MAX_VALIDITY.toMillis()))));
        } catch (IllegalArgumentException | JacksonException malformed) {
            throw new UnauthorizedException("Malformed key response for " + serverName + ": " + malformed.getMessage(), malformed);
        }
        keys.keySet().removeIf(keyId -> !keyId.startsWith("ed25519:"));
        return keys;
    }

    /**
     * The spec's server name resolution: the base URL of {@code serverName}'s federation API, asking
     * {@code wellKnown} (host name → delegated server name) only when the name is neither an IP literal
     * nor has a port, and {@code srv} (DNS name → SRV records) only when neither it nor the delegated
     * name is an IP literal or has a port.
     */
    static Target resolve(String serverName, Function<String, Optional<String>> wellKnown,
                          Function<String, List<Srv>> srv) {
        Matcher name = hostAndPort(serverName);
        return explicit(name).orElseGet(() -> {
            Optional<Matcher> delegated = wellKnown.apply(name.group(1)).map(ServerKeys::hostAndPort);
            return delegated.flatMap(ServerKeys::explicit)
                    .orElseGet(() -> viaSrv(delegated.orElse(name).group(1), srv));
        });
    }

    /** The base URL of an IP literal or a name with a port, which need no looking up. */
    private static Optional<Target> explicit(Matcher hostAndPort) {
        String host = hostAndPort.group(1);
        if (!MatrixIds.isIpLiteral(host) && hostAndPort.group(2) == null) {
            return Optional.empty();
        }
        int port = hostAndPort.group(2) == null ? DEFAULT_PORT : Integer.parseInt(hostAndPort.group(2));
        return Optional.of(new Target(host, port));
    }

    /**
     * The target of {@code _matrix-fed._tcp.<host>}'s SRV record, else of the deprecated {@code
     * _matrix._tcp.<host>}'s, else {@code host} at port 8448. Of several records, the one with the
     * lowest priority and, among those, the highest weight (RFC 2782 would choose at random, by weight).
     */
    private static Target viaSrv(String host, Function<String, List<Srv>> srv) {
        return Stream.of("_matrix-fed._tcp.", "_matrix._tcp.")
                .flatMap(service -> srv.apply(service + host).stream()
                        .filter(record -> SRV_TARGET.matcher(record.target()).matches())
                        .min(Comparator.comparingInt(Srv::priority).thenComparing(Srv::weight, Comparator.reverseOrder()))
                        .stream())
                .findFirst()
                .map(record -> new Target(URI.create("https://" + record.target().replaceFirst("\\.$", "") + ":"
                        + record.port()), host, false))
                .orElseGet(() -> new Target(host, DEFAULT_PORT));
    }

    /** An SRV record's answer (RFC 2782): {@code target} at {@code port}. */
    record Srv(int priority, int weight, int port, String target) {
    }

    /**
     * The SRV records of {@code name} from DNS, by the JDK's JNDI DNS provider; none when there are
     * none or the lookup fails or times out.
     */
    static List<Srv> dnsSrv(String name, Duration timeout) {
        Hashtable<String, String> environment = new Hashtable<>();
        environment.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        environment.put("com.sun.jndi.dns.timeout.initial", Long.toString(Math.max(1, timeout.toMillis())));
        environment.put("com.sun.jndi.dns.timeout.retries", "1");
        DirContext dns = null;
        try {
            dns = new InitialDirContext(environment);
            Attribute records = dns.getAttributes(name, new String[] {"SRV"}).get("SRV");
            List<Srv> found = new ArrayList<>();
            for (NamingEnumeration<?> values = records == null ? null : records.getAll();
                 values != null && values.hasMore(); ) {
                String[] fields = values.next().toString().trim().split("\\s+");
                if (fields.length == 4) {
                    found.add(new Srv(Integer.parseInt(fields[0]), Integer.parseInt(fields[1]),
                            Integer.parseInt(fields[2]), fields[3]));
                }
            }
            return found;
        } catch (NamingException | NumberFormatException noRecords) {
            return List.of();
        } finally {
            closeQuietly(dns);
        }
    }

    private static void closeQuietly(DirContext context) {
        if (context != null) {
            try {
                context.close();
            } catch (NamingException ignored) {
                // nothing to do
            }
        }
    }

    private static Matcher hostAndPort(String serverName) {
        Matcher matcher = HOST_AND_PORT.matcher(serverName);
        if (!matcher.matches()) {
            throw new UnauthorizedException("Not a server name: " + serverName);
        }
        return matcher;
    }

    /** The server name {@code host} delegates to, from the cache or else from its well-known answer. */
    private Optional<String> delegation(String host) {
        long now = clock.millis();
        Delegation cached = delegations.get(host);
        if (cached == null || now >= cached.expiresAt()) {
            cached = wellKnown(host, now);
            delegations.put(host, cached);
        }
        return cached.serverName();
    }

    /**
     * The {@code m.server} of {@code https://<host>/.well-known/matrix/server}, kept for the answer's
     * max-age (capped) or the default; no or a bad answer is kept for {@link #WELL_KNOWN_ERROR_CACHE}.
     */
    private Delegation wellKnown(String host, long now) {
        try {
            JsonAnswer answer = askWellKnown(host);
            String delegated = answer.body().path("m.server").asString(null);
            if (delegated != null && HOST_AND_PORT.matcher(delegated).matches()) {
                return new Delegation(Optional.of(delegated), now + cacheTime(answer.headers()).toMillis());
            }
        } catch (IOException | JacksonException | IllegalArgumentException | UnauthorizedException noDelegation) {
            if (Thread.currentThread().isInterrupted()) {
                // the fetch's deadline, not the host's answer: nothing to remember for an hour
                throw new UnauthorizedException("Fetch deadline reached asking " + host + " for its well-known answer", noDelegation);
            }
            log.debug("No delegation from the well-known answer of {}: {}", host, detail(noDelegation));
        }
        return new Delegation(Optional.empty(), now + WELL_KNOWN_ERROR_CACHE.toMillis());
    }

    /** How long a well-known answer is kept: its {@code Cache-Control} max-age, capped, else the default. */
    static Duration cacheTime(HttpHeaders headers) {
        return headers.allValues("Cache-Control").stream().map(MAX_AGE::matcher).filter(Matcher::find).findFirst()
                .map(maxAge -> Duration.ofSeconds(Long.parseLong(maxAge.group(1))))
                .map(maxAge -> atMost(WELL_KNOWN_MAX_CACHE, maxAge))
                .orElse(WELL_KNOWN_DEFAULT_CACHE);
    }

    /**
     * The well-known answer of {@code host}, following at most {@link #MAX_WELL_KNOWN_REDIRECTS}
     * redirects, each to the scheme asked first (never from https to http) and each host checked
     * against the blocklist; the certificate must be valid for each hop's host.
     */
    private JsonAnswer askWellKnown(String host) throws IOException {
        URI uri = wellKnownUri.apply(host);
        String tlsName = host;
        for (int redirects = 0; ; redirects++) {
            HttpResponse<InputStream> response = exchange(host, tlsName, false,
                    HttpRequest.newBuilder(uri).GET().timeout(settings.timeout()).build());
            Optional<String> location = response.headers().firstValue("Location");
            if (!REDIRECTS.contains(response.statusCode()) || location.isEmpty()) {
                return json(uri, response);
            }
            response.body().close();
            URI next = uri.resolve(location.get());
            if (redirects == MAX_WELL_KNOWN_REDIRECTS || !uri.getScheme().equalsIgnoreCase(next.getScheme())) {
                throw new IOException(uri + " redirected to " + next + " (followed: " + redirects + ")");
            }
            uri = next;
            tlsName = next.getHost();
        }
    }

    /**
     * The JSON answer to {@code request}, sent to {@code target}'s server {@code serverName}, whose TLS
     * certificate must be valid for the target's TLS name unless the server name is listed as self-signed.
     */
    private JsonAnswer askJson(String serverName, Target target, HttpRequest.Builder builder) throws IOException {
        HttpRequest request = builder.timeout(settings.timeout()).build();
        return json(request.uri(), exchange(serverName, target.tlsName(), target.configured(), request));
    }

    /**
     * Sends {@code request}, unless its host was resolved from what a caller named ({@code
     * configured} false) and one of its addresses is blocked. Redirects are answers like any other.
     */
    private HttpResponse<InputStream> exchange(String serverName, String tlsName, boolean configured, HttpRequest request)
            throws IOException {
        URI uri = request.uri();
        if (!configured) {
            requireNoBlockedAddress(uri);
        }
        HttpClient client = client(serverName, uri, tlsName);
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while asking " + uri, interrupted);
        }
    }

    /**
     * Refuses a URL whose host has any address the settings block, resolving it here: every address,
     * since the JDK's client may connect to any of them.
     */
    private void requireNoBlockedAddress(URI uri) throws IOException {
        String host = uri.getHost();
        if (host == null) {
            throw new IOException("No host name in " + uri);
        }
        for (InetAddress address : InetAddress.getAllByName(host)) {
            if (settings.blocks(address)) {
                throw new IOException(host + " resolves to " + address.getHostAddress()
                        + ", which the policy server's ip-range-blocklist blocks");
            }
        }
    }

    /** The JSON of a 200 answer, within the reply cap. */
    private static JsonAnswer json(URI uri, HttpResponse<InputStream> response) throws IOException {
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                throw new IOException(uri + " answered " + response.statusCode());
            }
            byte[] bytes;
            try {
                bytes = MAX_RESPONSE.read(body, response.headers().firstValueAsLong("Content-Length").orElse(-1));
            } catch (ReplyTooLargeException tooLarge) {
                throw new IOException(uri + " answered a " + tooLarge.getMessage(), tooLarge);
            }
            return new JsonAnswer(Json.MAPPER.readTree(bytes), response.headers());
        }
    }

    /**
     * The client for a request to {@code uri} whose certificate must be valid for {@code tlsName}:
     * the one trusting any certificate for a self-signed server name, the JDK's usual checks where
     * {@code tlsName} is the URL's host, else the one (cached) for {@code tlsName}.
     */
    private HttpClient client(String serverName, URI uri, String tlsName) throws IOException {
        if (settings.selfSigned().contains(serverName)) {
            return trustingAnyCertificate;
        }
        if (tlsName.equalsIgnoreCase(uri.getHost())) {
            return verifying;
        }
        try {
            return expectingName.computeIfAbsent(tlsName.toLowerCase(Locale.ROOT),
                    name -> client(settings.timeout(), NamedTls.context(name, trust)));
        } catch (IllegalArgumentException notAHostName) {
            throw new IOException("Cannot ask for a TLS certificate for " + tlsName, notAHostName);
        }
    }

    private static HttpClient client(Duration timeout, SSLContext tls) {
        // Never follows a redirect itself: a server could send us to any address (askWellKnown follows them, checked)
        return HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                .sslContext(tls).build();
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
        return NamedTls.context(anyCertificate);
    }
}
