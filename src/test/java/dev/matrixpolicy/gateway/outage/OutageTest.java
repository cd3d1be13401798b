package dev.matrixpolicy.gateway.outage;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class OutageTest {
    private static final String LOGGER = OutageTest.class.getName() + ".source";
    private static final Instant START = Instant.parse("2025-01-01T00:00:00Z");

    @RegisterExtension
    final LoggedLines logs = LoggedLines.of(LOGGER, Level.DEBUG);

    private final Logger logger = LoggerFactory.getLogger(LOGGER);
    private final AtomicReference<Instant> now = new AtomicReference<>(START);
    private final Outage outage = new Outage(logger, org.slf4j.event.Level.WARN, now::get);

    private void fail(String condition) {
        Outage.Failure failure = outage.failed(condition);
        failure.loud("Source 'bans' could not be read: {}", condition);
        failure.quiet("Source 'bans' still fails ({} attempts): {}", failure.failures(), condition);
    }

    private boolean works() {
        return outage.worksAgain("Source '{}' reads again, after {} failed attempt(s) since {}", "bans");
    }

    @Test
    void theFirstFailureIsAWarning() {
        fail("connection refused");

        assertThat(logs.at(Level.WARN)).containsExactly("Source 'bans' could not be read: connection refused");
        assertThat(logs.at(Level.DEBUG)).isEmpty();
    }

    @Test
    void aSecondFailureInARowIsNotAnotherWarning() {
        fail("connection refused");
        fail("connection refused");
        fail("connection refused");

        assertThat(logs.at(Level.WARN)).hasSize(1);
        assertThat(logs.at(Level.DEBUG)).containsExactly("Source 'bans' still fails (2 attempts): connection refused",
                "Source 'bans' still fails (3 attempts): connection refused");
    }

    @Test
    void aFailureOfAnotherConditionIsNewsAndContinuesTheRun() {
        fail("connection refused");
        fail("timed out");

        assertThat(logs.at(Level.WARN)).containsExactly("Source 'bans' could not be read: connection refused",
                "Source 'bans' could not be read: timed out");
        assertThat(outage.run()).contains(new Outage.Run("timed out", START, 2));
    }

    @Test
    void theCallersOwnReasonMakesAFailureNews() {
        fail("429");
        Outage.Failure failure = outage.failed("429").newsIf(true);

        assertThat(failure.first()).isFalse();
        assertThat(failure.news()).isTrue();
    }

    @Test
    void recoveryIsLoggedOnceWithTheFailedAttemptsAndSinceWhen() {
        fail("connection refused");
        now.set(START.plusSeconds(30));
        fail("connection refused");

        assertThat(works()).isTrue();
        assertThat(works()).isFalse();

        assertThat(logs.at(Level.INFO)).containsExactly("Source 'bans' reads again, after 2 failed attempt(s) since " + START);
        assertThat(outage.failing()).isFalse();
        assertThat(outage.run()).isEmpty();
    }

    @Test
    void wordsMayLeaveTheRunOut() {
        fail("connection refused");
        outage.worksAgain("Source '{}' reads again", "bans");

        assertThat(logs.at(Level.INFO)).containsExactly("Source 'bans' reads again");
    }

    @Test
    void successWhileNothingFailsLogsNothing() {
        assertThat(works()).isFalse();

        assertThat(logs.all()).isEmpty();
    }

    @Test
    void afterRecoveryTheNextFailureStartsANewRunWithAWarning() {
        fail("connection refused");
        works();
        now.set(START.plusSeconds(60));
        fail("connection refused");

        assertThat(logs.at(Level.WARN)).hasSize(2);
        assertThat(outage.run()).contains(new Outage.Run("connection refused", START.plusSeconds(60), 1));
    }

    @Test
    void anOutageOfBugsStartsWithAnErrorLineOnce() {
        Outage bugs = new Outage(logger, org.slf4j.event.Level.ERROR, now::get);
        bugs.failed().loud("Source '{}': the listener failed", "bans", new IllegalStateException("boom"));
        bugs.failed().loud("Source '{}': the listener failed", "bans", new IllegalStateException("boom"));

        assertThat(logs.at(Level.ERROR)).containsExactly("Source 'bans': the listener failed");
    }

    /** Threads failing and succeeding at once (Redis calls, audit records): one WARN starts a run, one INFO ends it. */
    @Test
    void ofManyThreadsOneStartsTheRunAndOneEndsIt() throws InterruptedException {
        int threads = 8;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> failing = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            failing.add(Thread.ofPlatform().start(() -> {
                await(go);
                for (int call = 0; call < 1_000; call++) {
                    outage.failed("down").loud("Redis is down");
                }
            }));
        }
        go.countDown();
        for (Thread thread : failing) {
            thread.join();
        }
        CountDownLatch again = new CountDownLatch(1);
        List<Thread> working = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            working.add(Thread.ofPlatform().start(() -> {
                await(again);
                outage.worksAgain("Redis answers again after {} failures");
            }));
        }
        again.countDown();
        for (Thread thread : working) {
            thread.join();
        }

        assertThat(logs.at(Level.WARN)).containsExactly("Redis is down");
        assertThat(logs.at(Level.INFO)).containsExactly("Redis answers again after " + threads * 1_000 + " failures");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
