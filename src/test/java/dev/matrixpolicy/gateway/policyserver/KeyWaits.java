package dev.matrixpolicy.gateway.policyserver;

import java.time.Duration;

/** Waits for keys in tests. */
final class KeyWaits {
    /** Waiting as long as a fetch takes: the tests that do not test how long a request waits. */
    static final KeyWait UNHURRIED = KeyWait.after(Duration.ofDays(1));

    private KeyWaits() {
    }
}
