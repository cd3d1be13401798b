package dev.matrixpolicy.gateway.modules.contentrules;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@link RecentMessages} in this gateway's memory: a Caffeine cache of (sender, fingerprint) to the
 * rooms it was seen in, forgotten {@code window} after the last sighting, with at most
 * {@code maxEntries} pairs (the least recently used go first) and {@value #MAX_ROOMS} rooms per pair.
 * Right for one gateway; replicas each count only what they saw.
 */
final class InMemoryRecentMessages implements RecentMessages {
    /** Rooms remembered per pair: beyond any sensible {@code max-rooms}, so memory stays bounded. */
    static final int MAX_ROOMS = 64;

    private record Key(String sender, long fingerprint) {
    }

    private final Cache<Key, Map<String, Instant>> sightings;

    InMemoryRecentMessages(Duration longestWindow, long maxEntries) {
        this.sightings = Caffeine.newBuilder().expireAfterWrite(longestWindow).maximumSize(maxEntries).build();
    }

    @Override
    public int roomsWithin(String sender, long fingerprint, String roomId, Instant now, Duration window) {
        Instant since = now.minus(window);
        int[] count = new int[1];
        sightings.asMap().compute(new Key(sender, fingerprint), (key, seen) -> {
            Map<String, Instant> rooms = seen != null ? seen : new LinkedHashMap<>(4, 0.75f, true);
            rooms.put(roomId, now);
            if (rooms.size() > MAX_ROOMS) {
                rooms.remove(rooms.keySet().iterator().next()); // the least recently seen
            }
            count[0] = (int) rooms.values().stream().filter(at -> !at.isBefore(since)).count();
            return rooms;
        });
        return count[0];
    }
}
