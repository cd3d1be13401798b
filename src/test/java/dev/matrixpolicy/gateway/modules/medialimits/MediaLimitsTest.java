package dev.matrixpolicy.gateway.modules.medialimits;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.callbacks.MediaUploadLimit;
import dev.matrixpolicy.gateway.callbacks.media_repository.OnMediaUploadLimitExceeded;
import dev.matrixpolicy.gateway.support.LoggedLines;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What {@code media_limits} logs of the uploads Synapse refuses. */
class MediaLimitsTest {
    private static final MediaUploadLimit HOURLY = new MediaUploadLimit(100, Duration.ofHours(1).toMillis());
    private static final MediaUploadLimit SYNAPSES_ZERO_PERIOD = new MediaUploadLimit(100, 0);

    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(MediaLimits.class, Level.DEBUG);

    private final AtomicLong nanos = new AtomicLong();
    private final Counter exceeded = new SimpleMeterRegistry().counter("exceeded");
    private final MediaLimits limits = new MediaLimits("media", List.of(), exceeded, nanos::get);

    @Test
    void aUserRefusedOverAndOverUnderOneLimitIsLoggedAtInfoOncePerPeriodAndCountedEachTime() {
        for (int upload = 0; upload < 1_000; upload++) {
            refuse("@hostile:example.com", HOURLY);
        }
        assertThat(lines.at(Level.INFO)).singleElement().asString().contains("@hostile:example.com", "100 bytes per PT1H");
        assertThat(lines.at(Level.DEBUG)).hasSize(999);
        assertThat(exceeded.count()).isEqualTo(1_000);

        nanos.addAndGet(Duration.ofHours(1).toNanos());
        refuse("@hostile:example.com", HOURLY);

        assertThat(lines.at(Level.INFO)).hasSize(2);
    }

    @Test
    void eachUserAndEachLimitHasItsOwnInfoLine() {
        refuse("@alice:example.com", HOURLY);
        refuse("@bob:example.com", HOURLY);
        refuse("@alice:example.com", new MediaUploadLimit(1_000, Duration.ofDays(1).toMillis()));

        assertThat(lines.at(Level.INFO)).hasSize(3);
    }

    @Test
    void aLimitOfAZeroPeriodIsLoggedAtInfoOnceAMinute() {
        refuse("@alice:example.com", SYNAPSES_ZERO_PERIOD);
        refuse("@alice:example.com", SYNAPSES_ZERO_PERIOD);
        nanos.addAndGet(MediaLimits.SHORTEST_NOTICE.toNanos());
        refuse("@alice:example.com", SYNAPSES_ZERO_PERIOD);

        assertThat(lines.at(Level.INFO)).hasSize(2);
        assertThat(lines.at(Level.DEBUG)).hasSize(1);
    }

    /**
     * An appservice registers any localpart its namespace takes (MatrixIds.userIdAsSynapseTakesIt), so
     * an uploader's ID may hold a line break or an escape sequence, as ContentRules' lines expect too.
     */
    @Test
    void aUserIdHoldingALineBreakOrAnEscapeSequenceCannotForgeALogLine() {
        refuse("@a\nINFO forged line\u001b[31m:example.com", HOURLY);

        assertThat(lines.at(Level.INFO)).singleElement().asString()
                .contains("@a\\u000AINFO forged line\\u001B[31m:example.com").doesNotContain("\n", "\u001b");
    }

    /**
     * An appservice's uploader may have an ID of any length, as rate_limits' senders may: the record of
     * noticed users keeps such an ID by its digest, as they do, so that a few long ones cannot take
     * the room the "4,000 users of the longest IDs" it is sized for share.
     */
    @Test
    void aUserIdLongerThanAnyMatrixIdIsNoticedUnderAKeyOfBoundedLength() {
        String padding = "a".repeat(100_000);
        for (int i = 0; i < 10; i++) {
            refuse("@" + i + padding + ":example.com", HOURLY);
            refuse("@" + i + padding + ":example.com", HOURLY);
        }

        assertThat(lines.at(Level.INFO)).hasSize(10);
        assertThat(limits.noticedBytes()).isLessThan(10 * 1024);
    }

    private void refuse(String userId, MediaUploadLimit limit) {
        limits.onMediaUploadLimitExceeded(new OnMediaUploadLimitExceeded.Args(userId, limit, 100, 1));
    }
}
