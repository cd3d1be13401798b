package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.util.unit.DataSize;

/** A swap is atomic for requests, and modules close only when nothing can call them any more. */
class GenerationsTest {
    private final ChainRunner runner = new ChainRunner(ChainObserver.NONE);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final InstanceMeters meters = new InstanceMeters(registry);
    private final List<String> closed = new ArrayList<>();

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("Shutdown: generation 1 still has 1 request(s) in flight after PT0.2S",
            "Shutdown: 1 module closing(s) still running after PT0.2S; interrupting them");

    /** The WARN line of a module whose closing fails, kept off the console. */
    @RegisterExtension
    final LoggedLines closing = LoggedLines.of(Generations.class, Level.WARN);

    @AfterEach
    void stop() {
        runner.close();
    }

    @Test
    void aLeaseKeepsItsGenerationAcrossASwapAndNewLeasesGetTheNewOne() {
        Generations generations = new Generations(generation(1, module("a")), meters, Runnable::run, Duration.ofSeconds(1));

        try (Generations.Lease inFlight = generations.lease()) {
            generations.swap(generation(2, module("b")));

            assertThat(inFlight.generation().number()).isEqualTo(1);
            try (Generations.Lease next = generations.lease()) {
                assertThat(next.generation().number()).isEqualTo(2);
            }
        }
    }

    @Test
    void theReplacedModulesCloseOnlyWhenTheLastLeaseOnTheirGenerationReturns() {
        Generations generations = new Generations(generation(1, module("old")), meters, Runnable::run, Duration.ofSeconds(1));
        Generations.Lease inFlight = generations.lease();

        generations.swap(generation(2, module("new")));
        assertThat(closed).as("a request still runs on the old chains").isEmpty();

        inFlight.close();
        assertThat(closed).containsExactly("old");
    }

    @Test
    void theSeriesOfANameNoGenerationServesGoOnceItsLastRequestIsDoneAndARebuiltNamesStay() {
        Generations generations = new Generations(generation(1, module("removed"), module("rebuilt")), meters, Runnable::run,
                Duration.ofSeconds(1));
        registry.counter("policy.decisions", "module", "removed").increment();
        registry.counter("policy.module.backend", "module", "rebuilt").increment();
        registry.counter("policy.decisions", "module", "none").increment();
        registry.counter("jvm.threads", "module", "removed").increment(); // not the gateway's own series
        Generations.Lease inFlight = generations.lease();

        generations.swap(generation(2, module("rebuilt")));
        assertThat(registry.find("policy.decisions").tag("module", "removed").counter()).as("a request still counts").isNotNull();
        inFlight.close();

        assertThat(registry.find("policy.decisions").tag("module", "removed").counter()).isNull();
        assertThat(registry.find("policy.module.backend").tag("module", "rebuilt").counter()).isNotNull();
        assertThat(registry.find("policy.decisions").tag("module", "none").counter()).isNotNull();
        assertThat(registry.find("jvm.threads").counter()).isNotNull();
    }

    @Test
    void aModuleCarriedIntoTheNextGenerationStaysOpen() {
        ModuleInstance kept = module("kept");
        Generations generations = new Generations(generation(1, kept, module("replaced")), meters, Runnable::run, Duration.ofSeconds(1));

        generations.swap(generation(2, kept, module("replacement")));

        assertThat(closed).containsExactly("replaced");
    }

    @Test
    void aModuleStillHeldByAnOlderGenerationThatIsFinishingIsNotClosedWithTheNewerOne() {
        ModuleInstance shared = module("shared");
        Generations generations = new Generations(generation(1, shared), meters, Runnable::run, Duration.ofSeconds(1));
        Generations.Lease onFirst = generations.lease();
        generations.swap(generation(2, shared));
        generations.swap(generation(3, module("other")));

        assertThat(closed).as("generation 1 still runs a request with it").isEmpty();
        onFirst.close();
        assertThat(closed).containsExactly("shared");
    }

