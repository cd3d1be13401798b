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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.JsonNode;

/**
 * A policy room's rule slots as its state events left them: each (type, state key) holds a rule, or
 * a rule event this gateway cannot apply (counted by reason), or an emptied event, or nothing. Of the
 * slots of one state key under the spec's type and the older ones, the newest type's decides, even
 * emptied ({@link Slot}). Only what the slots hold is kept, never the events. Not thread-safe: one
 * source's reading thread owns it.
 *
 * <p>A large list repeats a few strings in every rule: the event type, the moderators who send
 * rules, the usual reasons. {@link PolicyEvents} reads each of them as one shared instance
 * ({@link Shared}), so the slots hold them once.
 *
 * <p>The slots are held to a budget of bytes, the {@code max-size} a full read of the room's state
 * has: each costs no more than the event that fills it takes in that state ({@link #cost}), so a
 * full read that fits is never refused, while syncs, which add slots one event at a time (emptied
 * ones too), cannot grow them past what a full read could hold. A change past the budget is refused
 * and noted ({@link #takeRefused}); the rules held stay.
 */
final class RoomRules {
    /**
     * The JSON of the smallest state event around the strings {@link #cost} counts:
     * {@code {"type":"","state_key":"","content":{}}}.
     */
    private static final int EVENT_JSON = 39;

    private final String source;
    private final long budget;
    private final Map<Slot, Change> slots = new HashMap<>();
    /** What the slots cost ({@link #cost}), within {@link #budget}. */
    private long held;
    /** Whether a change was refused for the budget since {@link #takeRefused}. */
    private boolean refused;
    /** How many slots are of an older type than the spec's: while none is, each slot decides its own state key. */
    private int olderTypeSlots;
    /** The rules that came and went since {@link #takeChanges}; meaningful while {@link #changesKnown}. */
    private final RuleChanges.Builder changes = new RuleChanges.Builder();
    /**
     * Whether {@link #changes} says what changed since {@link #takeChanges}. False until the first
     * call: rules read afresh are no change to what was handed over before, and a full read of a
     * million rules need not list them a second time.
     */
    private boolean changesKnown;
    /** Whether the room's {@code m.room.create} was among the full state's events read. */
    private boolean created;

    /** @param budget the bytes the slots may cost ({@link #cost}): the room's {@code max-size} */
    RoomRules(String source, long budget) {
        this.source = source;
        this.budget = budget;
    }

    /**
     * Applies one state event; anything that is not a rule event is ignored.
     *
     * @return whether a slot changed
     */
    boolean apply(JsonNode stateEvent) {
        return PolicyEvents.read(stateEvent, source).map(this::apply).orElse(false);
    }

    /**
     * As {@link #apply(JsonNode)}, for an event of the room's full state that a parser is on, read to
     * its last token; notes the room's {@code m.room.create}.
     */
    boolean apply(JsonParser stateEvent) {
        PolicyEvents.StateEvent event = PolicyEvents.readState(stateEvent, source);
        created |= event.isCreate();
        return event.change().map(this::apply).orElse(false);
    }

    /**
     * Whether a state event read so far was the room's {@code m.room.create}: every room's state holds
     * one, so a full read without it is an answer that is no room's state (an empty list, garbage),
     * which must not replace the rules in force.
     */
    boolean sawCreate() {
        return created;
    }

    /** An emptied event is kept, not forgotten: it still overrides an older type's event of its state key. */
    private boolean apply(Change change) {
        Slot slot = change.slot();
        Change replaced = slots.get(slot);
        if (change.equals(replaced)) {
            return false;
        }
        long grows = cost(change) - cost(replaced);
        if (grows > 0 && held + grows > budget) {
            refused = true; // the slot keeps what it held: a ban in force is not lifted by the refusal
            return false;
        }
        Change before = deciding(slot);
        hold(slot, change);
        if (replaced == null && !slot.isNewestType()) {
            olderTypeSlots++;
        }
        return decided(before, deciding(slot));
    }

    private void hold(Slot slot, Change change) {
        held += cost(change) - cost(slots.put(slot, change));
    }

    /**
     * What a slot's change costs of the budget: the characters of the strings it holds and the JSON
     * every state event has around them, no more than the event's bytes in the room's state (a
     * character is a byte or more in UTF-8, and escapes only lengthen it); 0 for none.
     */
    private static long cost(Change change) {
        if (change == null) {
            return 0;
        }
        long cost = EVENT_JSON + change.slot().type().length() + change.slot().stateKey().length()
                + change.eventId().map(String::length).orElse(0);
        if (change instanceof Set set) {
            PolicyRule rule = set.rule();
            cost += rule.entity().value().length() + rule.reason().length()
                    + rule.origin().sender().map(String::length).orElse(0);
        }
        return cost;
    }

