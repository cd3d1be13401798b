package dev.matrixpolicy.gateway.module;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A list a module reads on its own, after startup and off the request path: a file, a URL, a policy
 * room. What the management port ({@code /actuator/sources}) and the admin console show of it, for
 * every module type alike; a module lists its sources in {@link PolicyModule#listSources()}.
 */
@FunctionalInterface
public interface ListSource {

    /** The source as it is now; cheap, called on the management port's threads. */
    Status status();

    /**
     * @param name        the source's name: its configuration key (e.g. {@code users-file}) or the name given it
     * @param kind        {@code file}, {@code url} or {@code room}
     * @param location    the path, URL or room
     * @param entries     what the list in force holds, by kind in alphabetical order, e.g. {@code exact: 3, glob: 1}
     * @param lastSuccess when it was last read successfully; empty before its first good read
     * @param lastError   the error of its last read, empty when that read succeeded
     * @param failures    how many reads have failed since it was built
     */
    record Status(String name, String kind, String location, Map<String, Long> entries, Optional<Instant> lastSuccess,
                  Optional<String> lastError, long failures) {
        public Status {
            entries = Collections.unmodifiableSortedMap(new TreeMap<>(entries));
        }
    }

    /**
     * How a reader keeps its part of a {@link Status}: the last good read, the last error and the
     * failures, updated by its reading thread and read by the management port's.
     */
    final class Health {
        private record Snapshot(Optional<Instant> lastSuccess, Optional<String> lastError, long failures) {
        }

        private volatile Snapshot snapshot = new Snapshot(Optional.empty(), Optional.empty(), 0);

        /** A good read: the list in force is what was read, or was already. */
        public synchronized void succeeded(Instant at) {
            snapshot = new Snapshot(Optional.of(at), Optional.empty(), snapshot.failures());
        }

        /** A read that failed; the list in force stays. */
        public synchronized void failed(String error) {
            snapshot = new Snapshot(snapshot.lastSuccess(), Optional.of(error), snapshot.failures() + 1);
        }

        public Status status(String name, String kind, String location, Map<String, Long> entries) {
            Snapshot now = snapshot;
            return new Status(name, kind, location, entries, now.lastSuccess(), now.lastError(), now.failures());
        }
    }
}
