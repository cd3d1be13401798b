package dev.matrixpolicy.gateway.modules.contentrules;

import dev.matrixpolicy.gateway.chain.DryRun;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.state.SharedState;
import java.time.Duration;

/**
 * {@link RecentMessages} in the gateway's {@link SharedState}: in memory for one replica, in Redis
 * for several, so that a sender who posts the same text in rooms whose requests land on different
 * replicas is counted once across all of them. Each (instance, window, sender, text) is one key,
 * whose members are the rooms, each counted once from its latest sighting; the state's clock decides
 * the window. The window is part of the key because a count forgets the rooms older than the window
 * it is asked with: two {@code repeated} rules of one instance with different windows (10 minutes
 * and a day) sharing a key would have the shorter one forget, at every message, the rooms the longer
 * one counts. When the state cannot be reached, the call throws and the module passes the rule over
 * (see {@code ContentRules}). An explanation ({@link DryRun}) counts without recording.
 */
final class SharedRecentMessages implements RecentMessages {
    private final SharedState state;
    private final String prefix;

    /** @param instanceName the module instance, so that two instances never share a count */
    SharedRecentMessages(SharedState state, String instanceName) {
        this.state = state;
        this.prefix = "content_rules:" + instanceName + ":";
    }

    @Override
    public int roomsWithin(String sender, long fingerprint, String roomId, Duration window) {
        String key = prefix + window.toMillis() + ":" + MatrixIds.keptForm(sender) + ":" + Long.toHexString(fingerprint);
        long rooms = DryRun.active() ? state.peekDistinct(key, roomId, window) : state.countDistinct(key, roomId, window);
        return (int) Math.min(rooms, Integer.MAX_VALUE);
    }

    @Override
    public boolean remote() {
        return state.remote();
    }
}
