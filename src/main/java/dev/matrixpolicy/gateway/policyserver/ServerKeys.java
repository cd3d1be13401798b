package dev.matrixpolicy.gateway.policyserver;

import com.github.benmanes.caffeine.cache.Caffeine;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
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
import java.util.function.Function;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Other servers' public keys, fetched ({@link KeyFetcher}: from the server itself, verified, else from
 * notaries) and cached until they expire. Where a server is reached is {@link ServerDiscovery}'s
 * business, and how it is asked {@link FederationClient}'s.
 *
 * <p>A key missing from the cache, or expiring before the time asked for, makes one new fetch, unless
 * the server's keys were fetched less than {@link #REFETCH_AFTER} ago (below). A fetch replaces the
 * cached keys with those it gave, unless it failed.
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
 *   it, nor past its request's {@link KeyWait}, which then hears that the keys are still being
 *   fetched ({@link KeyFetchBusyException}) while the fetch goes on for the next lookup. A
 *   well-known lookup cut off so is not remembered as an answer. Name resolution by the platform
 *   ({@code getaddrinfo}) does not heed an interrupt, so a slow DNS server can keep a fetch past its
 *   deadline, though no lookup waits for it.</li>
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
 * Settings#maxServers} servers. The back-offs and well-known answers drop the least recently used
 * first; the key cache drops the least often used (Caffeine's frequency-aware policy), so that a
 * caller naming thousands of servers of its own once each cannot push out the keys of the
 * homeservers that ask every minute, whose next request would then wait for a fetch, or be refused
 * while those servers' fetches take the slots.
 */
public final class ServerKeys implements KeyLookup {
    private static final Logger log = LoggerFactory.getLogger(ServerKeys.class);
    static final Duration MIN_BACKOFF = Duration.ofMinutes(1);
    /** How long a server's published keys answer for every key ID, those it did not list included. */
    static final Duration REFETCH_AFTER = Duration.ofMinutes(1);
    /** How many fetches run at once: each holds a thread and a connection for up to the fetch deadline. */
    static final int MAX_CONCURRENT_FETCHES = 32;
    /** Of {@link #MAX_CONCURRENT_FETCHES}, how many only servers whose keys were fetched before may take. */
    static final int KNOWN_SERVERS_SLOTS = 8;
    /** How many keys of one server are kept: a server has one current key and a few old ones. */
    static final int MAX_KEYS_PER_SERVER = 16;
    static final Duration MAX_BACKOFF = Duration.ofMinutes(30);
    /** How much longer than the fetch deadline a lookup waits: the interrupted fetch's time to end. */
    private static final Duration DEADLINE_MARGIN = Duration.ofSeconds(1);

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

    /** What a fetch of a server's keys gave, {@code fetchedAt}. */
    private record Published(Map<String, KeyFetcher.ValidKey> keys, long fetchedAt) {
    }

    /** {@code failures} fetches in a row were of no use; the next is not before {@code retryAt}. */
    private record Backoff(int failures, long retryAt) {
    }

    private final Settings settings;
    private final InstantSource clock;
    private final KeyFetcher keyFetcher;
    private final Map<String, Published> cache;
    private final Map<String, Backoff> backoffs;
    /**
     * The back-offs of background refreshes, apart from {@link #backoffs}: a refresh that failed must not
     * refuse the lookup that, once the cached key has expired, would fetch it from a server back up.
     */
    private final Map<String, Backoff> refreshBackoffs;
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

    public ServerKeys(Settings settings, InstantSource clock) {
        this(settings, clock, host -> URI.create("https://" + host + ServerDiscovery.WELL_KNOWN_PATH),
                name -> ServerDiscovery.dnsSrv(name, settings.timeout()), NamedTls.platformTrust());
    }

    /**
     * @param wellKnownUri where a host's well-known answer is asked for (tests serve it over plain HTTP)
     * @param srv          the SRV records of a DNS name ({@code _matrix-fed._tcp.example.org}); none if it has none
     * @param trust        which certificate chains are trusted: the platform's trust manager, an {@link
     *                     X509ExtendedTrustManager} that does endpoint identification too (tests trust their own)
     */
    ServerKeys(Settings settings, InstantSource clock, Function<String, URI> wellKnownUri,
               Function<String, List<ServerDiscovery.Srv>> srv, X509ExtendedTrustManager trust) {
        this.settings = settings;
        this.clock = clock;
        FederationClient http = new FederationClient(settings, trust);
        this.keyFetcher = new KeyFetcher(settings.notaries(),
                new ServerDiscovery(settings, clock, wellKnownUri, srv, http), http, clock);
        this.cache = Caffeine.newBuilder().maximumSize(settings.maxServers()).executor(Runnable::run).<String, Published>build().asMap();
        this.backoffs = LeastRecentlyUsed.map(settings.maxServers(), dropped -> { });
        this.refreshBackoffs = LeastRecentlyUsed.map(settings.maxServers(), dropped -> { });
    }

    /**
     * {@inheritDoc} A server name longer than any Matrix ID may be ({@link MatrixIds#fitsAnId}, 255
     * bytes) has none, and nothing about it is kept: a restricted join names its authorising user's
     * server, whose port Synapse reads padded with any number of zeros, and a back-off kept for each
     * of thousands of such names would keep the 64 KB an event allows, each.
     */
    @Override
    public Optional<byte[]> verifyKey(String serverName, String keyId, long minimumValidUntilTs, KeyWait wait) {
        if (!MatrixIds.fitsAnId(serverName)) {
            throw new UnauthorizedException("A server name longer than any Matrix ID may be (255 bytes) has no keys");
        }
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
        fetchOnce(serverName, keyId, minimumValidUntilTs, wait, true);
        return cached(serverName, keyId, minimumValidUntilTs);
    }

    private Optional<byte[]> cached(String serverName, String keyId, long minimumValidUntilTs) {
        return Optional.ofNullable(cache.get(serverName)).map(Published::keys)
                .filter(keys -> KeyFetcher.includes(keys, keyId, minimumValidUntilTs))
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
        KeyFetcher.ValidKey key = published == null ? null : published.keys().get(keyId);
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

    /**
     * Whether a fetch of the server's keys is under way: once it is not, what the last one found (the
     * keys, or the back-off) is taken in. Tests wait on it.
     */
    boolean fetchUnderWay(String serverName) {
        return fetching.containsKey(serverName);
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
     * interrupted at its deadline, so no lookup waits longer than that (and {@link #DEADLINE_MARGIN}),
     * nor past the end of {@code wait}: the fetch then goes on, and caches the keys for the next lookup.
     *
     * @param afterRefresh whether a background refresh this lookup waited for and that failed may be followed by a fetch of its own
     * @throws KeyFetchBusyException when {@link #MAX_CONCURRENT_FETCHES} fetches are under way, or
     *                               when {@code wait} ends before the fetch
     */
    private void fetchOnce(String serverName, String keyId, long minimumValidUntilTs, KeyWait wait, boolean afterRefresh) {
        Fetch mine = new Fetch(new CompletableFuture<>(), System.nanoTime() + settings.fetchDeadline().toNanos(), false);
        Fetch running = fetching.putIfAbsent(serverName, mine);
        if (running == null) {
            if (cached(serverName, keyId, minimumValidUntilTs).isPresent()) {
                // a fetch (a background refresh) cached the key between this lookup's look at the cache and now:
                // it ended before this one was listed, so its answer is in the cache, and is not fetched twice
                fetching.remove(serverName, mine);
                mine.done().complete(null);
                return;
            }
            running = mine;
            start(serverName, keyId, minimumValidUntilTs, mine, anyServerSlots.tryAcquire() ? anyServerSlots
                    : cache.containsKey(serverName) && knownServerSlots.tryAcquire() ? knownServerSlots : null);
        }
        long fetchEnds = running.deadline() + DEADLINE_MARGIN.toNanos();
        boolean waitEndsFirst = wait.endsBefore(fetchEnds);
        try {
            running.done().get(Math.max(0, (waitEndsFirst ? wait.until() : fetchEnds) - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException failed) {
            if (running.refresh() && afterRefresh) {
                // a refresh's failure backs off refreshes only: this lookup asks for itself, once
                fetchOnce(serverName, keyId, minimumValidUntilTs, wait, false);
                return;
            }
            throw switch (failed.getCause()) {
                case KeyFetchBusyException busy -> busy;
                case UnauthorizedException refused -> new UnauthorizedException(refused.getMessage(), refused);
                // a bug or a resource gone (logged where it happened): the caller hears no internal detail
                default -> new UnauthorizedException("Could not fetch the keys of " + serverName, failed.getCause());
            };
        } catch (TimeoutException overdue) {
            if (waitEndsFirst) {
                throw new KeyFetchBusyException("The keys of " + serverName + " are still being fetched; try again shortly");
            }
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
            log.error("Could not start a fetch of the keys of {}", serverName, cannotStart);
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
            Map<String, KeyFetcher.ValidKey> keys = keyFetcher.fetch(serverName, keyId, minimumValidUntilTs);
            cache.put(serverName, new Published(kept(keys, keyId), clock.millis()));
            backoffs.remove(serverName);
            refreshBackoffs.remove(serverName);
        } catch (RuntimeException | Error failed) {
            // an Error too (the heap ran out): the lookups waiting for it must hear, not wait out the deadline
            backOff(fetch.refresh() ? refreshBackoffs : backoffs, serverName);
            if (!(failed instanceof UnauthorizedException)) {
                // a refresh's back-off holds refreshes alone: the cached keys serve, and no lookup is refused
                log.error(fetch.refresh()
                        ? "Refreshing the keys of {} failed unexpectedly; its cached keys still serve, and it is refreshed again once its back-off ends"
                        : "Fetching the keys of {} failed unexpectedly; lookups are refused until its back-off ends", serverName, failed);
            }
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
    private static Map<String, KeyFetcher.ValidKey> kept(Map<String, KeyFetcher.ValidKey> keys, String keyId) {
        if (keys.size() <= MAX_KEYS_PER_SERVER) {
            return Map.copyOf(keys);
        }
        Map<String, KeyFetcher.ValidKey> kept = new HashMap<>();
        Optional.ofNullable(keys.get(keyId)).ifPresent(key -> kept.put(keyId, key));
        keys.entrySet().stream().sorted(Map.Entry.comparingByValue(Comparator.comparingLong(KeyFetcher.ValidKey::validUntilTs).reversed()))
                .takeWhile(entry -> kept.size() < MAX_KEYS_PER_SERVER)
                .forEach(entry -> kept.putIfAbsent(entry.getKey(), entry.getValue()));
        return Map.copyOf(kept);
    }
}
