package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RepeatedWarningsTest {
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(RepeatedWarningsTest.class.getName() + ".outage");
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
    private final RepeatedWarnings warnings = new RepeatedWarnings(now::get);

    @BeforeEach
    void watchLogs() {
        logs.start();
        logger.addAppender(logs);
        logger.setLevel(Level.DEBUG);
        logger.setAdditive(false); // the DEBUG lines are this test's to read, not the console's
    }

    @AfterEach
    void stopWatchingLogs() {
        logger.detachAppender(logs);
        logger.setLevel(null);
        logger.setAdditive(true);
    }

    private void fail(String kind) {
        RepeatedWarnings.Line line = warnings.line(logger, kind);
        line.event().log(line.withOmitted("Module floods threw on {}: Redis is down"), kind);
    }

    private void advanceSeconds(long seconds) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Test
    void anOutageIsOneWarningForEachKindOfFailureInTenSecondsTheRestDebug() {
        for (int call = 0; call < 1_000; call++) {
            fail("user_may_invite");
            fail("user_may_join_room");
        }

        assertThat(logs.list.stream().filter(line -> line.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage))
                .containsExactly("Module floods threw on user_may_invite: Redis is down",
                        "Module floods threw on user_may_join_room: Redis is down");
        assertThat(logs.list.stream().filter(line -> line.getLevel() == Level.DEBUG)).hasSize(1_998);
    }

    @Test
    void theNextWarningOfAKindSaysHowManyWentToDebugSinceTheLastOne() {
        fail("user_may_invite");
        advanceSeconds(5);
        fail("user_may_invite");
        fail("user_may_invite");
        advanceSeconds(5);
        fail("user_may_invite");
        advanceSeconds(60);
        fail("user_may_invite");

        assertThat(logs.list.stream().filter(line -> line.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage))
                .containsExactly("Module floods threw on user_may_invite: Redis is down",
                        "Module floods threw on user_may_invite: Redis is down (and 2 more like it since the last such"
                                + " warning, logged at DEBUG)",
                        "Module floods threw on user_may_invite: Redis is down");
    }
}
