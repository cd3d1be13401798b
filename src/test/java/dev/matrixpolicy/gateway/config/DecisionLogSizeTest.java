package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.decisions.DecisionLog;
import dev.matrixpolicy.gateway.decisions.LoggedDecision;
import dev.matrixpolicy.gateway.decisions.Refusal;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** A decision log that callers could fill past a quarter of the heap is started with a warning that says so. */
class DecisionLogSizeTest {
    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(OperatorConfiguration.class, Level.WARN);

    private static PolicyGatewayProperties withCapacity(int capacity) {
        return new PolicyGatewayProperties("example.com", new PolicyGatewayProperties.Auth(null, null),
                new PolicyGatewayProperties.Admin(null, null), new PolicyGatewayProperties.DecisionLog(capacity),
                new PolicyGatewayProperties.Defaults(FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5)), DataSize.ofMegabytes(1),
                List.of(), new PolicyGatewayProperties.Reload(true, Duration.ofSeconds(1)),
                PolicyGatewayProperties.PolicyServer.disabled(), PolicyGatewayProperties.State.inMemory());
    }

    @Test
    void aCapacityThatCouldFillAQuarterOfTheHeapIsWarnedOfNamingTheMostThatFits() {
        long fits = Runtime.getRuntime().maxMemory() / 4 / OperatorConfiguration.LARGEST_DECISION_BYTES;

        new OperatorConfiguration().decisionLog(withCapacity(2000));
        assertThat(lines.at(Level.WARN)).as("the default").isEmpty();

        assumeTrue(fits < PolicyGatewayProperties.DecisionLog.MAX_CAPACITY, "a heap a million decisions cannot fill");
        new OperatorConfiguration().decisionLog(withCapacity((int) fits + 1));
        assertThat(lines.at(Level.WARN)).singleElement().asString()
                .contains("policy-gateway.decision-log.capacity " + (fits + 1)).contains("Lower the capacity to at most " + fits);
    }

    /**
     * The largest decision a caller can make: every field the log reads IDs from holding a room alias
     * as long as Synapse takes one (255 characters, each outside the BMP, so two UTF-16 units of two
     * bytes), and a reason cut at its 1,000 characters, none of them Latin-1. Its strings alone, without
     * the objects that hold them, must fit what the warning counts a decision as.
     */
    @Test
    void theLargestDecisionACallerCanMakeFitsWhatTheWarningCountsADecisionAs() {
        ObjectNode args = JsonNodeFactory.instance.objectNode();
        String[] fields = {"user_id", "user", "inviter", "invitee", "sender", "requester_id", "state_key", "room_id", "room",
                "room_alias", "requester/user_id", "user_profile/user_id", "event/sender", "event/room_id", "event/state_key"};
        for (int i = 0; i < fields.length; i++) {
            String server = "s" + i;
            String alias = "#" + new String(Character.toChars(0x1F600 + i)).repeat(255 - 2 - server.length()) + ":" + server;
            String[] path = fields[i].split("/");
            ObjectNode parent = path.length == 1 ? args : args.has(path[0]) ? (ObjectNode) args.get(path[0]) : args.putObject(path[0]);
            parent.put(path[path.length - 1], alias);
        }
        DecisionLog log = new DecisionLog(1, Clock.systemUTC());
        log.record(new Refusal("spam_checker", "user_may_invite", Optional.of("backend"), Refusal.Mode.ENFORCE,
                Refusal.Outcome.REFUSED, "deny", Optional.of("M_FORBIDDEN"), Optional.of("\u0100".repeat(100_000)), 403), args);

        LoggedDecision decision = log.newestFirst(LoggedDecision.Filter.ALL, 1).getFirst();
        assertThat(decision.rooms()).hasSize(fields.length);
        long bytes = Stream.of(decision.users(), decision.rooms(), decision.servers(), List.of(decision.reason().orElseThrow()))
                .flatMap(List::stream).mapToLong(DecisionLogSizeTest::heapBytes).sum();
        assertThat(bytes).isLessThanOrEqualTo(OperatorConfiguration.LARGEST_DECISION_BYTES);
    }

    /** A string's heap: its object and its array (headers of 12 and 16 bytes), one byte a character for Latin-1, else two. */
    private static long heapBytes(String text) {
        boolean latin1 = text.chars().allMatch(c -> c <= 0xFF);
        return 24 + 16 + (long) text.length() * (latin1 ? 1 : 2);
    }
}
