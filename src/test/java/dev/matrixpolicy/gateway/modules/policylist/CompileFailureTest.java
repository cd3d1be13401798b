package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.FileSource;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractSet;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A source's rules whose compile fails (the heap runs out while a large list is compiled) leave the
 * rules in force, show the failure in the source's status and in readiness, and are compiled again
 * from the source's next read, though the file did not change.
 */
class CompileFailureTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("could not be compiled");

    @TempDir
    Path directory;

    /** Every kind; while {@code outOfMemory} is set, asking about one runs out of memory, as a compile of a large list can. */
    static final class Kinds extends AbstractSet<EntityKind> {
        final AtomicBoolean outOfMemory = new AtomicBoolean(true);
        private final Set<EntityKind> all = EnumSet.allOf(EntityKind.class);

        @Override
        public boolean contains(Object kind) {
            if (outOfMemory.get()) {
                throw new OutOfMemoryError("Java heap space");
            }
            return all.contains(kind);
        }

        @Override
        public Iterator<EntityKind> iterator() {
            return all.iterator();
        }

        @Override
        public int size() {
            return all.size();
        }
    }

    @Test
    void aCompileThatFailsIsShownAndTriedAgainAtTheSourcesNextReadUntilItSucceeds() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @spammer:example.com\n");
        FileSource source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC());
        Kinds kinds = new Kinds();
        PolicyList list = OneSourceList.of("local", file.toString(), kinds, source);
        try {
            list.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> list.status(1).failures() >= 2);
            assertThat(list.status(1).lastError()).contains("its latest rules could not be compiled: OutOfMemoryError: Java heap space");
            assertThat(list.readiness(Instant.now()).ready()).isFalse();
            assertThat(list.index().decide(EntityKind.USER, "@spammer:example.com")).isEmpty();

            long failuresBefore = list.status(1).failures();
            kinds.outOfMemory.set(false);

            await().atMost(Duration.ofSeconds(10)).until(() -> list.index().decide(EntityKind.USER, "@spammer:example.com").isPresent());
            // the compiler puts the index in force, then ends the failed compiles' outage: their error goes a moment later
            await().atMost(Duration.ofSeconds(10)).until(() -> list.status(1).lastError().isEmpty());
            assertThat(list.status(1).failures()).as("a counter of failures never goes down").isGreaterThanOrEqualTo(failuresBefore);
            assertThat(list.readiness(Instant.now()).ready()).isTrue();
        } finally {
            list.close();
        }
    }
}
