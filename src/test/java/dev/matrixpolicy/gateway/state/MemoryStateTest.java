package dev.matrixpolicy.gateway.state;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import dev.matrixpolicy.gateway.support.ProductionClasses;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The shared-state contract in memory, and, on a ticker the test moves, its exact arithmetic. */
class MemoryStateTest extends SharedStateContract {
    private final MemoryState state = new MemoryState();
    /** The ticker, in nanoseconds; negative, as {@link System#nanoTime()} may be. */
    private final AtomicLong now = new AtomicLong(-1_000_000_000_000L);
    private final MemoryState onTestClock = new MemoryState(now::get, 4 << 20);

    @Override
    SharedState state() {
        return state;
    }

    @AfterEach
    void close() {
        state.close();
        onTestClock.close();
    }

    @Test
    void retryAfterIsTheTimeUntilOneTokenRoundedUp() {
        Bucket bucket = new Bucket(3, Duration.ofSeconds(10));
        for (int i = 0; i < 3; i++) {
            onTestClock.take("k", bucket);
        }
        now.addAndGet(Duration.ofSeconds(1).toNanos());

        assertThat(onTestClock.take("k", bucket)).isEqualTo(new Take.Refused(Duration.ofMillis(2334)));
    }

    @Test
    void anIdleBucketNeverHoldsMoreThanItsCapacity() {
        Bucket bucket = new Bucket(2, Duration.ofSeconds(10));
        onTestClock.take("k", bucket);
        now.addAndGet(Duration.ofHours(1).toNanos());

        assertThat(onTestClock.take("k", bucket)).isEqualTo(Take.ALLOWED);
        assertThat(onTestClock.take("k", bucket)).isEqualTo(Take.ALLOWED);
        assertThat(onTestClock.take("k", bucket)).isInstanceOf(Take.Refused.class);
    }

    @Test
    void aRefusedTakeTakesNothing() {
        Bucket bucket = new Bucket(1, Duration.ofSeconds(10));
        onTestClock.take("k", bucket);
        for (int i = 0; i < 5; i++) {
            onTestClock.take("k", bucket);
        }
        now.addAndGet(Duration.ofSeconds(10).toNanos());

        assertThat(onTestClock.take("k", bucket)).isEqualTo(Take.ALLOWED);
    }

    @Test
    void manyKeysOfLongIdsAreHeldWithinTheBytesGivenNotACountOfKeys() {
        MemoryState small = new MemoryState(now::get, 1 << 20);
        Bucket bucket = new Bucket(10, Duration.ofMinutes(10));
        String padding = "x".repeat(240);
        for (int i = 0; i < 20_000; i++) {
            small.take("rate_limits:events:sender:@" + padding + i + ":example.com", bucket);
            small.countDistinct("repeated:@" + padding + i + ":example.com", "!" + padding + ":example.com", Duration.ofMinutes(10));
        }

        assertThat(small.estimatedBytes()).isLessThanOrEqualTo(1 << 20).isGreaterThan(1 << 19);
        assertThat(small.evictions()).as("the keys forgotten for room, counted").isGreaterThan(30_000);
        small.close();
    }

    @Test
    void aWindowIsWeighedByAllItsMembersNotTheLastOne() {
        MemoryState weighed = new MemoryState(now::get, 64 << 20);
        String longMember = "!" + "x".repeat(250) + ":example.com";
        for (int i = 0; i < 1_000; i++) {
            weighed.countDistinct("window", longMember + i, Duration.ofHours(1));
        }
        weighed.countDistinct("window", "!a:b", Duration.ofHours(1)); // a short member last

        assertThat(weighed.estimatedBytes()).isGreaterThan(1_000L * (MemoryState.MEMBER_OVERHEAD + 260));
        weighed.close();
    }

    /**
     * The estimate holds what buckets and windows of ordinary IDs take of the heap, so that a quarter
     * of the heap is at most a quarter: measured in a JVM of its own (nothing else allocating there),
     * with the image's serial collector and a heap small enough for compressed references.
     */
    @Test
    void theEstimateIsAtLeastWhatTheKeysTakeOfTheHeap() throws Exception {
        String classPath = String.join(java.io.File.pathSeparator, codeSource(MemoryState.class),
                codeSource(MemoryStateFootprint.class), codeSource(com.github.benmanes.caffeine.cache.Caffeine.class));
        Process measuring = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-Xms256m", "-Xmx256m", "-cp", classPath, MemoryStateFootprint.class.getName())
                .redirectErrorStream(true).start();
        String said = new String(measuring.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(measuring.waitFor()).as(said).isZero();

        List<String> fills = said.lines().toList();
        assertThat(fills).as(said).hasSize(4);
        assertThat(fills).allSatisfy(fill -> {
            String[] figures = fill.split(" ");
            assertThat(Long.parseLong(figures[1])).as(fill).isPositive().isLessThanOrEqualTo(Long.parseLong(figures[2]));
        });
    }

    private static String codeSource(Class<?> type) throws java.net.URISyntaxException {
        return java.nio.file.Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    @Test
    void countDistinctKeepsAtMostMaxMembersPerKey() {
        long count = 0;
        for (int i = 0; i <= SharedState.MAX_MEMBERS; i++) {
            count = onTestClock.countDistinct("k", "member-" + i, Duration.ofHours(1));
        }

        assertThat(count).isEqualTo(SharedState.MAX_MEMBERS);
    }

    @Test
    void timeIsAMonotonicTickerNeverTheWallClock() {
        Set<String> wallClock = Set.of("java.lang.System.currentTimeMillis", "java.time.Instant.now", "java.time.Clock.systemUTC",
                "java.time.Clock.systemDefaultZone", "java.time.InstantSource.system");
        classes().that().resideInAPackage("dev.matrixpolicy.gateway.state")
                .should(new ArchCondition<JavaClass>("never read the wall clock, which may step back and stop refills") {
                    @Override
                    public void check(JavaClass origin, ConditionEvents events) {
                        origin.getAccessesFromSelf().stream()
                                .filter(access -> wallClock.contains(access.getTargetOwner().getName() + "." + access.getName()))
                                .forEach(access -> events.add(SimpleConditionEvent.violated(origin, access.getDescription())));
                    }
                })
                .check(ProductionClasses.gateway());
    }

    @Test
    void memoryIsLocalSoNeverBlocks() {
        assertThat(state.remote()).isFalse();
    }
}
