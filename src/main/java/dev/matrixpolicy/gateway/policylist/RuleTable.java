package dev.matrixpolicy.gateway.policylist;

/**
 * Rules by a string key, in two flat arrays probed linearly: a fifth of the heap a {@code HashMap}
 * takes per entry (no node objects), which matters at a million rules. Built once, then read-only.
 */
final class RuleTable {
    private static final RuleTable EMPTY = new RuleTable(new String[1], new PolicyRule[1], 0);

    private final String[] keys;
    private final PolicyRule[] rules;
    private final int size;

    private RuleTable(String[] keys, PolicyRule[] rules, int size) {
        this.keys = keys;
        this.rules = rules;
        this.size = size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** The rule under {@code key}, or null. */
    PolicyRule get(String key) {
        int mask = keys.length - 1;
        int hash = key.hashCode();
        for (int slot = spread(hash) & mask; ; slot = (slot + 1) & mask) {
            String held = keys[slot];
            if (held == null) {
                return null;
            }
            if (held.hashCode() == hash && held.equals(key)) {
                return rules[slot];
            }
        }
    }

    /** Bits from the top of the hash too: String hashes of similar IDs differ mostly in their low bits. */
    private static int spread(int hash) {
        return (hash ^ (hash >>> 16)) * 0x9E3779B9;
    }

    /** Collects entries; the first rule under a key is kept, as {@code Map.putIfAbsent} would. */
    static final class Builder {
        private String[] keys = new String[16];
        private PolicyRule[] rules = new PolicyRule[16];
        private int size;

        void putIfAbsent(String key, PolicyRule rule) {
            if ((size + 1) * 3 > keys.length * 2) { // at most two thirds full
                grow();
            }
            if (insert(keys, rules, key, rule)) {
                size++;
            }
        }

        /** The table; the builder is not used again. */
        RuleTable build() {
            return size == 0 ? EMPTY : new RuleTable(keys, rules, size);
        }

        private void grow() {
            String[] newKeys = new String[keys.length * 2];
            PolicyRule[] newRules = new PolicyRule[keys.length * 2];
            for (int slot = 0; slot < keys.length; slot++) {
                if (keys[slot] != null) {
                    insert(newKeys, newRules, keys[slot], rules[slot]);
                }
            }
            keys = newKeys;
            rules = newRules;
        }

        private static boolean insert(String[] keys, PolicyRule[] rules, String key, PolicyRule rule) {
            int mask = keys.length - 1;
            int hash = key.hashCode();
            for (int slot = spread(hash) & mask; ; slot = (slot + 1) & mask) {
                String held = keys[slot];
                if (held == null) {
                    keys[slot] = key;
                    rules[slot] = rule;
                    return true;
                }
                if (held.hashCode() == hash && held.equals(key)) {
                    return false;
                }
            }
        }
    }
}
