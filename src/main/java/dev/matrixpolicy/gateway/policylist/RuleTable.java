package dev.matrixpolicy.gateway.policylist;

import java.util.Arrays;

/**
 * Rules by a string key, in three flat arrays probed linearly: a fifth of the heap a {@code HashMap}
 * takes per entry (no node objects), which matters at a million rules. Built once, then read-only.
 *
 * <p>Each slot holds the key's fingerprint (a mix of its {@code String} hash) beside the key, so a
 * probe compares ints in one array and reads a key string only when the fingerprints agree: a lookup
 * of an ID no rule names touches about one cache line, not one string per slot it passes. The table
 * is sized to its entries (at most two thirds full), not to a power of two, so the fingerprints cost
 * no more heap than the power-of-two table without them did.
 */
final class RuleTable {
    private static final RuleTable EMPTY = new RuleTable(new int[1], new String[1], new PolicyRule[1], 0);

    /** 0 for an empty slot, else the fingerprint of the key there (never 0). */
    private final int[] fingerprints;
    private final String[] keys;
    private final PolicyRule[] rules;
    private final int size;

    private RuleTable(int[] fingerprints, String[] keys, PolicyRule[] rules, int size) {
        this.fingerprints = fingerprints;
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
        int fingerprint = fingerprint(key.hashCode());
        int length = fingerprints.length;
        for (int slot = home(fingerprint, length); ; slot = slot + 1 == length ? 0 : slot + 1) {
            int held = fingerprints[slot];
            if (held == 0) {
                return null;
            }
            if (held == fingerprint && keys[slot].equals(key)) {
                return rules[slot];
            }
        }
    }

    /** The hash with bits from its top mixed in (String hashes of similar IDs differ mostly in their low bits); never 0. */
    private static int fingerprint(int hash) {
        int mixed = (hash ^ (hash >>> 16)) * 0x9E3779B9;
        return mixed == 0 ? 1 : mixed;
    }

    /** The slot a fingerprint starts probing at: its high bits scaled to the table's length. */
    private static int home(int fingerprint, int length) {
        return (int) (((fingerprint & 0xFFFFFFFFL) * length) >>> 32);
    }

    /** Collects entries; the first rule under a key is kept, as {@code Map.putIfAbsent} would. */
    static final class Builder {
        private final Entries<String> entries = new Entries<>();

        void putIfAbsent(String key, PolicyRule rule) {
            entries.add(key, rule);
        }

        /** The table; the builder is not used again. */
        RuleTable build() {
            int count = entries.count();
            if (count == 0) {
                return EMPTY;
            }
            int length = count + count / 2 + 1; // at most two thirds full
            int[] fingerprints = new int[length];
            String[] tableKeys = new String[length];
            PolicyRule[] tableRules = new PolicyRule[length];
            int size = 0;
            for (int entry = 0; entry < count; entry++) {
                String key = entries.key(entry);
                int fingerprint = fingerprint(key.hashCode());
                int slot = home(fingerprint, length);
                while (fingerprints[slot] != 0 && !(fingerprints[slot] == fingerprint && tableKeys[slot].equals(key))) {
                    slot = slot + 1 == length ? 0 : slot + 1;
                }
                if (fingerprints[slot] == 0) { // else an earlier rule holds the key, and keeps it
                    fingerprints[slot] = fingerprint;
                    tableKeys[slot] = key;
                    tableRules[slot] = entries.rule(entry);
                    size++;
                }
            }
            return new RuleTable(fingerprints, tableKeys, tableRules, size);
        }
    }

    /** Keys and their rules in the order a table's builder was given them. */
    static final class Entries<K> {
        private Object[] keys = new Object[16];
        private PolicyRule[] rules = new PolicyRule[16];
        private int count;

        void add(K key, PolicyRule rule) {
            if (count == keys.length) {
                keys = Arrays.copyOf(keys, count * 2);
                rules = Arrays.copyOf(rules, count * 2);
            }
            keys[count] = key;
            rules[count] = rule;
            count++;
        }

        int count() {
            return count;
        }

        @SuppressWarnings("unchecked") // only add() writes keys, and only K
        K key(int entry) {
            return (K) keys[entry];
        }

        PolicyRule rule(int entry) {
            return rules[entry];
        }
    }
}
