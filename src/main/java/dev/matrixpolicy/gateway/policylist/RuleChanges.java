package dev.matrixpolicy.gateway.policylist;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What an update of a source changes in the rules it handed over last: the rules it adds and the
 * rules it takes out (a withdrawal, a redaction, or the old side of a replacement). A listener that
 * made something of the last update may apply these to it rather than read every rule again.
 *
 * @param added   rules that were not in the last update
 * @param removed rules of the last update that are gone
 */
public record RuleChanges(List<PolicyRule> added, List<PolicyRule> removed) {
    public RuleChanges {
        added = List.copyOf(added);
        removed = List.copyOf(removed);
    }

    /** How many rules come and go. */
    public int size() {
        return added.size() + removed.size();
    }

    /** This change, then {@code later}: what the two make together, as if handed over at once. */
    public RuleChanges then(RuleChanges later) {
        Builder both = new Builder();
        both.addAll(this);
        both.addAll(later);
        return both.build();
    }

    /** The changes to the rules {@code keeps} accepts, as a listener that applies only those sees them. */
    public RuleChanges filter(Predicate<PolicyRule> keeps) {
        return new RuleChanges(added.stream().filter(keeps).toList(), removed.stream().filter(keeps).toList());
    }

    /**
     * Collects changes one rule at a time, in order: a rule added then taken out is no change at all,
     * and one taken out then put back neither.
     */
    static final class Builder {
        private final Set<PolicyRule> added = new LinkedHashSet<>();
        private final Set<PolicyRule> removed = new LinkedHashSet<>();

        void add(PolicyRule rule) {
            if (!removed.remove(rule)) {
                added.add(rule);
            }
        }

        void remove(PolicyRule rule) {
            if (!added.remove(rule)) {
                removed.add(rule);
            }
        }

        void addAll(RuleChanges changes) {
            changes.removed.forEach(this::remove);
            changes.added.forEach(this::add);
        }

        RuleChanges build() {
            return new RuleChanges(List.copyOf(added), List.copyOf(removed));
        }

        /** Starts afresh. */
        void clear() {
            added.clear();
            removed.clear();
        }
    }

    /** Rules added, none taken out. */
    public static RuleChanges adding(Collection<PolicyRule> rules) {
        return new RuleChanges(List.copyOf(rules), List.of());
    }
}
