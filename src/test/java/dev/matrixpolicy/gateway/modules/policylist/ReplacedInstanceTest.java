package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/**
 * An instance a reload replaced is garbage once closed, though its successor took its rules over:
 * nothing the successor keeps (its metrics' binder, say) may hold the context that names it, or every
 * reload would keep the previous instance, with its compiled rules, and the one before it.
 */
class ReplacedInstanceTest {
    @TempDir
    Path directory;

    private PolicyListConfig config(Path file) {
        PolicyListConfig.Source source = new PolicyListConfig.Source("local", null, null, null, file, Duration.ofMillis(100),
                null, Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(30),
                Duration.ofHours(1),
                DataSize.ofMegabytes(256), List.of(), List.of(), List.of());
        return new PolicyListConfig(List.of(source), null, List.of(), false, PolicyListConfig.Takedown.BAN, "M_FORBIDDEN",
                null, false, PolicyListConfig.Registration.DENY, Duration.ofHours(1), PolicyListConfig.Readiness.ALWAYS, List.of());
    }

    private static ModuleContext context(List<MeterBinder> binders, Optional<PolicyModule> predecessor) {
        return new ModuleContext("policy_list-0", "example.com", new SimpleMeterRegistry(), binders::add,
                (file, fingerprint) -> { }, predecessor);
    }

    private static boolean collected(WeakReference<?> reference) throws InterruptedException {
        for (int i = 0; i < 50 && reference.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        return reference.get() == null;
    }

    private boolean predecessorCollected(boolean passPredecessor) throws Exception {
        Path file = directory.resolve("bans-" + passPredecessor + ".txt");
        Files.writeString(file, "ban user @spammer:example.com\n");
        PolicyListModuleType type = new PolicyListModuleType();
        PolicyModule before = type.create(config(file), context(new ArrayList<>(), Optional.empty()));
        List<MeterBinder> afterBinders = new ArrayList<>(); // held, as InstanceMeters holds a serving instance's binders
        PolicyModule after = type.create(config(file), context(afterBinders, passPredecessor ? Optional.of(before) : Optional.empty()));
        try {
            before.close(); // as Generations does once the old generation drains
            WeakReference<PolicyModule> replaced = new WeakReference<>(before);
            before = null;
            return collected(replaced);
        } finally {
            after.close();
        }
    }

    @Test
    void aReplacedInstanceIsCollectedWhenNotPassedAsPredecessor() throws Exception {
        assertThat(predecessorCollected(false)).isTrue();
    }

    @Test
    void aReplacedInstanceIsCollectedOnceClosedThoughItWasItsSuccessorsPredecessor() throws Exception {
        assertThat(predecessorCollected(true)).as("the replaced instance should be collectable once closed").isTrue();
    }
}
