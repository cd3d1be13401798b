package dev.matrixpolicy.gateway.policyserver;

import java.time.Duration;

/**
 * Until when ({@link System#nanoTime}) one request waits for other servers' keys. A request to the
 * policy server may need the keys of the server asking and of up to three servers that must have
 * signed its event, looked up one after another ({@link EventAuthenticator}), and each fetch may
 * take up to twice {@code key-fetch-timeout}: without a bound on their sum, a first restricted join
 * from two unknown servers kept its answer past the 30 seconds Synapse waits for one, so the
 * sending user saw a timeout instead of the reason. A lookup whose fetch is still running when the
 * request's wait ends stops waiting, not fetching: the keys it fetches are cached for the retry.
 *
 * @param until the {@link System#nanoTime} at which waiting ends
 */
public record KeyWait(long until) {
    /**
     * How long one request to the policy server waits for keys, from its start: Synapse gives up on
     * {@code /sign} after 30 seconds, which leaves five for the modules and the network.
     */
    public static final Duration PER_REQUEST = Duration.ofSeconds(25);

    /** Waiting until {@code wait} from now. */
    public static KeyWait after(Duration wait) {
        return new KeyWait(System.nanoTime() + wait.toNanos());
    }

    /** Waiting {@link #PER_REQUEST} from {@code startedNanos}, a request's {@link System#nanoTime} start. */
    public static KeyWait forRequestStartedAt(long startedNanos) {
        return new KeyWait(startedNanos + PER_REQUEST.toNanos());
    }

    /** Whether this wait ends before {@code nanoTime}, another {@link System#nanoTime} instant. */
    boolean endsBefore(long nanoTime) {
        return until - nanoTime < 0;
    }
}
