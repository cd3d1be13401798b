package dev.matrixpolicy.gateway.decisions;

import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import tools.jackson.databind.node.ObjectNode;

/**
 * The most recent refusals and failures, at most {@code capacity} of them: a ring that the newest
 * overwrites the oldest of. Lock-free: a writer takes the next sequence number and writes its slot;
 * a reader walks back from the newest number and skips a slot that a faster writer already reused.
 */
public final class DecisionLog implements DecisionRecorder {
    private final int capacity;
    private final Clock clock;
    private final AtomicReferenceArray<Slot> slots;
    private final AtomicLong next = new AtomicLong();

    private record Slot(long sequence, LoggedDecision decision) {
    }

    public DecisionLog(int capacity, Clock clock) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
        this.clock = clock;
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    @Override
    public void record(Refusal refusal, ObjectNode args) {
        LoggedDecision decision = LoggedDecision.of(clock.instant().truncatedTo(ChronoUnit.MILLIS), refusal, InvolvedIds.of(args));
        long sequence = next.getAndIncrement();
        // A writer a whole lap behind must not overwrite the newer decision already in its slot.
        slots.accumulateAndGet((int) (sequence % capacity), new Slot(sequence, decision),
                (held, offered) -> held == null || held.sequence() < offered.sequence() ? offered : held);
    }

    public int capacity() {
        return capacity;
    }

    /** How many were recorded since startup, including those the ring no longer holds. */
    public long recorded() {
        return next.get();
    }

    /**
     * The decisions that match the filter, newest first.
     *
     * @param limit at most this many
     */
    public List<LoggedDecision> newestFirst(LoggedDecision.Filter filter, int limit) {
        List<LoggedDecision> found = new ArrayList<>(Math.min(limit, capacity));
        long newest = next.get() - 1;
        for (long sequence = newest; sequence >= 0 && sequence > newest - capacity && found.size() < limit; sequence--) {
            Slot slot = slots.get((int) (sequence % capacity));
            // null: a writer took the number and has not written yet; another number: already reused.
            if (slot != null && slot.sequence() == sequence && slot.decision().matches(filter)) {
                found.add(slot.decision());
            }
        }
        return found;
    }
}
