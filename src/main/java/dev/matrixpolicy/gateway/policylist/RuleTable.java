package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.hashing.Probing;
import java.util.Arrays;

/**
 * Rules by a string key, in one array probed linearly: each slot is two ints, its key's fingerprint
 * (its {@linkplain Probing#hash seeded hash}, which a list's author cannot make collide) and the
 * offset of its rule's record in a {@link RuleRecords}. No object per rule. A slot's two ints share a cache line, eight slots a line, so a lookup of an ID no
 * rule names touches about one line, and one that a rule names two: its slot's, then its record,
 * which starts with the key. Built once, then read-only.
 *
 * <p>The table is sized to its entries (at most two thirds full), not to a power of two.
 */
final class RuleTable {
    static final int ABSENT = -1;

    /**
     * Slot s at {@code [2s, 2s + 1]}: 0 for an empty slot, else the fingerprint of the key there
     * (never 0); then the record of the slot's rule.
     */
    private final int[] slots;
    private final RuleRecords records;
    private final int size;
    /** The records given under a key that already had one, which are in no slot, by their keys' fingerprints. */
    private final Duplicates duplicates;

    private RuleTable(int[] slots, RuleRecords records, int size, Duplicates duplicates) {
        this.slots = slots;
        this.records = records;
        this.size = size;
        this.duplicates = duplicates;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /**
     * The records given under {@code key} after the first, which no slot names; and perhaps a few of
     * other keys that share its fingerprint, which the caller tells apart by their records. Read in
     * a binary search, so that a withdrawal in a million rules, a few of them duplicates, costs no walk.
     */
    int[] duplicatesOf(String key) {
        return duplicates.of(Probing.fingerprint(Probing.hash(key, 0, key.length())));
    }

    /** The most slots a lookup of a key in the table reads: 1 with no collision at all (for tests). */
    int longestProbe() {
        int length = slots.length / 2;
        int longest = 0;
        for (int slot = 0; slot < length; slot++) {
            if (slots[2 * slot] != 0) {
                longest = Math.max(longest, Math.floorMod(slot - Probing.home(slots[2 * slot], length), length) + 1);
            }
        }
        return longest;
    }

    /** The record of the rule under {@code key}, or {@link #ABSENT}. */
    int get(String key) {
        int fingerprint = Probing.fingerprint(Probing.hash(key, 0, key.length()));
        int length = slots.length / 2;
        for (int slot = Probing.home(fingerprint, length); ; slot = slot + 1 == length ? 0 : slot + 1) {
            int held = slots[2 * slot];
            if (held == 0) {
                return ABSENT;
            }
            if (held == fingerprint && records.keyEquals(slots[2 * slot + 1], key)) {
                return slots[2 * slot + 1];
            }
        }
    }

    /**
     * Collects entries; the first record under a key is kept, as {@code Map.putIfAbsent} would. Only
     * each key's hash is held, not the key: keys that share a fingerprint are told apart by their
     * records, so a million rules' key strings need not stay alive until the table is built.
     */
    static final class Builder {
        private int[] hashes = new int[16];
        private int[] records = new int[16];
        private int count;

        /** @param record the offset of a record whose key is {@code key} */
        void putIfAbsent(String key, int record) {
            if (count == hashes.length) {
                hashes = Arrays.copyOf(hashes, count * 2);
                records = Arrays.copyOf(records, count * 2);
            }
            hashes[count] = Probing.hash(key, 0, key.length());
            records[count] = record;
            count++;
        }

        /** The table over {@code records}, which holds every record given; the builder is not used again. */
        RuleTable build(RuleRecords records) {
            int length = count + count / 2 + 1; // at most two thirds full
            int[] slots = new int[2 * length];
            int size = 0;
            Duplicates.Builder duplicates = new Duplicates.Builder();
            for (int entry = 0; entry < count; entry++) {
                int fingerprint = Probing.fingerprint(hashes[entry]);
                int record = this.records[entry];
                int slot = Probing.home(fingerprint, length);
                while (slots[2 * slot] != 0 && !(slots[2 * slot] == fingerprint && records.keysEqual(slots[2 * slot + 1], record))) {
                    slot = slot + 1 == length ? 0 : slot + 1;
                }
                if (slots[2 * slot] == 0) {
                    slots[2 * slot] = fingerprint;
                    slots[2 * slot + 1] = record;
                    size++;
                } else { // an earlier rule holds the key, and keeps it
                    duplicates.add(fingerprint, record);
                }
            }
            return new RuleTable(slots, records, size, duplicates.build());
        }
    }

    /**
     * Records in no slot, each under an int its key hashes to: sorted pairs packed in longs, the hash
     * above the record, so that those of one hash are a range found by binary search.
     */
    static final class Duplicates {
        private static final Duplicates NONE = new Duplicates(new long[0]);
        private static final int[] NO_RECORDS = new int[0];
        private final long[] pairs;

        private Duplicates(long[] pairs) {
            this.pairs = pairs;
        }

        /** The records under {@code hash}, in the order they were given. */
        int[] of(int hash) {
            if (pairs.length == 0) {
                return NO_RECORDS;
            }
            int from = Arrays.binarySearch(pairs, (long) hash << 32);
            from = from < 0 ? -from - 1 : from;
            int to = from;
            while (to < pairs.length && (int) (pairs[to] >> 32) == hash) {
                to++;
            }
            int[] found = new int[to - from];
            for (int pair = from; pair < to; pair++) {
                found[pair - from] = (int) pairs[pair];
            }
            return found;
        }

        static final class Builder {
            private long[] pairs = new long[0];
            private int count;

            void add(int hash, int record) {
                if (count == pairs.length) {
                    pairs = Arrays.copyOf(pairs, Math.max(16, count * 2));
                }
                pairs[count++] = (long) hash << 32 | (record & 0xFFFF_FFFFL);
            }

            Duplicates build() {
                if (count == 0) {
                    return NONE;
                }
                long[] sorted = Arrays.copyOf(pairs, count);
                Arrays.sort(sorted);
                return new Duplicates(sorted);
            }
        }
    }

    /** Keys and their records' offsets in the order a table's builder was given them. */
    static final class Entries<K> {
        private Object[] keys = new Object[16];
        private int[] records = new int[16];
        private int count;

        void add(K key, int record) {
            if (count == keys.length) {
                keys = Arrays.copyOf(keys, count * 2);
                records = Arrays.copyOf(records, count * 2);
            }
            keys[count] = key;
            records[count] = record;
            count++;
        }

        int count() {
            return count;
        }

        @SuppressWarnings("unchecked") // only add() writes keys, and only K
        K key(int entry) {
            return (K) keys[entry];
        }

        int record(int entry) {
            return records[entry];
        }
    }
}
