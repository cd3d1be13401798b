package dev.matrixpolicy.gateway.decisions;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class DecisionLogTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T14:02:03.123456Z"), ZoneOffset.UTC);

    private final DecisionLog log = new DecisionLog(3, CLOCK);

    @Test
    void theRingKeepsTheNewestCapacityDecisionsAndCountsAllRecorded() {
        IntStream.rangeClosed(1, 5).forEach(i -> log.record(refused("user_may_invite", "entry-" + i),
                args("{\"inviter\": \"@u" + i + ":example.org\"}")));

        assertThat(log.newestFirst(LoggedDecision.Filter.ALL, 10)).extracting(d -> d.entry().orElseThrow())
                .containsExactly("entry-5", "entry-4", "entry-3");
        assertThat(log.recorded()).isEqualTo(5);
        assertThat(log.capacity()).isEqualTo(3);
    }

    @Test
    void limitCutsTheNewestFirstList() {
        IntStream.rangeClosed(1, 3).forEach(i -> log.record(refused("user_may_invite", "entry-" + i), args("{}")));

        assertThat(log.newestFirst(LoggedDecision.Filter.ALL, 1)).extracting(d -> d.entry().orElseThrow()).containsExactly("entry-3");
    }

    @Test
    void filtersMatchUsersRoomsCallbackAndEntryExactly() {
        DecisionLog log = new DecisionLog(10, CLOCK);
        log.record(refused("user_may_invite", "spammers"),
                args("{\"inviter\": \"@alice:example.org\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!r:example.com\"}"));
        log.record(refused("user_may_join_room", "bans"), args("{\"user\": \"@bob:example.com\", \"room\": \"!s:example.com\"}"));

        assertThat(entries(log, new LoggedDecision.Filter(Optional.of("@bob:example.com"), Optional.empty(), Optional.empty(), Optional.empty())))
                .containsExactly("bans", "spammers");
        assertThat(entries(log, new LoggedDecision.Filter(Optional.of("@bob"), Optional.empty(), Optional.empty(), Optional.empty())))
                .isEmpty();
        assertThat(entries(log, new LoggedDecision.Filter(Optional.empty(), Optional.of("!r:example.com"), Optional.empty(), Optional.empty())))
                .containsExactly("spammers");
        assertThat(entries(log, new LoggedDecision.Filter(Optional.empty(), Optional.empty(), Optional.of("user_may_join_room"), Optional.empty())))
                .containsExactly("bans");
        assertThat(entries(log, new LoggedDecision.Filter(Optional.of("@bob:example.com"), Optional.empty(), Optional.empty(), Optional.of("spammers"))))
                .containsExactly("spammers");
    }

    @Test
    void aDecisionKeepsItsTimeToTheMillisecondAndTheAnswer() {
        log.record(refused("user_may_invite", "spammers"), args("{}"));

        LoggedDecision decision = log.newestFirst(LoggedDecision.Filter.ALL, 1).getFirst();
        assertThat(decision.time()).isEqualTo(Instant.parse("2026-12-01T14:02:03.123Z"));
        assertThat(decision.errcode()).contains("M_FORBIDDEN");
        assertThat(decision.reason()).contains("Not welcome");
        assertThat(decision.status()).isEqualTo(403);
        assertThat(decision.outcome()).isEqualTo(Refusal.Outcome.REFUSED);
    }

    @Test
    void aReasonOfMegabytesIsKeptToItsFirstThousandCharacters() {
        String huge = "A".repeat(900_000);
        log.record(new Refusal("spam_checker", "user_may_invite", Optional.of("backend"), Refusal.Mode.ENFORCE,
                Refusal.Outcome.REFUSED, "deny", Optional.of("M_FORBIDDEN"), Optional.of(huge), 403), args("{}"));

        String kept = log.newestFirst(LoggedDecision.Filter.ALL, 1).getFirst().reason().orElseThrow();
        assertThat(kept).startsWith("A".repeat(Refusal.LONGEST_REASON)).endsWith("... (900000 characters)")
                .hasSize(Refusal.LONGEST_REASON + "... (900000 characters)".length());
    }

    @Test
    void writersOnManyThreadsNeverLeaveTheReaderMoreThanCapacityOrAnOldDecision() throws Exception {
        DecisionLog log = new DecisionLog(64, CLOCK);
        try (ExecutorService threads = Executors.newFixedThreadPool(8)) {
            IntStream.range(0, 10_000).forEach(i -> threads.submit(() -> log.record(refused("user_may_invite", "e" + i), args("{}"))));
        }

        List<LoggedDecision> decisions = log.newestFirst(LoggedDecision.Filter.ALL, 1000);
        assertThat(decisions).hasSize(64);
        assertThat(log.recorded()).isEqualTo(10_000);
    }

    private static List<String> entries(DecisionLog log, LoggedDecision.Filter filter) {
        return log.newestFirst(filter, 10).stream().map(d -> d.entry().orElseThrow()).toList();
    }

    static Refusal refused(String callback, String entry) {
        return new Refusal("spam_checker", callback, Optional.of(entry), Refusal.Mode.ENFORCE, Refusal.Outcome.REFUSED, "deny",
                Optional.of("M_FORBIDDEN"), Optional.of("Not welcome"), 403);
    }

    static ObjectNode args(String json) {
        return (ObjectNode) JSON.readTree(json);
    }
}
