package dev.matrixpolicy.gateway.state;

import java.time.Duration;

/**
 * Counters that limits keep between calls: one instance per process, in memory or in Redis. Keys are
 * the caller's own (for example {@code rate_limits:<instance>:events:sender:<user ID>}, an ID in the
 * form {@code MatrixIds.keptForm} gives it, so that a key's length is bounded whatever the ID's); the
 * implementation prefixes them, and forgets a key once its state no longer matters (a bucket idle
 * for its period is full again, a window's members all expired), so idle keys cost nothing.
 *
 * <p>Calls are thread-safe and atomic per key, across replicas too when the state is in Redis.
 */
public interface SharedState extends AutoCloseable {

    /**
     * Takes one token from the bucket under {@code key}, which starts full.
     *
     * @throws StateUnavailableException when the state cannot be reached or does not answer in time
     */
    Take take(String key, Bucket bucket);

    /**
     * What {@link #take} would answer now, taking nothing: for a question asked to explain a
     * decision, not to make one.
     *
     * @throws StateUnavailableException as {@link #take} does
     */
    Take peek(String key, Bucket bucket);

    /**
     * Records {@code member} under {@code key} as seen now, and answers how many distinct members were
     * seen under {@code key} within the last {@code window}, this one included: a sliding window of
     * distinct members, for "the same content in 5 rooms within 10 minutes" (key: a digest of the
     * content, member: the room ID) or "the same content 20 times" (member: the event ID). A member seen
     * again counts once, from its latest sighting. At most {@link #MAX_MEMBERS} members are kept per
     * key, the oldest forgotten first, so the answer never exceeds it.
     *
     * @throws StateUnavailableException when the state cannot be reached or does not answer in time
     */
    long countDistinct(String key, String member, Duration window);

    /**
     * What {@link #countDistinct} would answer now, recording nothing.
     *
     * @throws StateUnavailableException as {@link #countDistinct} does
     */
    long peekDistinct(String key, String member, Duration window);

    /** The most members {@link #countDistinct} keeps per key. */
    int MAX_MEMBERS = 10_000;

    /**
     * Whether a call may wait on the network: a module that uses this state then says it may block
     * ({@code PolicyModule.mayBlock()}), so that its entry's {@code timeout} bounds each call.
     */
    boolean remote();

    /** Releases connections; the state in memory is forgotten. Closing again does nothing. */
    @Override
    void close();
}
