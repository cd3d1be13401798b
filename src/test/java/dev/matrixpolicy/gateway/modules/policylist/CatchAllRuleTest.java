package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.FileSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** A source's rule that names every ID of its kind applies, and is warned of once, and its withdrawal said. */
class CatchAllRuleTest {
    @TempDir
    Path directory;

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(PolicyList.class);

    @BeforeEach
    void watchLogs() {
        lines.start();
        logger.addAppender(lines);
        logger.setLevel(Level.INFO);
        logger.setAdditive(false); // the WARN provoked here is this test's to read, not the console's
    }

    @AfterEach
    void stopWatchingLogs() {
        logger.detachAppender(lines);
        logger.setLevel(null);
        logger.setAdditive(true);
    }

    private List<String> said(Level level) {
        return lines.list.stream().filter(line -> line.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aRuleNamingEveryUserIsWarnedOfOnceAppliesAndItsWithdrawalIsSaid() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @spammer:example.com\nban user * hijacked list\n");
        FileSource source = new FileSource("community", file, Duration.ofMillis(50), Clock.systemUTC());
        List<PolicyList.Slot> slots = List.of(
                new PolicyList.Slot("allow", "allow", "configuration", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(), Optional.empty()),
                new PolicyList.Slot("community", "file", file.toString(), EnumSet.allOf(EntityKind.class), Set.of(), Set.of(),
                        Optional.of(source)));
        PolicyList list = new PolicyList(slots, List.of(), Set.<CallbackType<?, ?, ?>>of(),
                new PolicyList.Answers("bans", "example.com", Rejection.of("M_FORBIDDEN"), false, RegistrationBehaviour.DENY, false, false, Set.of()),
                new PolicyList.Freshness(Duration.ofMinutes(5), true), Instant.now(),
                new PolicyListMetrics("bans", new SimpleMeterRegistry(), binder -> { }, Clock.systemUTC()), Optional.empty());
        try {
            list.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> !said(Level.WARN).isEmpty());
            assertThat(list.index().decide(EntityKind.USER, "@anyone:example.org")).as("it applies").isPresent();

            Files.writeString(file, "ban user @spammer:example.com\nban user * hijacked list\nban user @other:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> list.index().decide(EntityKind.USER, "@other:example.com")
                    .filter(rule -> rule.entity().value().equals("@other:example.com")).isPresent());
            Files.writeString(file, "ban user @spammer:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> !said(Level.INFO).isEmpty());

            assertThat(said(Level.WARN)).singleElement().asString()
                    .contains("source 'community' has a rule that names every ID of its kind: ban of every user (\"*\")")
                    .contains("a ban refuses everyone");
            assertThat(said(Level.INFO)).singleElement().asString().contains("source 'community' no longer has");
            assertThat(list.index().decide(EntityKind.USER, "@anyone:example.org")).isEmpty();
        } finally {
            list.close();
        }
    }
}
