package dev.matrixpolicy.gateway.support;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.pollinterval.IterativePollInterval;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * How every {@code await()} of the tests polls, unless it says otherwise: its condition at once,
 * then after 5 ms, doubling to at most 100 ms between checks.
 *
 * <p>Awaitility's own default waits 100 ms before its first check and between checks, so an
 * {@code await()} whose condition already holds took 100 ms, and one that comes true a moment
 * later up to 100 ms more than it needed: a few seconds in a class such as {@code RoomSourceTest}
 * that awaits several times in each of its 78 tests. A wait of seconds still checks ten times a
 * second, so a condition that scrapes or asks a server adds no more load than before.
 * Found by the JUnit Platform through META-INF/services, once for the test run.
 */
public final class AwaitilityDefaults implements LauncherSessionListener {
    private static final Duration FIRST_PAUSE = Duration.ofMillis(5);
    private static final Duration LONGEST_PAUSE = Duration.ofMillis(100);

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultPollInterval(IterativePollInterval.iterative(AwaitilityDefaults::doubledUpToTheLongest, FIRST_PAUSE));
    }

    private static Duration doubledUpToTheLongest(Duration pause) {
        Duration doubled = pause.multipliedBy(2);
        return doubled.compareTo(LONGEST_PAUSE) < 0 ? doubled : LONGEST_PAUSE;
    }
}
