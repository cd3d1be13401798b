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

    /** Kinds an outsider chooses (an address for each request): their WARN lines together are bounded too. */
    @Test
    void withABudgetAtMostThatManyKindsWarnAnIntervalAndTheNextWarningCountsTheRest() {
        RepeatedWarnings addresses = new RepeatedWarnings(now::get, 3);
        for (int address = 0; address < 1_000; address++) {
            RepeatedWarnings.Line line = addresses.line(logger, "2001:db8::" + address);
            line.event().log(line.withOmitted("Refused a request from {}"), "2001:db8::" + address);
        }
        advanceSeconds(10);
        RepeatedWarnings.Line line = addresses.line(logger, "192.0.2.1");
        line.event().log(line.withOmitted("Refused a request from {}"), "192.0.2.1");

        assertThat(logs.at(Level.WARN)).containsExactly("Refused a request from 2001:db8::0", "Refused a request from 2001:db8::1",
                "Refused a request from 2001:db8::2", "Refused a request from 192.0.2.1 (and 997 of other kinds past the 10 s"
                        + " budget of warnings, logged at DEBUG)");
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
