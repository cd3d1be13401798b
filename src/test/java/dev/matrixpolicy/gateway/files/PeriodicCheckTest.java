package dev.matrixpolicy.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The thread a check runs on, when it runs, and how closing stops it. */
class PeriodicCheckTest {
    @RegisterExtension
    final LoggedLines warnings = LoggedLines.of(PeriodicCheck.class, Level.WARN);

    @Test
    void checksRunOnTheirNamedDaemonThreadAgainAndAgain() throws InterruptedException {
        List<Thread> ranOn = new CopyOnWriteArrayList<>();
        CountDownLatch thrice = new CountDownLatch(3);
        try (PeriodicCheck checks = new PeriodicCheck("periodic-test", Duration.ZERO, Duration.ofMillis(1))) {
            checks.start(() -> {
                ranOn.add(Thread.currentThread());
                thrice.countDown();
            });

            assertThat(thrice.await(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(ranOn).allSatisfy(thread -> {
            assertThat(thread.getName()).isEqualTo("periodic-test");
            assertThat(thread.isDaemon()).isTrue();
        });
    }

    /**
     * A check started while a request is answered (a reload the admin console asked for) runs with the
     * gateway's class loader, not the web application's it was started under: Tomcat warns at
     * shutdown of every thread still running with that one as its context class loader.
     */
    @Test
    void aCheckStartedUnderAnotherContextClassLoaderRunsWithTheGateways() throws Exception {
        CompletableFuture<ClassLoader> ranWith = new CompletableFuture<>();
        ClassLoader webApplication = new ClassLoader(getClass().getClassLoader()) {
        };
        try (PeriodicCheck checks = new PeriodicCheck("periodic-test", Duration.ZERO, Duration.ofSeconds(10))) {
            Thread starter = new Thread(() -> checks.start(() -> ranWith.complete(Thread.currentThread().getContextClassLoader())));
            starter.setContextClassLoader(webApplication);
            starter.start();
            starter.join();

            assertThat(ranWith.get(10, TimeUnit.SECONDS)).isSameAs(PeriodicCheck.class.getClassLoader());
        }
    }

    /**
     * An interval under a millisecond (once {@code policy-gateway.reload.check-interval: 500us}, which
     * settings now refuse): cut to whole milliseconds, it stopped the startup with a bare
     * IllegalArgumentException from the executor.
     */
    @Test
    void anIntervalShorterThanAMillisecondIsKeptNotCutToNothing() throws InterruptedException {
        CountDownLatch twice = new CountDownLatch(2);
        try (PeriodicCheck checks = new PeriodicCheck("periodic-test-micros", Duration.ofNanos(500_000), Duration.ofNanos(500_000))) {
            checks.start(twice::countDown);

            assertThat(twice.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void theFirstCheckWaitsTheFirstDelay() throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(1);
        try (PeriodicCheck checks = new PeriodicCheck("periodic-test-later", Duration.ofDays(365 * 1000), Duration.ofMillis(1))) {
            checks.start(ran::countDown);

            assertThat(ran.await(200, TimeUnit.MILLISECONDS)).isFalse();
        }
    }

    /** What the interrupted check throws is the closing: it sees so, and close() returns once it has finished. */
    @Test
    void closingInterruptsTheCheckUnderWayWhichSeesItIsClosingAndWaitsForIt() throws Exception {
        CountDownLatch underWay = new CountDownLatch(1);
        CompletableFuture<Boolean> sawClosing = new CompletableFuture<>();
        AtomicBoolean finished = new AtomicBoolean();
        PeriodicCheck checks = new PeriodicCheck("periodic-test-closing", Duration.ZERO, Duration.ofHours(1));
        checks.start(() -> {
            underWay.countDown();
            try {
                Thread.sleep(Duration.ofMinutes(1));
            } catch (InterruptedException cutShort) {
                sawClosing.complete(checks.closing());
                finished.set(true);
            }
        });
        assertThat(underWay.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(checks.closing()).isFalse();

        checks.close();

        assertThat(finished).as("waited for").isTrue();
        assertThat(sawClosing.getNow(false)).isTrue();
    }

    @Test
    void aCheckClosedBeforeItStartsNeverRuns() throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(1);
        PeriodicCheck checks = new PeriodicCheck("periodic-test-never", Duration.ZERO, Duration.ofMillis(1));
        checks.close();

        checks.start(ran::countDown);

        assertThat(ran.await(100, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(thread -> thread.getName().equals("periodic-test-never"));
    }

    /** Its executor would end the schedule for good, silently, at the first check that threw. */
    @Test
    void aCheckThatThrowsIsLoggedAndRunsAgain() throws InterruptedException {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch again = new CountDownLatch(2);
        try (PeriodicCheck checks = new PeriodicCheck("periodic-test-throws", Duration.ZERO, Duration.ofMillis(1))) {
            checks.start(() -> {
                again.countDown();
                if (runs.incrementAndGet() == 1) {
                    throw new OutOfMemoryError("Java heap space");
                }
            });

            assertThat(again.await(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(warnings.at(Level.WARN)).containsExactly(
                "periodic-test-throws: a check failed and runs again after its interval: java.lang.OutOfMemoryError: Java heap space");
    }

    @Test
    void aCheckStartsOnce() {
        try (PeriodicCheck checks = new PeriodicCheck("periodic-test-once", Duration.ofHours(1), Duration.ofHours(1))) {
            checks.start(() -> { });

            assertThatThrownBy(() -> checks.start(() -> { })).isInstanceOf(IllegalStateException.class);
        }
    }
}