    @Test
    void aModuleWhoseClosingFailsIsLoggedOnOneLineWhateverItsMessageHolds() {
        PolicyModule failing = new PolicyModule() {
            @Override
            public void close() { // a third-party module quoting its backend's reply
                throw new IllegalStateException("backend said: bye\n2026-12-05T00:00:00Z  INFO forged line \u001b[31m");
            }
        };
        Generations generations = new Generations(generation(1, instance("third-party", failing)), meters, Runnable::run, Duration.ofSeconds(1));

        generations.close();

        assertThat(closing.at(Level.WARN)).singleElement().asString().contains("Closing").doesNotContain("\n").doesNotContain("\u001b")
                .contains("bye\\u000A2026-12-05T00:00:00Z  INFO forged line \\u001B[31m");
    }

    @Test
    void shutdownClosesEveryServingModuleOnce() {
        Generations generations = new Generations(generation(1, module("a"), module("b")), meters, Runnable::run, Duration.ofSeconds(1));

        generations.close();
        generations.close();

        assertThat(closed).containsExactly("a", "b");
    }

    @Test
    void shutdownWaitsForALeaseHeldAcrossASwapAndClosesItsModulesOnceItIsReturned() throws Exception {
        Generations generations = new Generations(generation(1, module("old")), meters, virtualThreads(), Duration.ofSeconds(10));
        Generations.Lease inFlight = generations.lease();
        generations.swap(generation(2, module("new")));

        Thread shutdown = Thread.ofPlatform().start(generations::close);
        shutdown.join(300);
        assertThat(shutdown.isAlive()).as("waits for the request in flight").isTrue();
        assertThat(closedNow()).containsExactly("new");

        inFlight.close();
        shutdown.join(5_000);
        assertThat(shutdown.isAlive()).isFalse();
        assertThat(closedNow()).containsExactlyInAnyOrder("new", "old");
    }

