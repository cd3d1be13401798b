package dev.matrixpolicy.gateway.modules.contentrules;

import java.time.Duration;

/**
 * What {@code repeated} rules remember: in which rooms a sender sent a text, and when. One method,
 * so that the in-memory store can give way to a store shared by several gateway replicas (every
 * replica must see every room for the count to be right).
 */
interface RecentMessages {

    /**
     * Records that {@code sender} sent the text of {@code fingerprint} in {@code roomId} now, and
     * answers in how many distinct rooms (this one included) they sent it within the last {@code window}.
     * Sending it again in the same room counts that room once.
     */
    int roomsWithin(String sender, long fingerprint, String roomId, Duration window);

    /** Whether a call may wait on the network (the count is in Redis), so that the entry's {@code timeout} must bound it. */
    boolean remote();
}
