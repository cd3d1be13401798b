package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

class ServerKeysTest {
    private static final PolicyServerKey KEY = RequestAuthenticatorTest.ORIGIN_KEY;
    private static final PolicyServerKey OLD_KEY = PolicyServerKey.fromSeed(new byte[32]);
    private static final String NAME = "hs.example";
    private static final long NOW = 1_700_000_000_000L;
    private static final PolicyServerKey NOTARY_KEY = PolicyServerKey.fromSeed(new byte[] {
            7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
    private static final String NOTARY_KEY_ID = "ed25519:notary";

    private final AtomicLong now = new AtomicLong(NOW);
    private final AtomicInteger fetches = new AtomicInteger();
    private volatile UnaryOperator<ObjectNode> tamper = UnaryOperator.identity();
    private volatile boolean failing;
    private volatile CountDownLatch answering = new CountDownLatch(0);
    private HttpServer server;
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
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(NAME, base), Set.of(), List.of(), 2, Duration.ofSeconds(5)),
                () -> Instant.ofEpochMilli(now.get()));
    }

    private void serve(Supplier<ObjectNode> response) {
        server.createContext(ServerKeys.KEYS_PATH, exchange -> {
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
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
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
        ObjectNode response = Json.MAPPER.createObjectNode().put("server_name", NAME).put("valid_until_ts", NOW + 3_600_000);
        response.putObject("verify_keys").putObject("ed25519:a_new").put("key", KEY.publicKeyBase64());
        response.putObject("old_verify_keys").putObject("ed25519:a_old").put("key", OLD_KEY.publicKeyBase64())
                .put("expired_ts", NOW + 60_000);
        response = tamper.apply(response);
        String signature = KEY.sign(CanonicalJson.encode(response));
        response.putObject("signatures").putObject(NAME).put("ed25519:a_new", signature);
        return response;
    }

    private Optional<byte[]> lookup(String keyId) {
        return keys.verifyKey(NAME, keyId, now.get());
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
    void validUntilIsCappedAtSevenDaysAfterTheFetch() {
        tamper = response -> response.put("valid_until_ts", NOW + Duration.ofDays(365).toMillis());
        assertThat(keys.verifyKey(NAME, "ed25519:a_new", NOW + ServerKeys.MAX_VALIDITY.toMillis())).isPresent();
        assertThat(keys.verifyKey(NAME, "ed25519:a_new", NOW + ServerKeys.MAX_VALIDITY.toMillis() + 1)).isEmpty();
    }

    @Test
    void anUnknownKeyIdIsEmpty() {
        assertThat(lookup("ed25519:other")).isEmpty();
    }

    @Test
    void aResponseWithABadSelfSignatureIsRefused() {
        server.removeContext(ServerKeys.KEYS_PATH);
        serve(() -> keyResponse().put("valid_until_ts", NOW + 999_999_999)); // changed after signing
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("bad signature");
    }

    @Test
    void aResponseForAnotherServerOrSignedByAnUnlistedKeyIsRefused() {
        tamper = response -> response.put("server_name", "evil.example");
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("names server");
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis()); // past the back-off the refusal started
        tamper = response -> {
            response.remove("verify_keys");
            return response;
        };
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("not signed by a key it lists");
    }

    @Test
    void anUnreachableServerIsUnauthorized() {
        server.stop(0);
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("Could not fetch the keys of " + NAME);
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
        now.addAndGet(ServerKeys.MAX_VALIDITY.toMillis()); // the cached keys expired
        assertThatThrownBy(() -> lookup("ed25519:a_new")).isInstanceOf(UnauthorizedException.class);
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis()); // counting starts again after the success
        assertThatThrownBy(() -> lookup("ed25519:a_new")).hasMessageContaining("Could not fetch the keys of");
        assertThat(fetches).hasValue(5);
    }

    @Test
    void anUnknownKeyIdDoesNotCauseARefetchWithinTheBackoff() {
        assertThat(lookup("ed25519:unknown")).isEmpty();
        assertThatThrownBy(() -> lookup("ed25519:another")).isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("Could not fetch key ed25519:another of " + NAME);
        assertThat(lookup("ed25519:a_new")).as("cached keys are still served").isPresent();
        assertThat(fetches).hasValue(1);
        now.addAndGet(ServerKeys.MIN_BACKOFF.toMillis());
        assertThat(lookup("ed25519:unknown")).isEmpty();
        assertThat(fetches).hasValue(2);
    }

    @Test
    void twoConcurrentLookupsOfOneServerMakeOneFetch() throws InterruptedException {
        answering = new CountDownLatch(1);
        AtomicReference<Optional<byte[]>> first = new AtomicReference<>();
        AtomicReference<Optional<byte[]>> second = new AtomicReference<>();
        Thread firstLookup = Thread.ofPlatform().start(() -> first.set(lookup("ed25519:a_new")));
        awaitUntil(() -> fetches.get() == 1);
        Thread secondLookup = Thread.ofPlatform().start(() -> second.set(lookup("ed25519:a_old")));
        awaitUntil(() -> secondLookup.getState() == Thread.State.WAITING); // on the first lookup's fetch
        answering.countDown();
        firstLookup.join(5_000);
        secondLookup.join(5_000);
        assertThat(first.get()).hasValue(RequestAuthenticatorTest.raw(KEY));
        assertThat(second.get()).hasValue(RequestAuthenticatorTest.raw(OLD_KEY));
        assertThat(fetches).hasValue(1);
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
        keys = new ServerKeys(new ServerKeys.Settings(Map.of(), Set.of(), List.of(), 2, Duration.ofSeconds(5)),
                () -> Instant.ofEpochMilli(now.get()), host -> base.resolve(ServerKeys.WELL_KNOWN_PATH), name -> List.of());
        AtomicInteger asked = new AtomicInteger();
        server.createContext(ServerKeys.WELL_KNOWN_PATH, exchange -> {
            asked.incrementAndGet();
            byte[] body = "{\"m.server\": \"127.0.0.1:1\"}".getBytes();
            exchange.getResponseHeaders().add("Cache-Control", cacheControl);
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        return asked;
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
        lookupFailingAt(ServerKeys.WELL_KNOWN_ERROR_CACHE.toMillis() - 1);
        assertThat(asked).hasValue(1);
        lookupFailingAt(ServerKeys.WELL_KNOWN_ERROR_CACHE.toMillis() + Duration.ofMinutes(5).toMillis());
        assertThat(asked).hasValue(2);
    }

    @Test
    void theWellKnownCacheTimeIsItsMaxAgeAtMostFortyEightHoursElseOneDay() {
        assertThat(ServerKeys.cacheTime(headers("public, max-age=3600"))).isEqualTo(Duration.ofHours(1));
        assertThat(ServerKeys.cacheTime(headers("max-age=31536000"))).isEqualTo(ServerKeys.WELL_KNOWN_MAX_CACHE);
        assertThat(ServerKeys.cacheTime(headers("no-cache"))).isEqualTo(ServerKeys.WELL_KNOWN_DEFAULT_CACHE);
        assertThat(ServerKeys.cacheTime(HttpHeaders.of(Map.of(), (name, value) -> true)))
                .isEqualTo(ServerKeys.WELL_KNOWN_DEFAULT_CACHE);
    }

    private static HttpHeaders headers(String cacheControl) {
        return HttpHeaders.of(Map.of("Cache-Control", List.of(cacheControl)), (name, value) -> true);
    }

    @Test
    void theCacheHoldsAtMostMaxServers() {
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThatThrownBy(() -> keys.verifyKey("127.0.0.1:1", "ed25519:x", NOW)).isInstanceOf(UnauthorizedException.class);
        assertThat(lookup("ed25519:a_new")).isPresent();
        assertThat(fetches).hasValue(1);
    }

    @Test
    void serverNamesResolveAsTheSpecSays() {
        Map<String, String> delegations = Map.of("delegating.example", "target.example", "ported.example", "target.example:443",
                "ip.example", "10.0.0.1", "to-srv.example", "srv.example");
        Map<String, List<ServerKeys.Srv>> srv = Map.of(
                "_matrix-fed._tcp.srv.example", List.of(new ServerKeys.Srv(10, 50, 8443, "far.example."),
                        new ServerKeys.Srv(5, 1, 443, "light.example."), new ServerKeys.Srv(5, 9, 8000, "heavy.example.")),
                "_matrix._tcp.srv.example", List.of(new ServerKeys.Srv(0, 0, 1, "deprecated.example.")),
                "_matrix._tcp.legacy.example", List.of(new ServerKeys.Srv(0, 0, 1234, "old.example")),
                "_matrix-fed._tcp.unavailable.example", List.of(new ServerKeys.Srv(0, 0, 0, ".")),
                "_matrix-fed._tcp.target.example", List.of(new ServerKeys.Srv(0, 0, 1, "target-srv.example.")));
        UnaryOperator<String> resolve = name -> ServerKeys.resolve(name, host -> Optional.ofNullable(delegations.get(host)),
                record -> srv.getOrDefault(record, List.of())).toString();
        assertThat(resolve.apply("1.2.3.4")).isEqualTo("https://1.2.3.4:8448");
        assertThat(resolve.apply("[::1]:8000")).isEqualTo("https://[::1]:8000");
        assertThat(resolve.apply("delegating.example:1234")).isEqualTo("https://delegating.example:1234");
        assertThat(resolve.apply("srv.example:1234")).as("a port: no SRV").isEqualTo("https://srv.example:1234");
        assertThat(resolve.apply("ported.example")).isEqualTo("https://target.example:443");
        assertThat(resolve.apply("ip.example")).isEqualTo("https://10.0.0.1:8448");
        assertThat(resolve.apply("plain.example")).isEqualTo("https://plain.example:8448");
        assertThat(resolve.apply("srv.example")).as("lowest priority, then highest weight")
                .isEqualTo("https://heavy.example:8000");
        assertThat(resolve.apply("to-srv.example")).as("the delegated name's SRV").isEqualTo("https://heavy.example:8000");
        assertThat(resolve.apply("delegating.example")).as("the delegated name's, not the delegating's")
                .isEqualTo("https://target-srv.example:1");
        assertThat(resolve.apply("legacy.example")).isEqualTo("https://old.example:1234");
        assertThat(resolve.apply("unavailable.example")).as("target . is no record").isEqualTo("https://unavailable.example:8448");
    }

    @Test
    void aFailedSrvLookupMeansNoRecords() {
        assertThat(ServerKeys.dnsSrv("not..a.name", Duration.ofSeconds(1))).isEmpty();
    }

    /**
     * Starts notary {@code name}, which answers each {@code POST /_matrix/key/v2/query} with {@code
     * answer}, and returns it as configured: trusted with {@link #NOTARY_KEY}.
     */
    private ServerKeys.Notary notary(String name, Supplier<ObjectNode> answer) throws IOException {
        HttpServer notary = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        notary.createContext(ServerKeys.QUERY_PATH, exchange -> {
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
        keys = new ServerKeys(new ServerKeys.Settings(addresses, Set.of(), List.of(notaries), 2, Duration.ofSeconds(5)),
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
        assertThat(keys.verifyKey(NAME, "ed25519:a_new", inADay)).as("the origin's answer is valid for an hour only")
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
        assertThatThrownBy(() -> lookup("ed25519:unknown")).as("the success ended the back-off")
                .hasMessageContaining("Could not fetch the keys of " + NAME);
        assertThat(notaryQueries).hasSize(3);
    }
}
