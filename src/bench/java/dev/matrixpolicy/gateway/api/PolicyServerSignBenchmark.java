package dev.matrixpolicy.gateway.api;

import com.github.benmanes.caffeine.cache.Cache;
import dev.matrixpolicy.bench.PolicyServerFixtures;
import dev.matrixpolicy.gateway.policyserver.EventSigner;
import dev.matrixpolicy.gateway.policyserver.KeyWait;
import dev.matrixpolicy.gateway.policyserver.Pdu;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.policyserver.RequestAuthenticator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Field;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The pure parts of {@code POST /_matrix/policy/v1/sign} for one ~2 KiB event (the event of
 * {@code bench/policy-server.sh}): where a request's time goes, and whether a remembered answer costs
 * more than a map lookup. The chain and HTTP are left out ({@code bench/policy-server.sh} has them).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PolicyServerSignBenchmark {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String ORIGIN = PolicyServerFixtures.HOMESERVER;

    byte[] body;
    ObjectNode event;
    List<String> authorization;
    Pdu pdu;
    RequestAuthenticator authenticator;
    EventSigner signer;
    PolicyServerSigning signing;
    Map<String, CompletableFuture<PolicyServerSigning.Verdict>> map = new ConcurrentHashMap<>();

    @Setup
    public void setUp() throws ReflectiveOperationException {
        PolicyServerKey homeserver = PolicyServerKey.fromSeed(new byte[32]);
        event = PolicyServerFixtures.event(homeserver, 0);
        body = JSON.writeValueAsBytes(event);
        authorization = List.of(PolicyServerFixtures.authorization(homeserver, PolicyServerFixtures.SIGN, event));
        byte[] homeserverKey = Base64.getDecoder().decode(homeserver.publicKeyBase64());
        // As ServerKeys answers a cached key: a copy of it.
        authenticator = new RequestAuthenticator(PolicyServerFixtures.POLICY_SERVER,
                (server, keyId, validUntil, wait) -> Optional.of(homeserverKey.clone()), InstantSource.system());
        byte[] seed = new byte[32];
        seed[0] = 1;
        signer = new EventSigner(PolicyServerKey.fromSeed(seed));
        pdu = Pdu.of(PolicyServerFixtures.ROOM_VERSION, event);
        // A cache hit never reaches the chain: no generations needed. The answer is put in as decide() leaves it.
        signing = new PolicyServerSigning(null, null, signer, 100_000, new SimpleMeterRegistry());
        Field answers = PolicyServerSigning.class.getDeclaredField("answers");
        answers.setAccessible(true);
        @SuppressWarnings("unchecked")
        Cache<String, CompletableFuture<PolicyServerSigning.Verdict>> cache =
                (Cache<String, CompletableFuture<PolicyServerSigning.Verdict>>) answers.get(signing);
        CompletableFuture<PolicyServerSigning.Verdict> answer =
                CompletableFuture.completedFuture(new PolicyServerSigning.Verdict.Signed(signer.sign(pdu)));
        for (int i = 0; i < 10_000; i++) { // a cache and a map that hold other events too
            cache.put("other-" + i, answer);
            map.put("other-" + i, answer);
        }
        cache.put(pdu.referenceHash(), answer);
        map.put(pdu.referenceHash(), answer);
    }

    /** The request body read as a JSON tree, as the servlet reads it once. */
    @Benchmark
    public Object parseBody() {
        return JSON.readTree(body);
    }

    /** X-Matrix: the request object with the event as content, in canonical JSON, and one Ed25519 verify. */
    @Benchmark
    public Object authenticate() {
        return authenticator.authenticate("POST", PolicyServerFixtures.SIGN, () -> event, authorization, KeyWait.after(KeyWait.PER_REQUEST));
    }

    /** Shape checks, redaction, canonical JSON twice, two SHA-256: the content hash check and the reference hash. */
    @Benchmark
    public Object hash() {
        return Pdu.of(PolicyServerFixtures.ROOM_VERSION, event);
    }

    /** One Ed25519 signature over the redacted event's bytes (hashed already). */
    @Benchmark
    public Object sign() {
        return signer.sign(pdu);
    }

    /** A remembered answer: the Caffeine cache's get by reference hash, and the completed future's join. */
    @Benchmark
    public Object cacheHit() {
        return signing.decide(ORIGIN, pdu);
    }

    /** The floor: a ConcurrentHashMap get by the same key. */
    @Benchmark
    public Object mapGet() {
        return map.get(pdu.referenceHash()).join();
    }

    /** A repeated event, all but HTTP: parse, authenticate, hash, cache hit. */
    @Benchmark
    public Object cachedRequest() {
        ObjectNode parsed = (ObjectNode) JSON.readTree(body);
        String origin = authenticator.authenticate("POST", PolicyServerFixtures.SIGN, () -> parsed, authorization, KeyWait.after(KeyWait.PER_REQUEST));
        return signing.decide(origin, Pdu.of(PolicyServerFixtures.ROOM_VERSION, parsed));
    }

    /** A new event, all but HTTP and the chain: parse, authenticate, hash, sign. */
    @Benchmark
    public Object uncachedRequestWithoutChain() {
        ObjectNode parsed = (ObjectNode) JSON.readTree(body);
        authenticator.authenticate("POST", PolicyServerFixtures.SIGN, () -> parsed, authorization, KeyWait.after(KeyWait.PER_REQUEST));
        return signer.sign(Pdu.of(PolicyServerFixtures.ROOM_VERSION, parsed));
    }
}