    /**
     * Whether a change was refused since the last call because the slots would have cost more than
     * the budget: the rules held lack it, and a full read of the room, larger than {@code max-size}
     * too, says so as it fails. Starts afresh.
     */
    boolean takeRefused() {
        boolean taken = refused;
        refused = false;
        return taken;
    }

    /** The change that decides a slot's state key, of the slots held now. */
    private Change deciding(Slot slot) {
        // while no slot of an older type is held, one of the spec's type decides its own state key
        return olderTypeSlots == 0 && slot.isNewestType() ? slots.get(slot) : slot.deciding(slots::get);
    }

    /**
     * Notes what a state key's deciding change went from and to.
     *
     * @return whether the rules changed
     */
    private boolean decided(Change before, Change after) {
        if (Objects.equals(meaningful(before), meaningful(after))) {
            return false;
        }
        if (changesKnown && before instanceof Set set) {
            changes.remove(set.rule());
        }
        if (changesKnown && after instanceof Set set) {
            changes.add(set.rule());
        }
        return true;
    }

    /** Null for a slot that holds no rule event: nothing, or an emptied event. */
    private static Change meaningful(Change change) {
        return change instanceof Cleared cleared && cleared.why().isEmpty() ? null : change;
    }

    /** Whether the slot's change decides its state key now. */
    private boolean decides(Slot slot, Change change) {
        return olderTypeSlots == 0 || slot.deciding(slots::get) == change;
    }

    /**
     * The rules added and taken out since the last call (a replacement is both); empty before the
     * first call, when every rule held is new. Starts afresh either way.
     */
    Optional<RuleChanges> takeChanges() {
        Optional<RuleChanges> taken = changesKnown ? Optional.of(changes.build()) : Optional.empty();
        changes.clear();
        changesKnown = true;
        return taken;
    }

    /**
     * Of these event IDs, those whose redaction would empty a slot, with their slots: each the current
     * event of a slot that is not emptied yet. A redaction names only an event ID, so this looks
     * through every slot once: redactions are rare, and an index of event IDs would cost every rule
     * memory to speed up only them. An ID that no slot holds now (a message, or a rule replaced since)
     * is left out.
     */
    Map<String, Slot> redactable(Collection<String> eventIds) {
        if (eventIds.isEmpty()) {
            return Map.of();
        }
        Map<String, Slot> held = new HashMap<>();
        slots.forEach((slot, change) -> {
            if (meaningful(change) != null) {
                change.eventId().filter(eventIds::contains).ifPresent(eventId -> held.put(eventId, slot));
            }
        });
        return held;
    }

    /**
     * Empties the slots of {@code applied}, those of {@link #redactable} whose redaction took effect,
     * as their redaction does (the redacted event stays in the room's state, emptied, so it still
     * overrides an older type's).
     *
     * @return whether a slot changed
     */
    boolean redact(Map<String, Slot> redactable, Collection<String> applied) {
        boolean changed = false;
        for (String eventId : applied) {
            Slot slot = redactable.get(eventId);
            if (slot != null) {
                Change before = deciding(slot);
                hold(slot, new Cleared(slot, Optional.empty(), Optional.of(eventId))); // costs less than the rule
                changed |= decided(before, deciding(slot));
            }
        }
        return changed;
    }

    /** Empties each slot whose current event is one of these, as their redaction does. */
    boolean redact(Collection<String> eventIds) {
        return redact(redactable(eventIds), eventIds);
    }

    /** The rules of the slots that hold one. */
    List<PolicyRule> rules() {
        List<PolicyRule> rules = new ArrayList<>(slots.size());
        slots.forEach((slot, change) -> {
            if (change instanceof Set set && decides(slot, change)) {
                rules.add(set.rule());
            }
        });
        return Collections.unmodifiableList(rules);
    }

    /** How many slots hold a rule event that could not be applied, by reason. */
    Map<Skipped, Integer> skipped() {
        Map<Skipped, Integer> skipped = new EnumMap<>(Skipped.class);
        slots.forEach((slot, change) -> {
            if (change instanceof Cleared cleared && cleared.why().isPresent() && decides(slot, change)) {
                skipped.merge(cleared.why().get(), 1, Integer::sum);
            }
        });
        return Collections.unmodifiableMap(skipped);
    }

    int ruleCount() {
        int count = 0;
        for (Map.Entry<Slot, Change> slot : slots.entrySet()) {
            if (slot.getValue() instanceof Set && decides(slot.getKey(), slot.getValue())) {
                count++;
            }
        }
        return count;
    }

    /** Whether both hold the same slots alike: a full re-read that found nothing new is no update. */
    boolean sameAs(RoomRules other) {
        return slots.equals(other.slots);
    }
}
