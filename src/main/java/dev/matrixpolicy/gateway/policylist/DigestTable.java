package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.hashing.Probing;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Rules by a SHA-256 digest (MSC4205's hashed entities), held as the digest's raw 32 bytes, four longs
 * a slot, and probed linearly: a lookup compares numbers, with no base64 text to encode and no string
 * to read. Each slot's fifth long names its rule by the offset of its record in a {@link RuleRecords},
 * beside the digest, so that the slot is one place to read. Each slot's fingerprint (its digest's
 * seeded hash) is also in an array of its own, probed first: a tenth of the slots' size, it stays in
 * the caches far more often than they do, so a digest no rule names, which every lookup of a user on
 * no list is, mostly reads no slot at all; a hit reads its fingerprint, then its slot.
 * Built once, then read-only.
 */
final class DigestTable {
    static final int DIGEST_BYTES = 32;
    private static final int WORDS = DIGEST_BYTES / Long.BYTES;
    /** A slot's longs: the digest's words, then its record. */
    private static final int SLOT = WORDS + 1;
    private static final VarHandle WORD = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final DigestTable EMPTY = new DigestTable(new long[SLOT], new int[1], 0, new RuleTable.Duplicates.Builder().build());

    /**
     * Slot {@code s} at {@code [5s, 5s + 5)}: its digest's four words, then the record of its rule;
     * read only where {@link #fingerprints} says the slot is full.
     */
    private final long[] slots;
    /** Each slot's {@linkplain Probing#fingerprint fingerprint}, 0 for an empty one. */
    private final int[] fingerprints;
    private final int size;
    /** The records given under a digest that already had one, which are in no slot, by their digests' hashes. */
    private final RuleTable.Duplicates duplicates;

    private DigestTable(long[] slots, int[] fingerprints, int size, RuleTable.Duplicates duplicates) {
        this.slots = slots;
        this.fingerprints = fingerprints;
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
     * The records given under {@code digest} after the first, which no slot names; and perhaps a few
     * of other digests that share its hash, which the caller tells apart by their records.
     */
    int[] duplicatesOf(byte[] digest) {
        return duplicates.of(hash(digest));
    }

    /** The most slots a lookup of a digest in the table reads: 1 with no collision at all (for tests). */
    int longestProbe() {
        int length = fingerprints.length;
        int longest = 0;
        for (int slot = 0; slot < length; slot++) {
            if (fingerprints[slot] != 0) {
                int home = Probing.home(fingerprints[slot], length);
                longest = Math.max(longest, Math.floorMod(slot - home, length) + 1);
            }
        }
        return longest;
    }

    /** The record of the rule under a 32-byte digest, or {@link RuleTable#ABSENT}. */
    int get(byte[] digest) {
        int fingerprint = Probing.fingerprint(hash(digest));
        int length = fingerprints.length;
        for (int slot = Probing.home(fingerprint, length); ; slot = slot + 1 == length ? 0 : slot + 1) {
            int held = fingerprints[slot];
            if (held == 0) {
                return RuleTable.ABSENT;
            }
            if (held == fingerprint && holds(slots, slot, digest, word(digest, 0))) {
                return (int) slots[slot * SLOT + WORDS];
            }
        }
    }

    private static boolean holds(long[] slots, int slot, byte[] digest, long first) {
        int at = slot * SLOT;
        return slots[at] == first && slots[at + 1] == word(digest, 1) && slots[at + 2] == word(digest, 2)
                && slots[at + 3] == word(digest, 3);
    }

    private static long word(byte[] digest, int index) {
        return (long) WORD.get(digest, index * Long.BYTES);
    }

    /**
     * A digest's {@linkplain Probing#hash(long, long, long, long) seeded hash}, which places it: a list's
     * hashes are whatever its curator wrote, not necessarily random, and thousands sharing their first
     * bytes would otherwise share a slot.
     */
    private static int hash(byte[] digest) {
        return Probing.hash(word(digest, 0), word(digest, 1), word(digest, 2), word(digest, 3));
    }

    /** Collects entries; the first record under a digest is kept, as {@code Map.putIfAbsent} would. */
    static final class Builder {
        private final RuleTable.Entries<byte[]> entries = new RuleTable.Entries<>();

        void putIfAbsent(byte[] digest, int record) {
            if (digest.length != DIGEST_BYTES) {
                throw new IllegalArgumentException("a SHA-256 digest has 32 bytes, not " + digest.length);
            }
            entries.add(digest, record);
        }

        /** The table; the builder is not used again. */
        DigestTable build() {
            int count = entries.count();
            if (count == 0) {
                return EMPTY;
            }
            int length = count + count / 2 + 1; // at most two thirds full
            long[] slots = new long[length * SLOT];
            int[] fingerprints = new int[length];
            int size = 0;
            RuleTable.Duplicates.Builder duplicates = new RuleTable.Duplicates.Builder();
            for (int entry = 0; entry < count; entry++) {
                byte[] digest = entries.key(entry);
                long first = word(digest, 0);
                int fingerprint = Probing.fingerprint(hash(digest));
                int slot = Probing.home(fingerprint, length);
                while (fingerprints[slot] != 0 && !holds(slots, slot, digest, first)) {
                    slot = slot + 1 == length ? 0 : slot + 1;
                }
                if (fingerprints[slot] == 0) {
                    fingerprints[slot] = fingerprint;
                    for (int w = 0; w < WORDS; w++) {
                        slots[slot * SLOT + w] = word(digest, w);
                    }
                    slots[slot * SLOT + WORDS] = entries.record(entry);
                    size++;
                } else { // an earlier rule holds the digest, and keeps it
                    duplicates.add(hash(digest), entries.record(entry));
                }
            }
            return new DigestTable(slots, fingerprints, size, duplicates.build());
        }
    }
}
