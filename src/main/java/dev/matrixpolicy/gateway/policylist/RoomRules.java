package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.policylist.PolicyEvents.Change;
import dev.matrixpolicy.gateway.policylist.PolicyEvents.Cleared;
import dev.matrixpolicy.gateway.policylist.PolicyEvents.Set;
import dev.matrixpolicy.gateway.policylist.PolicyEvents.Skipped;
import dev.matrixpolicy.gateway.policylist.PolicyEvents.Slot;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.JsonNode;

/**
 * A policy room's rule slots as its state events left them: each (type, state key) holds a rule, or
 * a rule event this gateway cannot apply (counted by reason), or nothing. Only what the slots hold is
 * kept, never the events. Not thread-safe: one source's reading thread owns it.
 *
 * <p>A large list repeats a few strings in every rule: the event type, the moderators who send
 * rules, the usual reasons. {@link PolicyEvents} reads each of them as one shared instance
 * ({@link Shared}), so the slots hold them once.
 */
final class RoomRules {
    private final String source;
    private final Map<Slot, Change> slots = new HashMap<>();
    /** The rules set in slots that held none, since {@link #takeAdded}; meaningful while {@link #onlyAdded}. */
    private List<PolicyRule> added = new ArrayList<>();
    /**
     * Whether every change since {@link #takeAdded} set a rule in a slot that held none. False until
     * the first call: rules read afresh are no addition to what was handed over before, and a full
     * read of a million rules need not list them a second time.
     */
    private boolean onlyAdded;

    RoomRules(String source) {
        this.source = source;
    }

    /**
     * Applies one state event; anything that is not a rule event is ignored.
     *
     * @return whether a slot changed
     */
    boolean apply(JsonNode stateEvent) {
        return PolicyEvents.read(stateEvent, source).map(this::apply).orElse(false);
    }

    /** As {@link #apply(JsonNode)}, for the event a parser is on, read to its last token. */
    boolean apply(JsonParser stateEvent) {
        return PolicyEvents.read(stateEvent, source).map(this::apply).orElse(false);
    }

    private boolean apply(Change change) {
        if (change instanceof Cleared cleared && cleared.why().isEmpty()) {
            Change removed = slots.remove(change.slot());
            noteRemoved(removed);
            return removed != null;
        }
        Change before = slots.put(change.slot(), change);
        if (change.equals(before)) {
            return false;
        }
        noteRemoved(before);
        if (change instanceof Set set && onlyAdded) {
            added.add(set.rule());
        }
        return true;
    }

    /** A change took a rule out of its slot: this update no longer only adds. */
    private void noteRemoved(Change before) {
        if (before instanceof Set) {
            onlyAdded = false;
            added = new ArrayList<>();
        }
    }

    /**
     * The rules added since the last call, when adding them is all that changed the rules since
     * then (each set in a slot that held no rule); empty when a rule was also removed or replaced.
     * Starts afresh either way.
     */
    Optional<List<PolicyRule>> takeAdded() {
        Optional<List<PolicyRule>> taken = onlyAdded ? Optional.of(Collections.unmodifiableList(added)) : Optional.empty();
        added = new ArrayList<>();
        onlyAdded = true;
        return taken;
    }

    /**
     * Empties each slot whose current event is one of these, as their redaction does. A redaction
     * names only an event ID, so this looks through every slot once: redactions are rare, and an index
     * of event IDs would cost every rule memory to speed up only them. An ID that no slot holds now (a
     * message, or a rule replaced since) changes nothing.
     *
     * @return whether a slot changed
     */
    boolean redact(Collection<String> eventIds) {
        if (eventIds.isEmpty()) {
            return false;
        }
        boolean changed = false;
        for (Iterator<Change> slot = slots.values().iterator(); slot.hasNext(); ) {
            Change change = slot.next();
            if (change.eventId().filter(eventIds::contains).isPresent()) {
                slot.remove();
                noteRemoved(change);
                changed = true;
            }
        }
        return changed;
    }

    /** The rules of the slots that hold one. */
    List<PolicyRule> rules() {
        List<PolicyRule> rules = new ArrayList<>(slots.size());
        for (Change change : slots.values()) {
            if (change instanceof Set set) {
                rules.add(set.rule());
            }
        }
        return Collections.unmodifiableList(rules);
    }

    /** How many slots hold a rule event that could not be applied, by reason. */
    Map<Skipped, Integer> skipped() {
        Map<Skipped, Integer> skipped = new EnumMap<>(Skipped.class);
        for (Change change : slots.values()) {
            if (change instanceof Cleared cleared && cleared.why().isPresent()) {
                skipped.merge(cleared.why().get(), 1, Integer::sum);
            }
        }
        return Collections.unmodifiableMap(skipped);
    }

    int ruleCount() {
        return (int) slots.values().stream().filter(Set.class::isInstance).count();
    }

    /** Whether both hold the same slots alike: a full re-read that found nothing new is no update. */
    boolean sameAs(RoomRules other) {
        return slots.equals(other.slots);
    }
}
