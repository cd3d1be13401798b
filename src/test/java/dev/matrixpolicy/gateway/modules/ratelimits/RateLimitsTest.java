package dev.matrixpolicy.gateway.modules.ratelimits;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Reply;
import dev.matrixpolicy.gateway.chain.Trace;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.state.SharedState;
import dev.matrixpolicy.gateway.state.Take;
import dev.matrixpolicy.gateway.support.ModuleConfigs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The {@code rate_limits} rules, on in-memory state and a ticker the test moves. */
class RateLimitsTest {
    /** The state's ticker, in nanoseconds. */
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /** The wall clock, in milliseconds since the epoch: what events' origin_server_ts are compared with. */
    private final AtomicLong wallClock = new AtomicLong(1_700_000_000_000L);
    private final RateLimitsModuleType type = new RateLimitsModuleType(new MemoryState(now::get, 1 << 20), wallClock::get);
    private static final AtomicLong EVENTS = new AtomicLong();

    private PolicyModule module(Map<String, String> config) {
        return type.create(ModuleConfigs.bind(RateLimitsConfig.class, Map.of(), config),
                new ModuleContext("limits", "example.com", meters));
    }

    @Test
    void aSenderMaySendABurstOfCapacityEventsThenIsRefusedWithTheTimeToWait() {
        CheckEventForSpam events = module(Map.of("events.per-sender.capacity", "3", "events.per-sender.period", "30s"))
                .implementation(CheckEventForSpam.TYPE).orElseThrow();
        for (int i = 0; i < 3; i++) {
            assertThat(events.checkEventForSpam(event("@flood:example.org", "!a:example.com"))).isEqualTo(SpamVerdict.NOT_SPAM);
        }

        SpamVerdict refused = events.checkEventForSpam(event("@flood:example.org", "!b:example.com"));

        assertThat(refused).isEqualTo(new Rejection("M_LIMIT_EXCEEDED", Optional.of("Too many requests: try again later"), Optional.of(Duration.ofSeconds(10))));
        assertThat(events.checkEventForSpam(event("@calm:example.com", "!a:example.com"))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(meters.get("policy.module.rate_limits.refusals").tags("limit", "events", "bucket", "sender").counter().count())
                .isEqualTo(1);
    }

    @Test
    void aSenderRefusedMaySendAgainOnceABucketTokenIsBack() {
        CheckEventForSpam events = module(Map.of("events.per-sender.capacity", "2", "events.per-sender.period", "10s"))
                .implementation(CheckEventForSpam.TYPE).orElseThrow();
        events.checkEventForSpam(event("@flood:example.org", "!a:example.com"));
        events.checkEventForSpam(event("@flood:example.org", "!a:example.com"));
        assertThat(events.checkEventForSpam(event("@flood:example.org", "!a:example.com"))).isInstanceOf(Rejection.class);

        now.addAndGet(Duration.ofSeconds(5).toNanos());

        assertThat(events.checkEventForSpam(event("@flood:example.org", "!a:example.com"))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void aJoinWaveIsLimitedPerRoomWithTheConfiguredRefusal() {
        UserMayJoinRoom joins = module(Map.of("joins.per-room.capacity", "2", "joins.per-room.period", "1m",
                "joins.errcode", "M_FORBIDDEN", "joins.error", "Slow down")).implementation(UserMayJoinRoom.TYPE).orElseThrow();
        joins.userMayJoinRoom(new UserMayJoinRoom.Args("@a:example.org", "!room:example.com", false));
        joins.userMayJoinRoom(new UserMayJoinRoom.Args("@b:example.org", "!room:example.com", false));

        SpamVerdict third = joins.userMayJoinRoom(new UserMayJoinRoom.Args("@c:example.org", "!room:example.com", false));

        assertThat(third).isEqualTo(new Rejection("M_FORBIDDEN", Optional.of("Slow down"), Optional.of(Duration.ofSeconds(30))));
        assertThat(joins.userMayJoinRoom(new UserMayJoinRoom.Args("@c:example.org", "!other:example.com", false)))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void invitesAndRoomCreationAreLimitedPerSender() {
        PolicyModule module = module(Map.of("invites.per-sender.capacity", "1", "invites.per-sender.period", "1m",
                "room-creation.per-sender.capacity", "1", "room-creation.per-sender.period", "1h"));
        UserMayInvite invites = module.implementation(UserMayInvite.TYPE).orElseThrow();
        UserMayCreateRoom rooms = module.implementation(UserMayCreateRoom.TYPE).orElseThrow();

        assertThat(invites.userMayInvite(new UserMayInvite.Args("@spam:example.com", "@a:example.org", "!r:example.com")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(invites.userMayInvite(new UserMayInvite.Args("@spam:example.com", "@b:example.org", "!s:example.com")))
                .isInstanceOf(Rejection.class);
        assertThat(rooms.userMayCreateRoom(new UserMayCreateRoom.Args("@spam:example.com", Optional.empty())))
                .isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rooms.userMayCreateRoom(new UserMayCreateRoom.Args("@spam:example.com", Optional.empty())))
                .isInstanceOf(Rejection.class);
    }

    @Test
    void exemptUsersAndServersAreNeverCounted() {
        CheckEventForSpam events = module(Map.of("events.per-sender.capacity", "1", "events.per-sender.period", "1h",
                "exempt[0]", "@admin:example.com", "exempt[1]", "*:trusted.example")).implementation(CheckEventForSpam.TYPE).orElseThrow();

        for (int i = 0; i < 5; i++) {
            assertThat(events.checkEventForSpam(event("@admin:example.com", "!a:example.com"))).isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(events.checkEventForSpam(event("@bot:trusted.example", "!a:example.com"))).isEqualTo(SpamVerdict.NOT_SPAM);
        }
    }

    /**
     * Synapse asks about a remote server's event before it checks its sender's length, so a hostile
     * server's senders of any length arrive: each is limited on its own, under a key no longer than an
     * ID's, not kept whole (20 senders of 100 KB took 2 MB of the state, and in memory pushed every
     * other bucket out).
     */
    @Test
    void aSenderLongerThanAnyMatrixIdIsLimitedUnderAKeyOfBoundedLength() {
        MemoryState state = new MemoryState(now::get, 1L << 30);
        CheckEventForSpam events = new RateLimitsModuleType(state, wallClock::get)
                .create(ModuleConfigs.bind(RateLimitsConfig.class, Map.of(), Map.of("events.per-sender.capacity", "1",
                        "events.per-sender.period", "1h")), new ModuleContext("limits", "example.com", meters))
                .implementation(CheckEventForSpam.TYPE).orElseThrow();
        String padding = "a".repeat(100_000);

        for (int i = 0; i < 20; i++) {
            String sender = "@" + i + padding + ":evil.example";
            assertThat(events.checkEventForSpam(event(sender, "!a:example.com"))).isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(events.checkEventForSpam(event(sender, "!a:example.com"))).isInstanceOf(Rejection.class);
        }

        assertThat(state.estimatedBytes()).isLessThan(20 * 1024);
    }

    @Test
    void onlyTheCallbacksOfConfiguredLimitsAreAnswered() {
        PolicyModule module = module(Map.of("joins.per-sender.capacity", "5", "joins.per-sender.period", "1m"));

        assertThat(module.implementation(UserMayJoinRoom.TYPE)).isPresent();
        assertThat(module.implementation(CheckEventForSpam.TYPE)).isEmpty();
        assertThat(module.implementation(UserMayInvite.TYPE)).isEmpty();
        assertThat(module.implementation(UserMayCreateRoom.TYPE)).isEmpty();
    }

    @Test
    void inMemoryTheModuleIsCalledInlineWithoutADeadline() {
        assertThat(module(Map.of("joins.per-sender.capacity", "5", "joins.per-sender.period", "1m")).mayBlock()).isFalse();
    }

    /** A new event, with an ID of its own and no timestamp. */
    private static CheckEventForSpam.Args event(String sender, String room) {
        return new CheckEventForSpam.Args(new ClientEvent(eventJson(sender, room)));
    }

    private static ObjectNode eventJson(String sender, String room) {
        return JsonMapper.builder().build().createObjectNode().put("event_id", "$e" + EVENTS.incrementAndGet())
                .put("room_id", room).put("type", "m.room.message").put("sender", sender);
    }

    private CheckEventForSpam.Args sentAgo(Duration age) {
        return new CheckEventForSpam.Args(new ClientEvent(eventJson("@busy:example.org", "!a:example.com")
                .put("origin_server_ts", wallClock.get() - age.toMillis())));
    }

    @Test
    void anEventAskedTwiceTakesOneTokenAndGetsTheSameAnswer() {
        CheckEventForSpam events = module(Map.of("events.per-sender.capacity", "1", "events.per-sender.period", "1m"))
                .implementation(CheckEventForSpam.TYPE).orElseThrow();
        CheckEventForSpam.Args first = event("@alice:example.org", "!a:example.com");
        CheckEventForSpam.Args second = event("@alice:example.org", "!a:example.com");

        assertThat(events.checkEventForSpam(first)).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(events.checkEventForSpam(first)).as("the policy server asking about it after the homeserver").isEqualTo(SpamVerdict.NOT_SPAM);
        SpamVerdict refused = events.checkEventForSpam(second);
        assertThat(refused).isInstanceOf(Rejection.class);
        assertThat(events.checkEventForSpam(second)).isEqualTo(refused);
    }

    @Test
    void explainingAnEventAlreadyAnsweredGivesTheAnswerItGetsWhenAskedAgainAndTakesNothing() {
        PolicyModule limits = module(Map.of("events.per-sender.capacity", "1", "events.per-sender.period", "1m"));
        CheckEventForSpam events = limits.implementation(CheckEventForSpam.TYPE).orElseThrow();
        CheckEventForSpam.Args sent = event("@alice:example.org", "!a:example.com");
        CheckEventForSpam.Args flooding = event("@alice:example.org", "!a:example.com");
        assertThat(events.checkEventForSpam(sent)).as("takes the one token").isEqualTo(SpamVerdict.NOT_SPAM);
        SpamVerdict refused = events.checkEventForSpam(flooding);

        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            CallbackEndpoint<CheckEventForSpam.Args, SpamVerdict> endpoint = eventsEndpoint(limits, runner);
            // "why was this event let through?", asked while its own token is still missing from the bucket
            assertThat(endpoint.explain(sent).steps()).singleElement().extracting(Trace.Step::reply)
                    .isEqualTo(new Reply.Answered<>(SpamVerdict.NOT_SPAM));
            now.addAndGet(Duration.ofMinutes(1).toNanos()); // the bucket is full again
            assertThat(endpoint.explain(flooding).steps()).singleElement().extracting(Trace.Step::reply)
                    .isEqualTo(new Reply.Answered<>(refused));
            assertThat(endpoint.explain(event("@alice:example.org", "!a:example.com")).steps()).singleElement()
                    .extracting(Trace.Step::reply).as("a new event, from the buckets").isEqualTo(new Reply.Answered<>(SpamVerdict.NOT_SPAM));
        }
        assertThat(events.checkEventForSpam(sent)).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(events.checkEventForSpam(flooding)).isEqualTo(refused);
        assertThat(events.checkEventForSpam(event("@alice:example.org", "!a:example.com")))
                .as("the explanations took nothing").isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @SuppressWarnings("unchecked")
    private static CallbackEndpoint<CheckEventForSpam.Args, SpamVerdict> eventsEndpoint(PolicyModule limits, ChainRunner runner) {
        ModuleInstance entry = new ModuleInstance(0, "rate_limits", "limits", limits, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5));
        return (CallbackEndpoint<CheckEventForSpam.Args, SpamVerdict>) new CallbackChains(List.of(entry), runner)
                .endpoint(Category.SPAM_CHECKER, "check_event_for_spam").orElseThrow();
    }

    @Test
    void anEventAskedTwiceAtOnceTakesOneTokenAndBothAsksGetItsAnswer() throws Exception {
        // a state slow enough (as Redis over a network) that the second asking comes while the first takes its token
        MemoryState memory = new MemoryState(now::get, 1 << 20);
        SharedState slow = new SharedState() {
            @Override
            public Take take(String key, Bucket bucket) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
                return memory.take(key, bucket);
            }

            @Override
            public Take peek(String key, Bucket bucket) {
                return memory.peek(key, bucket);
            }

            @Override
            public long countDistinct(String key, String member, Duration window) {
                return memory.countDistinct(key, member, window);
            }

            @Override
            public long peekDistinct(String key, String member, Duration window) {
                return memory.peekDistinct(key, member, window);
            }

            @Override
            public boolean remote() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        CheckEventForSpam events = new RateLimitsModuleType(slow, wallClock::get)
                .create(ModuleConfigs.bind(RateLimitsConfig.class, Map.of(),
                                Map.of("events.per-sender.capacity", "1", "events.per-sender.period", "1h")),
                        new ModuleContext("limits", "example.com", meters))
                .implementation(CheckEventForSpam.TYPE).orElseThrow();
        CheckEventForSpam.Args event = event("@alice:example.org", "!a:example.com");

        try (ExecutorService askers = Executors.newFixedThreadPool(2)) {
            Future<SpamVerdict> homeserver = askers.submit(() -> events.checkEventForSpam(event));
            Future<SpamVerdict> policyServer = askers.submit(() -> events.checkEventForSpam(event));

            assertThat(homeserver.get()).isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(policyServer.get()).isEqualTo(SpamVerdict.NOT_SPAM);
        }
        assertThat(events.checkEventForSpam(event("@alice:example.org", "!a:example.com")))
                .as("the one token was taken once").isInstanceOf(Rejection.class);
    }

    @Test
    void anEventAskedAgainWhileItStillCountsTakesNoSecondTokenFromItsSenderOrItsRoom() {
        CheckEventForSpam events = module(Map.of("events.per-sender.capacity", "2", "events.per-sender.period", "1h",
                "events.per-room.capacity", "2", "events.per-room.period", "1h")).implementation(CheckEventForSpam.TYPE).orElseThrow();
        CheckEventForSpam.Args sent = sentAgo(Duration.ZERO);
        assertThat(events.checkEventForSpam(sent)).isEqualTo(SpamVerdict.NOT_SPAM);

        // half an hour on, any server that has a copy of it asks the policy server about it again, and again
        wallClock.addAndGet(Duration.ofMinutes(30).toMillis());
        for (int i = 0; i < 3; i++) {
            assertThat(events.checkEventForSpam(sent)).isEqualTo(SpamVerdict.NOT_SPAM);
        }

        assertThat(events.checkEventForSpam(event("@busy:example.org", "!a:example.com")))
                .as("the sender's next message, in the same room: one token is left in each bucket").isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void historyTheHomeserverFetchedIsNeitherCountedNorRefused() {
        CheckEventForSpam events = module(Map.of("events.per-sender.capacity", "2", "events.per-sender.period", "1m"))
                .implementation(CheckEventForSpam.TYPE).orElseThrow();
        for (int i = 0; i < 10; i++) { // a scroll back through a busy user's messages of yesterday
            assertThat(events.checkEventForSpam(sentAgo(Duration.ofDays(1)))).isEqualTo(SpamVerdict.NOT_SPAM);
        }

        assertThat(events.checkEventForSpam(sentAgo(Duration.ofSeconds(1)))).as("their bucket is still full").isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(events.checkEventForSpam(sentAgo(Duration.ofMinutes(59)))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(events.checkEventForSpam(sentAgo(Duration.ZERO))).as("within the hour counts").isInstanceOf(Rejection.class);
    }

    @Test
    void skipOlderThanZeroCountsEveryEventWhateverItsAge() {
        CheckEventForSpam events = module(Map.of("events.per-sender.capacity", "1", "events.per-sender.period", "1m",
                "events.skip-older-than", "0s")).implementation(CheckEventForSpam.TYPE).orElseThrow();

        assertThat(events.checkEventForSpam(sentAgo(Duration.ofDays(1)))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(events.checkEventForSpam(sentAgo(Duration.ofDays(1)))).isInstanceOf(Rejection.class);
    }
}