    @Test
    void shutdownClosesAGenerationStillLeasedAtTheBound() {
        Generations generations = new Generations(generation(1, module("old")), meters, virtualThreads(), Duration.ofMillis(200));
        Generations.Lease stuck = generations.lease();
        generations.swap(generation(2, module("new")));

        long started = System.nanoTime();
        generations.close();

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(150), Duration.ofSeconds(5));
        assertThat(closedNow()).containsExactlyInAnyOrder("new", "old");
        stuck.close();
        assertThat(closedNow()).as("closed once").hasSize(2);
    }

    @Test
    void shutdownWaitsForARetiredGenerationsModuleToDeliverEverythingItAccepted() {
        List<String> delivered = new CopyOnWriteArrayList<>();
        List<String> accepted = List.of("one", "two", "three");
        PolicyModule queue = new PolicyModule() {
            @Override
            public void close() { // as audit_webhook drains its queue: one delivery at a time
                for (String record : accepted) {
                    sleep(100);
                    delivered.add(record);
                }
            }
        };
        Generations generations = new Generations(generation(1, instance("audit", queue)), meters, virtualThreads(), Duration.ofSeconds(10));
        generations.swap(generation(2, module("new")));

        generations.close();

        assertThat(delivered).containsExactlyElementsOf(accepted);
    }

    /**
     * A closing that outlasts the wait (an audit webhook whose grace is longer, or that closes after
     * others) is interrupted before the JVM exits, and has a moment to count what it gives up.
     */
    @Test
    void shutdownInterruptsAClosingStillRunningAtTheBoundAndWaitsForItToCountWhatItGivesUp() {
        List<String> counted = new CopyOnWriteArrayList<>();
        PolicyModule slow = new PolicyModule() {
            @Override
            public void close() { // as audit_webhook: waits for its grace, then counts what is left
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException timeUp) {
                    counted.add("dropped and counted");
                }
            }
        };
        Generations generations = new Generations(generation(1, instance("audit", slow)), meters, virtualThreads(), Duration.ofMillis(200));

        long started = System.nanoTime();
        generations.close();

        assertThat(counted).containsExactly("dropped and counted");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    /** A reload the file watcher began before the shutdown, ending after it began. */
    @Test
    void aSwapAfterShutdownBeganIsRefusedAndClosesTheModulesOnlyItHeld() {
        ModuleInstance kept = module("kept");
        Generations generations = new Generations(generation(1, kept), meters, Runnable::run, Duration.ofSeconds(1));
        generations.close();
        assertThat(closedNow()).containsExactly("kept");

        assertThatThrownBy(() -> generations.swap(generation(2, kept, module("late"))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("shutting down");

        assertThat(closedNow()).as("each closed once, the late one too").containsExactlyInAnyOrder("kept", "late");
        assertThat(generations.current().number()).isEqualTo(1);
    }

    /** A reload removes an entry, the next adds it back before the removed instance's closing ran. */
    @Test
    void aNameConfiguredAgainBeforeTheOldInstanceClosedKeepsTheNewInstancesSeries() {
        List<Runnable> closings = new ArrayList<>();
        PolicyModule removed = closing("list");
        PolicyModule returning = closing("list");
        meters.keep(removed, List.of(meters -> Gauge.builder("policy.module.entries", () -> 1).tag("module", "list").register(meters)));
        meters.keep(returning, List.of(meters -> Gauge.builder("policy.module.entries", () -> 2).tag("module", "list").register(meters)));
        Generations generations = new Generations(generation(1, instance("list", removed)), meters, closings::add, Duration.ofSeconds(1));
        generations.swap(generation(2, module("other")));
        generations.swap(generation(3, module("other2"), instance("list", returning)));

        closings.forEach(Runnable::run); // the first removal's closing, late

        assertThat(registry.get("policy.module.entries").tag("module", "list").gauge().value()).isEqualTo(2.0);
    }

    @Test
    void aReplacementWithTheSameNameReportsItsOwnStateNotTheOldOnes() {
        AtomicInteger oldSize = new AtomicInteger(1);
        AtomicInteger newSize = new AtomicInteger(2);
        PolicyModule old = closing("list");
        PolicyModule replacement = closing("list");
        meters.keep(old, List.of(meters -> Gauge.builder("entries", oldSize, AtomicInteger::get).register(meters)));
        meters.keep(replacement, List.of(meters -> Gauge.builder("entries", newSize, AtomicInteger::get).register(meters)));
        Generations generations = new Generations(generation(1, instance("list", old)), meters, Runnable::run, Duration.ofSeconds(1));
        assertThat(registry.get("entries").gauge().value()).isEqualTo(1.0);

        generations.swap(generation(2, instance("list", replacement)));

        assertThat(registry.get("entries").gauge().value()).isEqualTo(2.0);
    }

    private Generation generation(long number, ModuleInstance... modules) {
        PolicyGatewayProperties properties = new PolicyGatewayProperties("example.com", new PolicyGatewayProperties.Auth(null, null),
                new PolicyGatewayProperties.Admin(null, null), new PolicyGatewayProperties.DecisionLog(100),
                new PolicyGatewayProperties.Defaults(FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5)), DataSize.ofMegabytes(1),
                List.of(), new PolicyGatewayProperties.Reload(true, Duration.ofSeconds(1)),
                PolicyGatewayProperties.PolicyServer.disabled(), PolicyGatewayProperties.State.inMemory());
        return new Generation(number, properties, List.of(modules), new CallbackChains(List.of(modules), runner),
                Optional.empty(), Optional.empty(), Instant.EPOCH);
    }

    private static Consumer<Runnable> virtualThreads() {
        return task -> Thread.ofVirtual().start(task);
    }

    private List<String> closedNow() {
        synchronized (closed) {
            return List.copyOf(closed);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private ModuleInstance module(String name) {
        return instance(name, closing(name));
    }

    private static ModuleInstance instance(String name, PolicyModule module) {
        return new ModuleInstance(0, "test", name, module, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1));
    }

    private PolicyModule closing(String name) {
        return new PolicyModule() {
            @Override
            public void close() {
                synchronized (closed) {
                    closed.add(name);
                }
            }
        };
    }
}
