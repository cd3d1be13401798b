package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.config.Generation;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.policyserver.EventSigner;
import dev.matrixpolicy.gateway.policyserver.Pdu;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.support.ServingGenerations;
import dev.matrixpolicy.gateway.support.SigningHomeserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.node.ObjectNode;

class PolicyServerSigningTest {
    /** What the chain's one module was asked about. */
    private final List<ObjectNode> judged = new CopyOnWriteArrayList<>();

    private final class Judge implements PolicyModule, CheckEventForSpam {
        @Override
        public SpamVerdict checkEventForSpam(Args args) {
            judged.add(args.event().json());
            return SpamVerdict.NotSpam.INSTANCE;
        }
    }

    /**
     * The answer is kept by the event's reference hash and given to every server that asks, while
     * {@code unsigned} is covered by neither that hash nor any signature: it is whatever the first
     * asking server attached (Synapse keeps none of a federated event's {@code unsigned} but {@code
     * age} and a membership's room state), so it must not reach the modules whose answer all share.
     * Nor must the top-level keys the content hash leaves out and a redaction drops.
     */
    @Test
    void theChainNeverSeesTheUnsignedDataNorTheUncoveredKeysTheAskingServerAttached() throws IOException {
        PolicyServerSigning signing = signing(new Judge());
        ObjectNode event;
        try (SigningHomeserver homeserver = new SigningHomeserver("hs.test")) {
            event = homeserver.message("10", "!served:hs.test", "@spammer:hs.test", "buy now");
        }
        event.putObject("unsigned").put("age", 5).putObject("redacted_because").put("type", "m.room.redaction");
        event.put("age_ts", 1).put("outlier", true).putArray("destinations").add("evil.test");

        PolicyServerSigning.Verdict verdict = signing.decide("other.test", Pdu.of("10", event));

        assertThat(verdict).isInstanceOf(PolicyServerSigning.Verdict.Signed.class);
        assertThat(judged).singleElement().satisfies(asked -> {
            assertThat(asked.propertyNames()).as(asked.toString()).doesNotContain("unsigned", "age_ts", "outlier", "destinations");
            assertThat(asked.path("content").path("body").asString()).isEqualTo("buy now");
        });
    }

    private static PolicyServerSigning signing(PolicyModule module) {
        ModuleInstance instance = new ModuleInstance(0, "test", "judge", module, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1));
        Generation generation = ServingGenerations.of(1, instance);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PolicyServerKey key = PolicyServerKey.fromSeed(HexFormat.of().parseHex(
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        return new PolicyServerSigning(new Generations(generation, new InstanceMeters(registry)),
                new RecordedDecisions((refusal, args) -> { }), new EventSigner(key), 100, registry);
    }
}
