package dev.matrixpolicy.gateway.modules.policylist;

import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import java.util.AbstractCollection;
import java.util.Collection;
import java.util.Iterator;
import java.util.Set;

/** A source's rules of the kinds it is read for, takedowns left out unless they ban: a view, walked as needed. */
final class Kept extends AbstractCollection<PolicyRule> {
    private final Collection<PolicyRule> rules;
    private final Set<EntityKind> kinds;
    private final boolean takedownBans;
    private int size = -1;

    Kept(Collection<PolicyRule> rules, Set<EntityKind> kinds, boolean takedownBans) {
        this.rules = rules;
        this.kinds = kinds;
        this.takedownBans = takedownBans;
    }

    private boolean keeps(PolicyRule rule) {
        return keeps(rule, kinds, takedownBans);
    }

    static boolean keeps(PolicyRule rule, Set<EntityKind> kinds, boolean takedownBans) {
        return kinds.contains(rule.kind()) && (takedownBans || rule.recommendation() != Recommendation.TAKEDOWN);
    }

    @Override
    public Iterator<PolicyRule> iterator() {
        return rules.stream().filter(this::keeps).iterator(); // lazy: one rule read at a time
    }

    /** Counted on first use, by walking the rules: for log lines, not for compiling. */
    @Override
    public int size() {
        if (size < 0) {
            size = (int) rules.stream().filter(this::keeps).count();
        }
        return size;
    }
}
