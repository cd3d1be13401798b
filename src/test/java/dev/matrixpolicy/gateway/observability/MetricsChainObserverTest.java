package dev.matrixpolicy.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.chain.ChainObserver.LinkOutcome;
import dev.matrixpolicy.gateway.chain.ModuleFailedException;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The chain's series, as a reload that removes a module and a later one that adds it back leave them. */
class MetricsChainObserverTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MetricsChainObserver observer = new MetricsChainObserver(registry);

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("Module bans failed on user_may_invite");

    @Test
    void aSeriesRemovedFromTheRegistryIsRegisteredAfreshWhenItsModuleCountsAgain() {
        observer.linkCompleted("user_may_invite", "bans", 1_000, LinkOutcome.FAILED, new IllegalStateException("down"));
        Counter before = registry.find(MetricsChainObserver.MODULE_FAILURES).tag("module", "bans").counter();
        registry.remove(before);
        registry.remove(registry.find(MetricsChainObserver.MODULE).tag("module", "bans").timer());

        observer.linkCompleted("user_may_invite", "bans", 1_000, LinkOutcome.FAILED, new IllegalStateException("down"));

        Counter after = registry.find(MetricsChainObserver.MODULE_FAILURES).tag("module", "bans").counter();
        assertThat(after).isNotNull().isNotSameAs(before);
        assertThat(after.count()).isEqualTo(1.0);
        assertThat(registry.find(MetricsChainObserver.MODULE).tag("module", "bans").timer().count()).isEqualTo(1);
    }

    /**
     * A reload removes a module's series with the registry's lock held, and the registry tells the
     * observer, which drops them from its caches. A request registering another module's first meter
     * used to do it inside its cache's lock (computeIfAbsent), then wait for the registry's: when the
     * two keys shared a bin of the cache, the removal waited for the request and the request for the
     * removal, for good, and with them every later registration of a meter and every request whose
     * key was in that bin. "Aa" and "BB" have one hash code, so their keys share a bin.
     */
    @Test
    void aModuleRegisteringItsFirstMeterWhileAnotherModulesSeriesAreRemovedHoldsNeitherUp() throws Exception {
        SimpleMeterRegistry slowToRegister = new SimpleMeterRegistry();
        CountDownLatch registering = new CountDownLatch(1);
        AtomicReference<Thread> remover = new AtomicReference<>();
        // holds the request's registration of its meter until the removal has ended, or waits on a lock
        slowToRegister.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                if ("BB".equals(id.getTag("module"))) {
                    registering.countDown();
                    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    while (System.nanoTime() < end && (remover.get() == null
                            || remover.get().isAlive() && remover.get().getState() != Thread.State.BLOCKED)) {
                        Thread.onSpinWait();
                    }
                }
                return id;
            }
        });
        MetricsChainObserver observed = new MetricsChainObserver(slowToRegister);
        observed.linkCompleted("user_may_invite", "Aa", 1_000, LinkOutcome.ANSWERED, null);
        Timer removed = slowToRegister.find(MetricsChainObserver.MODULE).tag("module", "Aa").timer();

        Thread request = Thread.ofPlatform().daemon().start(
                () -> observed.linkCompleted("user_may_invite", "BB", 1_000, LinkOutcome.ANSWERED, null));
        assertThat(registering.await(5, TimeUnit.SECONDS)).isTrue();
        remover.set(Thread.ofPlatform().daemon().start(() -> slowToRegister.remove(removed)));

        assertThat(request.join(Duration.ofSeconds(5))).as("the request ended").isTrue();
        assertThat(remover.get().join(Duration.ofSeconds(5))).as("the removal ended").isTrue();
        assertThat(slowToRegister.find(MetricsChainObserver.MODULE).tag("module", "BB").timer().count()).isEqualTo(1);
        assertThat(slowToRegister.find(MetricsChainObserver.MODULE).tag("module", "Aa").timer()).isNull();
    }

    @RegisterExtension
    final LoggedLines logged = LoggedLines.of("dev.matrixpolicy.gateway.decisions", Level.WARN);

    /** A third-party module's message, quoting a backend's reply as it came: a line break and an escape sequence. */
    private static final String FORGING = "backend said: ok\n2026-12-05T00:00:00Z  INFO forged line \u001b[31m";

    @Test
    void aFailingModulesMessageCannotForgeALogLineOrReachTheTerminal() {
        observer.linkCompleted("user_may_invite", "third-party", 1_000, LinkOutcome.FAILED, new IllegalStateException(FORGING));
        observer.chainFailed("user_may_join_room", new ModuleFailedException("user_may_join_room", "third-party",
                new IllegalStateException(FORGING)), 1_000);

        assertThat(logged.at(Level.WARN)).hasSize(2).allSatisfy(line -> assertThat(line)
                .doesNotContain("\n").doesNotContain("\u001b").contains("ok\\u000A2026-12-05T00:00:00Z  INFO forged line \\u001B[31m"));
    }

    @Test
    void aBuiltInModulesMessageEscapedOnceIsLoggedAsItWasWritten() {
        String message = "backend answered " + LogText.quoted("no\nway");

        observer.linkCompleted("user_may_invite", "built-in", 1_000, LinkOutcome.FAILED, new IllegalStateException(message));

        assertThat(logged.at(Level.WARN)).singleElement().asString().endsWith(": java.lang.IllegalStateException: " + message)
                .contains("\"no\\u000Away\"");
    }

    @Test
    void aFailingModulesMessageIsCutAsLogTextCutsText() {
        observer.linkCompleted("user_may_invite", "verbose", 1_000, LinkOutcome.FAILED, new IllegalStateException("x".repeat(10_000)));

        assertThat(logged.at(Level.WARN)).singleElement().asString().endsWith("... (10033 characters)").hasSizeLessThan(400);
    }
}
