package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class RepeatedWarningsTest {
    private static final String LOGGER = RepeatedWarningsTest.class.getName() + ".outage";

    @RegisterExtension
    final LoggedLines logs = LoggedLines.of(LOGGER, Level.DEBUG);

    private final Logger logger = LoggerFactory.getLogger(LOGGER);
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
    private final RepeatedWarnings warnings = new RepeatedWarnings(now::get);

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

        assertThat(logs.at(Level.WARN)).containsExactly("Module floods threw on user_may_invite: Redis is down",
                "Module floods threw on user_may_join_room: Redis is down");
        assertThat(logs.at(Level.DEBUG)).hasSize(1_998);
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

        assertThat(logs.at(Level.WARN)).containsExactly("Module floods threw on user_may_invite: Redis is down",
                        "Module floods threw on user_may_invite: Redis is down (and 2 more like it since the last such"
                                + " warning, logged at DEBUG)",
                        "Module floods threw on user_may_invite: Redis is down");
    }
}
