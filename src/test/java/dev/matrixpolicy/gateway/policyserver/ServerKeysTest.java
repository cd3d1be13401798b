package dev.matrixpolicy.gateway.policyserver;

import static dev.matrixpolicy.gateway.policyserver.KeyWaits.UNHURRIED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.matrixpolicy.gateway.support.Commands;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

class ServerKeysTest {
    private static final PolicyServerKey KEY = RequestAuthenticatorTest.ORIGIN_KEY;
    private static final PolicyServerKey OLD_KEY = PolicyServerKey.fromSeed(new byte[32]);
    private static final String NAME = "hs.example";
    private static final long NOW = 1_700_000_000_000L;
    private static final PolicyServerKey NOTARY_KEY = PolicyServerKey.fromSeed(new byte[] {
            7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
    private static final String NOTARY_KEY_ID = "ed25519:notary";
    /** The product's default: the servers these tests configure by address are exempt from it. */
    private static final IpRanges SYNAPSE_BLOCKLIST = IpRanges.of(IpRanges.SYNAPSE_BLOCKLIST);

    @RegisterExtension
    final LoggedLines logged = LoggedLines.of(ServerKeys.class, Level.WARN);

    private final AtomicLong now = new AtomicLong(NOW);
    private final AtomicInteger fetches = new AtomicInteger();
    private volatile UnaryOperator<ObjectNode> tamper = UnaryOperator.identity();
    private volatile boolean failing;
    private volatile CountDownLatch answering = new CountDownLatch(0);
    private HttpServer server;
    /** Servers besides {@link #server} (notaries, HTTPS ones), stopped after each test. */
    private final List<HttpServer> notaryServers = new ArrayList<>();
    private final Map<String, URI> addresses = new HashMap<>();
    /** Each query a notary got: its name, then the request body. */
    private final List<String> notaryQueries = new CopyOnWriteArrayList<>();
    private URI base;
    private ServerKeys keys;

    @BeforeEach
    void serveKeys() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        serve(this::keyResponse);
        server.start();
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(NAME, base), Set.of(), List.of(), 2, Duration.ofSeconds(5),
                SYNAPSE_BLOCKLIST, IpRanges.NONE),
                () -> Instant.ofEpochMilli(now.get()));
    }

    private void serve(Supplier<ObjectNode> response) {
        server.createContext(KeyFetcher.KEYS_PATH, exchange -> {
            fetches.incrementAndGet();
            awaitQuietly(answering);
            if (failing) {
                exchange.sendResponseHeaders(500, -1);
                exchange.close();
                return;
            }
            byte[] body = Json.MAPPER.writeValueAsBytes(response.get());
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
    }

    private static void awaitQuietly(CountDownLatch latch) {
        awaitQuietly(latch, 5_000);
    }

    @AfterEach
    void stop() {
        server.stop(0);
        notaryServers.forEach(notary -> notary.stop(0));
    }

    /** What a homeserver answers: one current key valid for an hour, one old key, self-signed. */
    private ObjectNode keyResponse() {
        return keyResponse(tamper);
    }

    private static ObjectNode keyResponse(UnaryOperator<ObjectNode> tamper) {
        return keyResponse(NAME, tamper);
    }

    private static ObjectNode keyResponse(String serverName, UnaryOperator<ObjectNode> tamper) {
        ObjectNode response = Json.MAPPER.createObjectNode().put("server_name", serverName)
                .put("valid_until_ts", NOW + 3_600_000);
        response.putObject("verify_keys").putObject("ed25519:a_new").put("key", KEY.publicKeyBase64());
        response.putObject("old_verify_keys").putObject("ed25519:a_old").put("key", OLD_KEY.publicKeyBase64())
                .put("expired_ts", NOW + 60_000);
        response = tamper.apply(response);
        String signature = KEY.sign(CanonicalJson.encode(response));
        response.putObject("signatures").putObject(serverName).put("ed25519:a_new", signature);
        return response;
    }

    private Optional<byte[]> lookup(String keyId) {
        return keys.verifyKey(NAME, keyId, now.get(), UNHURRIED);
    }

    @Test
    void aSelfSignedResponseGivesItsCurrentAndOldKeysAndIsFetchedOnce() {
        assertThat(lookup("ed25519:a_new")).hasValue(RequestAuthenticatorTest.raw(KEY));
        assertThat(lookup("ed25519:a_old")).hasValue(RequestAuthenticatorTest.raw(OLD_KEY));
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(fetches).hasValue(1);
    }

    @Test
    void anExpiredKeyIsFetchedAgainAndRefusedWhenTheServerStillListsItAsExpired() {
        assertThat(lookup("ed25519:a_old")).isPresent();
        now.addAndGet(120_000); // the old key expired; the current one is still valid
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(fetches).hasValue(1);
        assertThat(lookup("ed25519:a_old")).isEmpty();
        assertThat(fetches).hasValue(2);
        now.addAndGet(3_600_000); // past valid_until_ts: a new fetch, whose answer is already stale too
        assertThat(lookup("ed25519:a_new")).isEmpty();
        assertThat(fetches).hasValue(3);
    }

    @Test
    void aKeyInTheLastQuarterOfItsValidityIsServedAtOnceAndFetchedAgainInTheBackground() throws InterruptedException {
        assertThat(lookup("ed25519:a_new")).isPresent(); // valid for an hour
        now.addAndGet(Duration.ofMinutes(44).toMillis());
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(fetches).as("under three quarters of its hour: not fetched again").hasValue(1);

        now.addAndGet(Duration.ofMinutes(2).toMillis());
        tamper = response -> response.put("valid_until_ts", now.get() + 3_600_000); // its next answer: another hour
        answering = new CountDownLatch(1); // the server takes its time
        try {
            long start = System.nanoTime();
            assertThat(lookup("ed25519:a_new")).hasValue(RequestAuthenticatorTest.raw(KEY));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("not waiting for the fetch").isLessThan(Duration.ofSeconds(3));
            awaitUntil(() -> fetches.get() == 2);
            assertThat(lookup("ed25519:a_new")).as("one fetch at a time").isPresent();
        } finally {
            answering.countDown();
        }
        awaitUntil(() -> keys.verifyKey(NAME, "ed25519:a_new", now.get() + Duration.ofMinutes(30).toMillis(), UNHURRIED).isPresent());
        assertThat(fetches).as("the new answer is cached").hasValue(2);
    }

    @Test
    void aBackgroundFetchThatFailsBacksOffAndTheCachedKeyIsStillServed() throws InterruptedException {
        assertThat(lookup("ed25519:a_new")).isPresent();
        failing = true;
        now.addAndGet(Duration.ofMinutes(50).toMillis());
        assertThat(lookup("ed25519:a_new")).isPresent();
        awaitUntil(() -> fetches.get() == 2 && !keys.fetchUnderWay(NAME));

        now.addAndGet(Duration.ofSeconds(30).toMillis()); // within the back-off
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(keys.fetchUnderWay(NAME)).as("not fetched again during the back-off").isFalse();
        assertThat(fetches).hasValue(2);
    }

    @Test
    void validUntilIsCappedAtSevenDaysAfterTheFetch() {
        tamper = response -> response.put("valid_until_ts", NOW + Duration.ofDays(365).toMillis());
        assertThat(keys.verifyKey(NAME, "ed25519:a_new", NOW + KeyFetcher.MAX_VALIDITY.toMillis(), UNHURRIED)).isPresent();
        assertThat(keys.verifyKey(NAME, "ed25519:a_new", NOW + KeyFetcher.MAX_VALIDITY.toMillis() + 1, UNHURRIED)).isEmpty();
    }

    @Test
    void anUnknownKeyIdIsEmpty() {
        assertThat(lookup("ed25519:other")).isEmpty();
    }

    @Test
    void aResponseWithABadSelfSignatureIsRefused() {
        server.removeContext(KeyFetcher.KEYS_PATH);
        serve(() -> keyResponse().put("valid_until_ts", NOW + 999_999_999)); // changed after signing
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of " + NAME).hasStackTraceContaining("bad signature");
    }

    @Test
    void aResponseForAnotherServerOrSignedByAnUnlistedKeyIsRefused() {
        tamper = response -> response.put("server_name", "evil.example");
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of " + NAME).hasStackTraceContaining("names server");
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis()); // past the back-off the refusal started
        tamper = response -> {
            response.remove("verify_keys");
            return response;
        };
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of " + NAME).hasStackTraceContaining("not signed by a key it lists");
    }

    @Test
    void anUnreachableServerIsUnauthorized() {
        server.stop(0);
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("Could not fetch the keys of " + NAME);
    }

    @Test
    void aKeyAnswerOverSixtyFourKilobytesIsRefusedByTheReplyCap() {
        tamper = response -> response.put("padding", "x".repeat(64 * 1024));
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of " + NAME)
                .hasStackTraceContaining(" answered a reply larger than the key-fetch reply limit 64KB");
    }

    @Test
    void aServerWhoseFetchFailedIsNotAskedAgainWithinTheBackoffAndIsAfterIt() {
        failing = true;
        assertThatThrownBy(() -> lookup("ed25519:a_new")).hasMessageContaining("Could not fetch the keys of " + NAME);
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis() - 1);
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch key ed25519:a_new of " + NAME + "; its keys will be fetched again at "
                        + Instant.ofEpochMilli(NOW + ServerKeys.MIN_BACKOFF.toMillis()));
        assertThat(fetches).hasValue(1);
        now.addAndGet(1);
        failing = false;
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(fetches).hasValue(2);
    }

    @Test
    void theBackoffDoublesWithEachFailedFetchAndASuccessEndsIt() {
        failing = true;
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class);
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis());
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class);
        assertThat(fetches).hasValue(2);
        now.addAndGet(2 * ServerKeys.MIN_BACKOFF.toMillis() - 1); // the second failure waits twice as long
        assertThatThrownBy(() -> lookup("ed25519:a_new")).hasMessageContaining("will be fetched again");
        assertThat(fetches).hasValue(2);
        now.addAndGet(1);
        failing = false;
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(fetches).hasValue(3);
        failing = true;
        now.addAndGet(KeyFetcher.MAX_VALIDITY.toMillis()); // the cached keys expired
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class);
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis()); // counting starts again after the success
        assertThatThrownBy(() -> lookup("ed25519:a_new")).hasMessageContaining("Could not fetch the keys of");
        assertThat(fetches).hasValue(5);
    }

    @Test
    void keyIdsTheServerDidNotPublishAMomentAgoAreNotFetchedAgainAndNeverHoldItsRealKeysBack() {
        assertThat(lookup("ed25519:unknown")).isEmpty();
        assertThat(lookup("ed25519:another")).isEmpty();
        assertThat(lookup("ed25519:a_new")).as("cached keys are still served").isPresent();
        assertThat(fetches).hasValue(1);
        now.addAndGet(ServerKeys.REFETCH_AFTER.toMillis());
        assertThat(lookup("ed25519:unknown")).isEmpty();
        assertThat(fetches).as("at most one fetch a minute for key IDs that do not exist").hasValue(2);

        // A caller naming a key ID that does not exist once a minute, past the server's real keys' expiry:
        // every such fetch brings the real keys too, and none starts a back-off that would refuse them.
        tamper = response -> response.put("valid_until_ts", now.get() + 3_600_000);
        now.addAndGet(3_600_000);
        assertThat(lookup("ed25519:nope")).isEmpty();
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(fetches).hasValue(3);
    }

    @Test
    void aReplyThatStopsComingIsCutOffAtTheFetchDeadlineAndTheServerBacksOff() throws IOException {
        HttpServer stalling = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        notaryServers.add(stalling);
        CountDownLatch released = new CountDownLatch(1);
        stalling.createContext(KeyFetcher.KEYS_PATH, exchange -> {
            exchange.sendResponseHeaders(200, 1_000);
            exchange.getResponseBody().write("{\"ser".getBytes());
            exchange.getResponseBody().flush();
            awaitQuietly(released); // and never the rest
            exchange.close();
        });
        stalling.start();
        Duration timeout = Duration.ofMillis(300);
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(NAME, URI.create("http://127.0.0.1:" + stalling.getAddress().getPort())),
                Set.of(), List.of(), 2, timeout, SYNAPSE_BLOCKLIST, IpRanges.NONE), () -> Instant.ofEpochMilli(now.get()));

        long started = System.nanoTime();
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of " + NAME);
        released.countDown();

        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the fetch deadline, twice the timeout, and a margin")
                .isLessThan(Duration.ofSeconds(3));
        assertThatThrownBy(() -> lookup("ed25519:a_new")).hasMessageContaining("will be fetched again");
    }

    @Test
    void pastTheFetchesAllowedAtOnceALookupThatNeedsAnotherIsRefusedAsBusy() throws InterruptedException, IOException {
        CountDownLatch released = new CountDownLatch(1);
        AtomicInteger asked = new AtomicInteger();
        URI slow = failingWhenReleased(released, asked);
        for (int i = 0; i < ServerKeys.MAX_CONCURRENT_FETCHES - ServerKeys.KNOWN_SERVERS_SLOTS + 1; i++) {
            addresses.put("hs" + i + ".example", slow);
        }
        keys = new ServerKeys(new ServerKeys.Settings(addresses, Set.of(), List.of(), 100, Duration.ofSeconds(5),
                SYNAPSE_BLOCKLIST, IpRanges.NONE), () -> Instant.ofEpochMilli(now.get()));
        List<Thread> waiting = new ArrayList<>();
        for (int i = 0; i < ServerKeys.MAX_CONCURRENT_FETCHES - ServerKeys.KNOWN_SERVERS_SLOTS; i++) {
            String name = "hs" + i + ".example";
            waiting.add(Thread.ofVirtual().start(() -> catchQuietly(() -> keys.verifyKey(name, "ed25519:a_new", NOW, UNHURRIED))));
        }
        awaitUntil(() -> asked.get() == ServerKeys.MAX_CONCURRENT_FETCHES - ServerKeys.KNOWN_SERVERS_SLOTS);

        String lastName = "hs" + (ServerKeys.MAX_CONCURRENT_FETCHES - ServerKeys.KNOWN_SERVERS_SLOTS) + ".example";
        assertThatThrownBy(() -> keys.verifyKey(lastName, "ed25519:a_new", NOW, UNHURRIED)).isInstanceOf(KeyFetchBusyException.class)
                .hasMessageContaining("Too many servers' keys are being fetched at once");
        released.countDown();
        for (Thread thread : waiting) {
            thread.join(5_000);
        }
        assertThatThrownBy(() -> keys.verifyKey(lastName, "ed25519:a_new", NOW, UNHURRIED)).as("a slot is free again")
                .isInstanceOf(UnauthorizedException.class).hasMessageContaining("Could not fetch the keys of " + lastName);
    }

    @Test
    void serversNamedOnceEachPastTheCachesSizeDoNotPushOutTheKeysOfServersThatAskOften() throws IOException {
        // one key server for all: each name reached at its own loopback address, which the Host header names
        HttpServer many = HttpServer.create(new InetSocketAddress(0), 0);
        notaryServers.add(many);
        Map<String, String> namesByHost = new ConcurrentHashMap<>();
        List<String> fetched = new CopyOnWriteArrayList<>();
        many.createContext(KeyFetcher.KEYS_PATH, exchange -> {
            String name = namesByHost.get(exchange.getRequestHeaders().getFirst("Host"));
            fetched.add(name);
            byte[] body = Json.MAPPER.writeValueAsBytes(keyResponse(name, UnaryOperator.identity()));
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        many.start();
        List<String> regular = IntStream.range(0, 30).mapToObj(i -> "regular" + i + ".example").toList();
        List<String> once = IntStream.range(0, 300).mapToObj(i -> "once" + i + ".example").toList();
        List<String> names = Stream.concat(regular.stream(), once.stream()).toList();
        for (int i = 0; i < names.size(); i++) {
            String host = "127.0." + (1 + i / 250) + "." + (1 + i % 250) + ":" + many.getAddress().getPort();
            namesByHost.put(host, names.get(i));
            addresses.put(names.get(i), URI.create("http://" + host));
        }
        keys = new ServerKeys(new ServerKeys.Settings(addresses, Set.of(), List.of(), 50, Duration.ofSeconds(5),
                SYNAPSE_BLOCKLIST, IpRanges.NONE), () -> Instant.ofEpochMilli(now.get()));

        for (int round = 0; round < 10; round++) { // the homeservers of the rooms served, asking all day
            regular.forEach(name -> assertThat(keys.verifyKey(name, "ed25519:a_new", NOW, UNHURRIED)).isPresent());
        }
        once.forEach(name -> assertThat(keys.verifyKey(name, "ed25519:a_new", NOW, UNHURRIED)).isPresent()); // one caller's made-up names
        regular.forEach(name -> assertThat(keys.verifyKey(name, "ed25519:a_new", NOW, UNHURRIED)).isPresent());

        // all 30 fetched again, were the least recently used first out; Caffeine's small admission window
        // (the most recent entries, at least one) may lose a regular server to the made-up names
        assertThat(fetched.stream().filter(regular::contains).count()).as("regular servers' fetches").isBetween(30L, 32L);
    }

    @Test
    void backgroundFetchesThatFailedDoNotKeepALookupOfTheExpiredKeyFromFetchingItOnceTheServerIsBack() throws InterruptedException {
        assertThat(lookup("ed25519:a_new")).isPresent(); // valid for an hour
        failing = true;
        // each past the back-off of the one before (1, 2, then 4 minutes): the last backs off for 8
        for (Duration at : List.of(Duration.ofMinutes(50), Duration.ofMinutes(52), Duration.ofMinutes(55), Duration.ofSeconds(3570))) {
            now.set(NOW + at.toMillis());
            int before = fetches.get();
            assertThat(lookup("ed25519:a_new")).isPresent();
            awaitUntil(() -> fetches.get() > before && !keys.fetchUnderWay(NAME)); // its failure taken in
        }
        failing = false;
        tamper = response -> response.put("valid_until_ts", now.get() + 3_600_000);
        now.set(NOW + Duration.ofSeconds(3630).toMillis()); // expired, and the refreshes' back-off runs until 67:30

        assertThat(lookup("ed25519:a_new")).as("fetched at once from the server, back up").hasValue(RequestAuthenticatorTest.raw(KEY));
    }

    @Test
    void anAgingKeyIsNotFetchedAgainWhileHalfTheSlotsForAnyServerAreTaken() throws InterruptedException, IOException {
        CountDownLatch released = new CountDownLatch(1);
        AtomicInteger asked = new AtomicInteger();
        URI slow = failingWhenReleased(released, asked);
        int half = (ServerKeys.MAX_CONCURRENT_FETCHES - ServerKeys.KNOWN_SERVERS_SLOTS) / 2;
        for (int i = 0; i < half; i++) {
            addresses.put("busy" + i + ".example", slow);
        }
        addresses.put(NAME, base);
        keys = new ServerKeys(new ServerKeys.Settings(addresses, Set.of(), List.of(), 100, Duration.ofSeconds(5),
                SYNAPSE_BLOCKLIST, IpRanges.NONE), () -> Instant.ofEpochMilli(now.get()));
        assertThat(lookup("ed25519:a_new")).isPresent();
        List<Thread> waiting = new ArrayList<>();
        for (int i = 0; i < half; i++) {
            String name = "busy" + i + ".example";
            waiting.add(Thread.ofVirtual().start(() -> catchQuietly(() -> keys.verifyKey(name, "ed25519:a_new", NOW, UNHURRIED))));
        }
        awaitUntil(() -> asked.get() == half);

        now.addAndGet(Duration.ofMinutes(50).toMillis());
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(keys.fetchUnderWay(NAME)).as("lookups that wait for fetches come first").isFalse();
        assertThat(fetches).hasValue(1);

        released.countDown();
        for (Thread thread : waiting) {
            thread.join(5_000);
        }
        assertThat(lookup("ed25519:a_new")).isPresent();
        awaitUntil(() -> fetches.get() == 2);
    }

    @Test
    void slotsKeptForServersFetchedBeforeLetThemInWhileNewServersHoldTheRest() throws InterruptedException, IOException {
        CountDownLatch released = new CountDownLatch(1);
        AtomicInteger asked = new AtomicInteger();
        URI slow = failingWhenReleased(released, asked);
        int newServers = ServerKeys.MAX_CONCURRENT_FETCHES - ServerKeys.KNOWN_SERVERS_SLOTS;
        for (int i = 0; i < newServers + 1; i++) {
            addresses.put("new" + i + ".example", slow);
        }
        addresses.put(NAME, base);
        keys = new ServerKeys(new ServerKeys.Settings(addresses, Set.of(), List.of(), 100, Duration.ofSeconds(5),
                SYNAPSE_BLOCKLIST, IpRanges.NONE), () -> Instant.ofEpochMilli(now.get()));
        assertThat(lookup("ed25519:a_new")).as("known from now on").isPresent();
        List<Thread> waiting = new ArrayList<>();
        for (int i = 0; i < newServers; i++) {
            String name = "new" + i + ".example";
            waiting.add(Thread.ofVirtual().start(() -> catchQuietly(() -> keys.verifyKey(name, "ed25519:a_new", NOW, UNHURRIED))));
        }
        awaitUntil(() -> asked.get() == newServers);

        assertThatThrownBy(() -> keys.verifyKey("new" + newServers + ".example", "ed25519:a_new", NOW, UNHURRIED))
                .isInstanceOf(KeyFetchBusyException.class);
        now.addAndGet(Duration.ofHours(2).toMillis()); // the known server's keys expired
        tamper = response -> response.put("valid_until_ts", now.get() + 3_600_000);
        assertThat(lookup("ed25519:a_new")).as("fetched in a slot kept for it").isPresent();
        released.countDown();
        for (Thread thread : waiting) {
            thread.join(5_000);
        }
    }

    @Test
    void aWellKnownLookupCutOffByTheFetchDeadlineIsNotRememberedAsAnAnswer() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean slow = new java.util.concurrent.atomic.AtomicBoolean(true);
        HttpServer wellKnown = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        notaryServers.add(wellKnown);
        wellKnown.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        wellKnown.createContext(ServerDiscovery.WELL_KNOWN_PATH, exchange -> {
            asked.incrementAndGet();
            if (slow.get()) { // each redirect within the timeout, all of them past the fetch's deadline
                awaitQuietly(new CountDownLatch(1), 350);
                exchange.getResponseHeaders().add("Location", ServerDiscovery.WELL_KNOWN_PATH + "?" + asked.get());
                exchange.sendResponseHeaders(302, -1);
            } else {
                exchange.sendResponseHeaders(404, -1);
            }
            exchange.close();
        });
        wellKnown.start();
        URI uri = URI.create("http://127.0.0.1:" + wellKnown.getAddress().getPort() + ServerDiscovery.WELL_KNOWN_PATH);
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(), Set.of(), List.of(), 2, Duration.ofMillis(500),
                IpRanges.NONE, IpRanges.NONE), () -> Instant.ofEpochMilli(now.get()), host -> uri, name -> List.of(),
                NamedTls.platformTrust());

        assertThatThrownBy(() -> keys.verifyKey(NAME, "ed25519:a_new", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class);
        int cutOff = asked.get();
        slow.set(false);
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis());
        assertThatThrownBy(() -> keys.verifyKey(NAME, "ed25519:a_new", now.get(), UNHURRIED)).isInstanceOf(UnauthorizedException.class);

        assertThat(cutOff).as("redirects followed before the deadline").isBetween(2, 4);
        assertThat(asked.get()).as("asked again: the lookup cut off was no answer").isGreaterThan(cutOff);
    }

    private static void awaitQuietly(CountDownLatch latch, long millis) {
        try {
            latch.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A key server that answers every request at once (each on a thread of its own), counting it in
     * {@code asked}, with a 500 once {@code released}: its fetches hold their slots until then.
     */
    private URI failingWhenReleased(CountDownLatch released, AtomicInteger asked) throws IOException {
        HttpServer slow = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        notaryServers.add(slow);
        slow.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        slow.createContext(KeyFetcher.KEYS_PATH, exchange -> {
            asked.incrementAndGet();
            awaitQuietly(released);
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
        slow.start();
        return URI.create("http://127.0.0.1:" + slow.getAddress().getPort());
    }

    private static void catchQuietly(Runnable lookup) {
        try {
            lookup.run();
        } catch (UnauthorizedException expected) {
            // the server fails: these lookups only hold their fetch slots
        }
    }

    @Test
    void ofAServerPublishingManyKeysTheKeyAskedForAndThoseValidLongestAreKept() {
        tamper = response -> {
            ObjectNode old = response.withObject("old_verify_keys");
            for (int i = 0; i < 100; i++) {
                old.putObject("ed25519:k" + i).put("key", OLD_KEY.publicKeyBase64()).put("expired_ts", NOW + 60_000 + i);
            }
            return response;
        };
        assertThat(lookup("ed25519:k3")).as("the key asked for").isPresent();
        assertThat(lookup("ed25519:a_new")).as("valid longest").isPresent();
        assertThat(keys.verifyKey(NAME, "ed25519:k99", NOW, UNHURRIED)).isPresent();
        assertThat(keys.verifyKey(NAME, "ed25519:k86", NOW, UNHURRIED)).isPresent();
        assertThat(keys.verifyKey(NAME, "ed25519:k85", NOW, UNHURRIED)).as("sixteen kept: k3, a_new, k86 to k99").isEmpty();
        assertThat(fetches).hasValue(1);
    }

    /**
     * Whoever names a new server in a request has its keys fetched and kept, and the cache holds
     * 10,000 servers: a key ID of any length would let each keep most of the 64 KB its answer may
     * be (15 IDs of 4 KB here), 640 MB in all from servers under one wildcard DNS name.
     */
    @Test
    void aKeyIdLongerThanAnyMatrixIdIsPassedOverNotKept() {
        String longId = "ed25519:" + "k".repeat(4_000);
        tamper = response -> {
            ObjectNode old = response.withObject("old_verify_keys");
            for (int i = 0; i < 15; i++) {
                old.putObject(longId + i).put("key", OLD_KEY.publicKeyBase64()).put("expired_ts", NOW + 60_000);
            }
            old.putObject("ed25519:" + "k".repeat(247)).put("key", OLD_KEY.publicKeyBase64()).put("expired_ts", NOW + 60_000);
            return response;
        };

        assertThat(lookup("ed25519:a_new")).hasValue(RequestAuthenticatorTest.raw(KEY));
        assertThat(lookup("ed25519:" + "k".repeat(247))).as("255 bytes: kept").isPresent();
        assertThat(lookup(longId + 0)).isEmpty();
        assertThat(fetches).hasValue(1);
    }

    /**
     * A restricted join names its authorising user's server, which may carry a port padded with zeros
     * as Synapse reads one, so of any length: such a name has no keys, and nothing about it (a fetch
     * under way, a back-off) is kept, where thousands of them would each keep the 64 KB an event allows.
     */
    @Test
    void aServerNameLongerThanAnyMatrixIdHasNoKeysAndNothingIsKeptAboutIt() {
        String padded = "127.0.0.1:" + "0".repeat(60_000) + "1";

        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> keys.verifyKey(padded, "ed25519:a_new", NOW, UNHURRIED))
                    .isInstanceOf(UnauthorizedException.class)
                    .hasMessage("A server name longer than any Matrix ID may be (255 bytes) has no keys");
        }
        assertThat(fetches).hasValue(0);
    }

    @Test
    void keysOfAnotherAlgorithmThanEd25519ArePassedOverNotTakenForAMalformedAnswer() {
        tamper = response -> {
            response.withObject("verify_keys").putObject("ed448:b_new").put("key", "AAAA");
            response.withObject("old_verify_keys").putObject("ed448:b_old").put("key", "AAAA").put("expired_ts", NOW + 60_000);
            return response;
        };
        assertThat(lookup("ed25519:a_new")).hasValue(RequestAuthenticatorTest.raw(KEY));
        assertThat(lookup("ed25519:a_old")).hasValue(RequestAuthenticatorTest.raw(OLD_KEY));
        assertThat(lookup("ed448:b_new")).isEmpty();
    }

    @Test
    void anOldKeysExpiryIsCappedAtSevenDaysAfterTheFetchLikeACurrentKeys() {
        tamper = response -> {
            response.withObject("old_verify_keys").withObject("ed25519:a_old").put("expired_ts", NOW + Duration.ofDays(36_500).toMillis());
            return response;
        };
        assertThat(keys.verifyKey(NAME, "ed25519:a_old", NOW + KeyFetcher.MAX_VALIDITY.toMillis(), UNHURRIED)).isPresent();
        assertThat(keys.verifyKey(NAME, "ed25519:a_old", NOW + KeyFetcher.MAX_VALIDITY.toMillis() + 1, UNHURRIED)).isEmpty();
    }

    @Test
    void theUnspecifiedAddressesAreBlockedWhateverTheAllowlistSays() throws IOException {
        ServerKeys.Settings allowingEverything = new ServerKeys.Settings(Map.of(), Set.of(), List.of(), 1, Duration.ofSeconds(1),
                IpRanges.NONE, IpRanges.of(List.of("0.0.0.0/0", "::/0")));

        assertThat(allowingEverything.blocks(java.net.InetAddress.getByName("0.0.0.0"))).isTrue();
        assertThat(allowingEverything.blocks(java.net.InetAddress.getByName("::"))).isTrue();
        assertThat(allowingEverything.blocks(java.net.InetAddress.getByName("10.0.0.1"))).isFalse();
    }

    @Test
    void twoConcurrentLookupsOfOneServerMakeOneFetch() throws InterruptedException {
        answering = new CountDownLatch(1);
        AtomicReference<Optional<byte[]>> first = new AtomicReference<>();
        AtomicReference<Optional<byte[]>> second = new AtomicReference<>();
        Thread firstLookup = Thread.ofPlatform().start(() -> first.set(lookup("ed25519:a_new")));
        awaitUntil(() -> fetches.get() == 1);
        Thread secondLookup = Thread.ofPlatform().start(() -> second.set(lookup("ed25519:a_old")));
        awaitUntil(() -> secondLookup.getState() == Thread.State.TIMED_WAITING); // on the first lookup's fetch
        answering.countDown();
        firstLookup.join(5_000);
        secondLookup.join(5_000);
        assertThat(first.get()).hasValue(RequestAuthenticatorTest.raw(KEY));
        assertThat(second.get()).hasValue(RequestAuthenticatorTest.raw(OLD_KEY));
        assertThat(fetches).hasValue(1);
    }

    /**
     * A request to the policy server may look up several servers' keys in turn; they share one wait,
     * so that the answer comes before the homeserver gives up. A lookup that stops waiting leaves its
     * fetch running, and the keys it brings are there for the next request.
     */
    @Test
    void aLookupStopsWaitingWhenItsRequestsWaitEndsAndItsFetchGoesOnForTheNextRequest() throws InterruptedException, IOException {
        CountDownLatch otherAnswering = new CountDownLatch(1);
        AtomicInteger otherAsked = new AtomicInteger();
        URI other = failingWhenReleased(otherAnswering, otherAsked);
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(NAME, base, "other.example", other), Set.of(), List.of(), 2,
                Duration.ofSeconds(5), SYNAPSE_BLOCKLIST, IpRanges.NONE), () -> Instant.ofEpochMilli(now.get()));
        answering = new CountDownLatch(1);
        KeyWait wait = KeyWait.after(Duration.ofMillis(300));

        long started = System.nanoTime();
        assertThatThrownBy(() -> keys.verifyKey(NAME, "ed25519:a_new", NOW, wait)).isInstanceOf(KeyFetchBusyException.class)
                .hasMessage("The keys of " + NAME + " are still being fetched; try again shortly");
        long secondStarted = System.nanoTime();
        assertThatThrownBy(() -> keys.verifyKey("other.example", "ed25519:a_new", NOW, wait))
                .as("the request's second lookup, after its wait ended").isInstanceOf(KeyFetchBusyException.class);
        long ended = System.nanoTime();
        assertThat(Duration.ofNanos(secondStarted - started)).as("the wait, not the fetch's deadline of 10 s")
                .isGreaterThanOrEqualTo(Duration.ofMillis(300)).isLessThan(Duration.ofSeconds(3));
        assertThat(Duration.ofNanos(ended - secondStarted)).as("no wait left, not the fetch's 5 s").isLessThan(Duration.ofMillis(2_500));

        awaitUntil(() -> otherAsked.get() == 1); // the second lookup started its fetch all the same
        otherAnswering.countDown();
        answering.countDown();
        awaitUntil(() -> keys.verifyKey(NAME, "ed25519:a_new", NOW, UNHURRIED).isPresent());
        assertThat(fetches).as("the first fetch went on, and the next request found its keys").hasValue(1);
    }

    private static void awaitUntil(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 5 s").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    /**
     * Keys looked up by resolving {@link #NAME}, whose well-known answer (served here, over plain
     * HTTP) delegates to a port where nothing listens: each lookup fails after asking for it or not.
     */
    private AtomicInteger serveWellKnown(int status, String cacheControl) {
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(), Set.of(), List.of(), 2, Duration.ofSeconds(5),
                IpRanges.NONE, IpRanges.NONE),
                () -> Instant.ofEpochMilli(now.get()), host -> base.resolve(ServerDiscovery.WELL_KNOWN_PATH), name -> List.of(),
                NamedTls.platformTrust());
        AtomicInteger asked = new AtomicInteger();
        server.createContext(ServerDiscovery.WELL_KNOWN_PATH, exchange -> {
            asked.incrementAndGet();
            byte[] body = "{\"m.server\": \"127.0.0.1:1\"}".getBytes();
            exchange.getResponseHeaders().add("Cache-Control", cacheControl);
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        return asked;
    }

    @Test
    void aFetchFailingOnABugIsRefusedWithoutItsInternalMessageLoggedOnceAndBacksOff() {
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(), Set.of(), List.of(), 2, Duration.ofSeconds(5),
                IpRanges.NONE, IpRanges.NONE),
                () -> Instant.ofEpochMilli(now.get()), host -> {
                    throw new IllegalStateException("internal state of the resolver");
                }, name -> List.of(), NamedTls.platformTrust());

        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of " + NAME);
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessageStartingWith("Could not fetch key ed25519:a_new of " + NAME + "; its keys will be fetched again at");

        assertThat(logged.at(Level.ERROR)).containsExactly("Fetching the keys of " + NAME
                + " failed unexpectedly; lookups are refused until its back-off ends");
    }

    @Test
    void aBackgroundRefreshFailingOnABugIsLoggedAsOneThatRefusesNoLookupAndTheCachedKeyStillServes() throws InterruptedException {
        AtomicBoolean broken = new AtomicBoolean();
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(NAME, base), Set.of(), List.of(), 2, Duration.ofSeconds(5),
                SYNAPSE_BLOCKLIST, IpRanges.NONE), () -> {
                    // the fetch's first look at the clock, on its own thread: a bug there, once
                    if (Thread.currentThread().getName().equals("key-fetch") && broken.getAndSet(false)) {
                        throw new IllegalStateException("internal state of the clock");
                    }
                    return Instant.ofEpochMilli(now.get());
                });
        assertThat(lookup("ed25519:a_new")).isPresent(); // valid for an hour
        broken.set(true);
        now.set(NOW + Duration.ofMinutes(50).toMillis()); // aging: refreshed in the background

        assertThat(lookup("ed25519:a_new")).isPresent();
        awaitUntil(() -> !logged.at(Level.ERROR).isEmpty());

        assertThat(lookup("ed25519:a_new")).as("the cached key still serves").hasValue(RequestAuthenticatorTest.raw(KEY));
        assertThat(logged.at(Level.ERROR)).containsExactly("Refreshing the keys of " + NAME
                + " failed unexpectedly; its cached keys still serve, and it is refreshed again once its back-off ends");
    }

    /** Looks {@link #NAME} up at {@code atMillis} after {@link #NOW}: past each back-off in these tests. */
    private void lookupFailingAt(long atMillis) {
        now.set(NOW + atMillis);
        assertThatThrownBy(() -> lookup("ed25519:a_new")).hasMessageContaining("Could not fetch the keys of " + NAME);
    }

    @Test
    void theWellKnownAnswerIsAskedOnceWithinItsMaxAge() {
        AtomicInteger asked = serveWellKnown(200, "public, max-age=7200");
        lookupFailingAt(0);
        lookupFailingAt(Duration.ofHours(2).toMillis() - 1);
        assertThat(asked).hasValue(1);
        lookupFailingAt(Duration.ofHours(2).toMillis() + Duration.ofMinutes(5).toMillis());
        assertThat(asked).hasValue(2);
    }

    @Test
    void aMissingWellKnownIsAskedAgainAfterAnHour() {
        AtomicInteger asked = serveWellKnown(404, "max-age=86400");
        lookupFailingAt(0);
        lookupFailingAt(ServerDiscovery.WELL_KNOWN_ERROR_CACHE.toMillis() - 1);
        assertThat(asked).hasValue(1);
        lookupFailingAt(ServerDiscovery.WELL_KNOWN_ERROR_CACHE.toMillis() + Duration.ofMinutes(5).toMillis());
        assertThat(asked).hasValue(2);
    }

    @Test
    void theCacheHoldsAtMostMaxServers() {
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThatThrownBy(() -> keys.verifyKey("127.0.0.1:1", "ed25519:x", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class);
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(fetches).hasValue(1);
    }

    /**
     * Starts notary {@code name}, which answers each {@code POST /_matrix/key/v2/query} with {@code
     * answer}, and returns it as configured: trusted with {@link #NOTARY_KEY}.
     */
    private ServerKeys.Notary notary(String name, Supplier<ObjectNode> answer) throws IOException {
        HttpServer notary = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        notary.createContext(KeyFetcher.QUERY_PATH, exchange -> {
            notaryQueries.add(name + " " + new String(exchange.getRequestBody().readAllBytes()));
            byte[] body = Json.MAPPER.writeValueAsBytes(answer.get());
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        notary.start();
        notaryServers.add(notary);
        addresses.put(name, URI.create("http://127.0.0.1:" + notary.getAddress().getPort()));
        return new ServerKeys.Notary(name, Map.of(NOTARY_KEY_ID, RequestAuthenticatorTest.raw(NOTARY_KEY)));
    }

    /** {@link #keys} asks {@code notaries}, in this order, besides {@link #NAME} itself. */
    private void useNotaries(ServerKeys.Notary... notaries) {
        addresses.put(NAME, base);
        keys = new ServerKeys(new ServerKeys.Settings(addresses, Set.of(), List.of(notaries), 2, Duration.ofSeconds(5),
                SYNAPSE_BLOCKLIST, IpRanges.NONE),
                () -> Instant.ofEpochMilli(now.get()));
    }

    /** A notary's answer holding {@code keyObjects}. */
    private static ObjectNode notaryAnswer(ObjectNode... keyObjects) {
        ObjectNode answer = Json.MAPPER.createObjectNode();
        answer.putArray("server_keys").addAll(List.of(keyObjects));
        return answer;
    }

    /** {@code keyObject}, with its signatures, signed too by {@code signer} as notary {@code notaryName}. */
    private static ObjectNode countersigned(ObjectNode keyObject, String notaryName, PolicyServerKey signer) {
        ObjectNode unsigned = keyObject.deepCopy();
        unsigned.remove("signatures");
        keyObject.withObject("signatures").putObject(notaryName).put(NOTARY_KEY_ID, signer.sign(CanonicalJson.encode(unsigned)));
        return keyObject;
    }

    private ObjectNode vouchedBy(String notaryName) {
        return notaryAnswer(countersigned(keyResponse(), notaryName, NOTARY_KEY));
    }

    @Test
    void whenTheOriginFailsANotaryIsAskedForTheKeyAndItsCountersignedAnswerCounts() throws IOException {
        useNotaries(notary("notary.example", () -> vouchedBy("notary.example")));
        failing = true;
        assertThat(lookup("ed25519:a_new")).hasValue(RequestAuthenticatorTest.raw(KEY));
        assertThat(notaryQueries).containsExactly("notary.example {\"server_keys\":{\"" + NAME
                + "\":{\"ed25519:a_new\":{\"minimum_valid_until_ts\":" + NOW + "}}}}");
        assertThat(lookup("ed25519:a_old")).as("the notary's other keys are cached too").isPresent();
        assertThat(fetches).hasValue(1);
        assertThat(notaryQueries).hasSize(1);
    }

    @Test
    void whenTheOriginsAnswerLacksTheKeyANotaryIsAsked() throws IOException {
        long inADay = NOW + Duration.ofDays(1).toMillis();
        useNotaries(notary("notary.example", () -> notaryAnswer(countersigned(
                keyResponse(response -> response.put("valid_until_ts", inADay)), "notary.example", NOTARY_KEY))));
        assertThat(keys.verifyKey(NAME, "ed25519:a_new", inADay, UNHURRIED)).as("the origin's answer is valid for an hour only")
                .hasValue(RequestAuthenticatorTest.raw(KEY));
        assertThat(fetches).hasValue(1);
        assertThat(notaryQueries).hasSize(1);
    }

    @Test
    void notariesAreNotAskedWhenTheOriginGivesTheKey() throws IOException {
        useNotaries(notary("notary.example", () -> vouchedBy("notary.example")));
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(notaryQueries).isEmpty();
    }

    @Test
    void aNotaryAnswerWithAWrongOrMissingNotarySignatureIsIgnored() throws IOException {
        useNotaries(
                notary("wrong.example", () -> notaryAnswer(countersigned(keyResponse(), "wrong.example", OLD_KEY))),
                notary("missing.example", () -> notaryAnswer(keyResponse())),
                notary("other.example", () -> vouchedBy("someone-else.example")));
        failing = true;
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("Could not fetch the keys of " + NAME);
        assertThat(notaryQueries).hasSize(3);
    }

    @Test
    void aNotaryAnswerNotSelfSignedByTheOriginIsIgnored() throws IOException {
        useNotaries(notary("notary.example", () -> {
            ObjectNode keyObject = keyResponse();
            keyObject.remove("signatures");
            return notaryAnswer(countersigned(keyObject, "notary.example", NOTARY_KEY));
        }));
        failing = true;
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class);
        assertThat(notaryQueries).hasSize(1);
    }

    @Test
    void aNotaryAnswerWithOneKeyObjectForAnotherServerIsIgnoredWhole() throws IOException {
        useNotaries(notary("notary.example", () -> notaryAnswer(countersigned(keyResponse(), "notary.example", NOTARY_KEY),
                countersigned(keyResponse(response -> response.put("server_name", "evil.example")), "notary.example",
                        NOTARY_KEY))));
        failing = true;
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class);
    }

    @Test
    void notariesAreAskedInOrderUntilOneDeliversTheKey() throws IOException {
        useNotaries(notary("first.example", () -> notaryAnswer()),
                notary("second.example", () -> vouchedBy("second.example")),
                notary("third.example", () -> vouchedBy("third.example")));
        failing = true;
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(notaryQueries).map(query -> query.split(" ")[0]).containsExactly("first.example", "second.example");
    }

    @Test
    void anEmptyNotaryAnswerMeansNoKeyNotAnError() throws IOException {
        useNotaries(notary("notary.example", () -> notaryAnswer()));
        assertThat(lookup("ed25519:unknown")).isEmpty();
        assertThat(notaryQueries).hasSize(1);
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis());
        failing = true;
        assertThatThrownBy(() -> lookup("ed25519:other")).as("the origin's failure, not the notary's empty answer")
                .hasMessageContaining("Could not fetch the keys of " + NAME);
        assertThat(notaryQueries).hasSize(2);
    }

    @Test
    void theBackoffStartsOnlyWhenNeitherTheOriginNorANotaryDeliversTheKey() throws IOException {
        AtomicReference<ObjectNode> answer = new AtomicReference<>(notaryAnswer());
        useNotaries(notary("notary.example", answer::get));
        failing = true;
        assertThatThrownBy(() -> lookup("ed25519:a_new")).hasMessageContaining("Could not fetch the keys of " + NAME);
        assertThatThrownBy(() -> lookup("ed25519:a_new")).hasMessageContaining("will be fetched again");
        assertThat(notaryQueries).hasSize(1);
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis());
        answer.set(vouchedBy("notary.example"));
        assertThat(lookup("ed25519:a_new")).isPresent();
        now.addAndGet(ServerKeys.REFETCH_AFTER.toMillis());
        assertThatThrownBy(() -> lookup("ed25519:unknown")).as("the success ended the back-off")
                .hasMessageContaining("Could not fetch the keys of " + NAME);
        assertThat(notaryQueries).hasSize(3);
    }

    private static final char[] PASSWORD = "changeit".toCharArray();
    /** A certificate for {@link #NAME} only; one for {@code localhost} and {@code 127.0.0.1} only. */
    private static KeyStore forName;
    private static KeyStore forLocalhost;
    /** Trusts these two certificates, as the platform's trust manager would trust a CA's. */
    private static X509ExtendedTrustManager trustingTestCertificates;

    @BeforeAll
    static void makeCertificates(@TempDir Path dir) throws Exception {
        forName = selfSignedCertificate(dir, "name", "dns:" + NAME);
        forLocalhost = selfSignedCertificate(dir, "localhost", "dns:localhost,ip:127.0.0.1");
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("name", forName.getCertificate("name"));
        trusted.setCertificateEntry("localhost", forLocalhost.getCertificate("localhost"));
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(trusted);
        trustingTestCertificates = (X509ExtendedTrustManager) factory.getTrustManagers()[0];
    }

    /** A key store holding a new key and its self-signed certificate for subjectAltName {@code san}, by keytool. */
    private static KeyStore selfSignedCertificate(Path dir, String alias, String san) throws Exception {
        Path file = dir.resolve(alias + ".p12");
        Commands.run(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + alias,
                "-ext", "san=" + san, "-validity", "2", "-keystore", file.toString(), "-storetype", "PKCS12",
                "-storepass", new String(PASSWORD));
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, PASSWORD);
        }
        return store;
    }

    /**
     * Starts an HTTPS server on 127.0.0.1 with {@code certificate} that answers key requests for
     * {@code serverName} (if null, for {@code localhost:<its port>}), recording the SNI and {@code
     * Host} header of each.
     */
    private HttpsServer httpsServer(KeyStore certificate, String serverName, List<String> sni, List<String> hosts)
            throws Exception {
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance("PKIX");
        keyManagers.init(certificate, PASSWORD);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters connection) {
                SSLParameters parameters = getSSLContext().getDefaultSSLParameters();
                parameters.setSNIMatchers(List.of(new SNIMatcher(StandardConstants.SNI_HOST_NAME) {
                    @Override
                    public boolean matches(SNIServerName name) {
                        sni.add(((SNIHostName) name).getAsciiName());
                        return true;
                    }
                }));
                connection.setSSLParameters(parameters);
            }
        });
        https.createContext(KeyFetcher.KEYS_PATH, exchange -> {
            fetches.incrementAndGet();
            hosts.add(exchange.getRequestHeaders().getFirst("Host"));
            String answering = serverName != null ? serverName : "localhost:" + https.getAddress().getPort();
            byte[] body = Json.MAPPER.writeValueAsBytes(keyResponse(answering, UnaryOperator.identity()));
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        https.start();
        notaryServers.add(https); // stopped after the test
        return https;
    }

    /**
     * Keys looked up by resolving {@link #NAME}, which has no well-known answer and an SRV record
     * with target {@code localhost} at {@code port}; certificates are trusted if they are the tests'
     * own, and any for the server names in {@code selfSigned}.
     */
    private ServerKeys viaSrvRecord(int port, Set<String> selfSigned) {
        return new ServerKeys(new ServerKeys.Settings(Map.of(), selfSigned, List.of(), 2, Duration.ofSeconds(5),
                IpRanges.NONE, IpRanges.NONE),
                () -> Instant.ofEpochMilli(now.get()), host -> URI.create("http://127.0.0.1:1" + ServerDiscovery.WELL_KNOWN_PATH),
                record -> record.equals("_matrix-fed._tcp." + NAME)
                        ? List.of(new ServerDiscovery.Srv(0, 0, port, "localhost.")) : List.of(),
                trustingTestCertificates);
    }

    @Test
    void atAnSrvTargetACertificateForTheServerNameIsAcceptedAndTheServerNameSentAsSni() throws Exception {
        List<String> sni = new CopyOnWriteArrayList<>();
        List<String> hosts = new CopyOnWriteArrayList<>();
        int port = httpsServer(forName, NAME, sni, hosts).getAddress().getPort();
        keys = viaSrvRecord(port, Set.of());
        assertThat(lookup("ed25519:a_new")).hasValue(RequestAuthenticatorTest.raw(KEY));
        now.addAndGet(ServerKeys.REFETCH_AFTER.toMillis());
        assertThat(lookup("ed25519:unknown")).as("fetched again, by the same client").isEmpty();
        assertThat(fetches).hasValue(2);
        assertThat(sni).as("SNI: the server name, not the target").containsOnly(NAME);
        assertThat(hosts).as("Host: still the target, which the JDK's HttpClient will not let us set")
                .containsOnly("localhost:" + port);
    }

    @Test
    void atAnSrvTargetACertificateOnlyForTheTargetIsRefused() throws Exception {
        int port = httpsServer(forLocalhost, NAME, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>())
                .getAddress().getPort();
        keys = viaSrvRecord(port, Set.of());
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("Could not fetch the keys of " + NAME)
                .hasStackTraceContaining("The certificate is not valid for " + NAME);
        assertThat(fetches).as("refused in the TLS handshake").hasValue(0);
    }

    @Test
    void atAnSrvTargetAnyCertificateIsAcceptedForAServerNameListedAsSelfSigned() throws Exception {
        int port = httpsServer(forLocalhost, NAME, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>())
                .getAddress().getPort();
        keys = viaSrvRecord(port, Set.of(NAME));
        assertThat(lookup("ed25519:a_new")).isPresent();
    }

    @Test
    void withoutSrvTheCertificateMustBeValidForTheHostAsBefore() throws Exception {
        keys = viaSrvRecord(1, Set.of());
        int port = httpsServer(forLocalhost, null, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>())
                .getAddress().getPort();
        assertThat(keys.verifyKey("localhost:" + port, "ed25519:a_new", NOW, UNHURRIED)).isPresent();
        int otherPort = httpsServer(forName, null, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>())
                .getAddress().getPort();
        assertThatThrownBy(() -> keys.verifyKey("localhost:" + otherPort, "ed25519:a_new", NOW, UNHURRIED))
                .as("a certificate for another name").isInstanceOf(UnauthorizedException.class);
    }

    @Test
    void certificateNamesMatchAsRfc6125Says() {
        assertThat(NamedTls.dnsNameMatches("hs.example", "HS.Example.")).isTrue();
        assertThat(NamedTls.dnsNameMatches("*.hs.example", "matrix.hs.example")).isTrue();
        assertThat(NamedTls.dnsNameMatches("*.hs.example", "hs.example")).as("one label, not none").isFalse();
        assertThat(NamedTls.dnsNameMatches("*.hs.example", "a.b.hs.example")).as("one label, not two").isFalse();
        assertThat(NamedTls.dnsNameMatches("*.example", "hs.example")).as("not for a whole top-level domain").isFalse();
        assertThat(NamedTls.dnsNameMatches("m*.hs.example", "matrix.hs.example")).as("whole label only").isFalse();
        assertThat(NamedTls.dnsNameMatches("matrix.*.example", "matrix.hs.example")).as("leftmost only").isFalse();
        assertThat(NamedTls.dnsNameMatches("other.example", "hs.example")).isFalse();
    }

    @Test
    void aCertificateIsValidForItsDnsNamesAndIpAddressesOnly() throws Exception {
        X509Certificate localhost = (X509Certificate) forLocalhost.getCertificate("localhost");
        assertThat(NamedTls.isValidFor(localhost, "localhost")).isTrue();
        assertThat(NamedTls.isValidFor(localhost, "127.0.0.1")).isTrue();
        assertThat(NamedTls.isValidFor(localhost, "127.0.0.2")).isFalse();
        assertThat(NamedTls.isValidFor(localhost, "[::1]")).isFalse();
        assertThat(NamedTls.isValidFor(localhost, NAME)).isFalse();
        X509Certificate named = (X509Certificate) forName.getCertificate("name");
        assertThat(NamedTls.isValidFor(named, NAME)).isTrue();
        assertThat(NamedTls.isValidFor(named, "name")).as("not by its common name").isFalse();
    }
}
