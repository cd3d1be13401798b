package dev.matrixpolicy.gateway.policylist;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Rules by a SHA-256 digest (MSC4205's hashed entities), held as the digest's raw 32 bytes, four longs
 * a slot, and probed linearly: a lookup compares numbers in one place, with no base64 text to encode
 * and no string to read. The digest is uniformly random, so its first bytes place it. Each slot
 * names its rule by the offset of its record in a {@link RuleRecords}. Built once, then read-only.
 */
final class DigestTable {
    static final int DIGEST_BYTES = 32;
    private static final int WORDS = DIGEST_BYTES / Long.BYTES;
    private static final VarHandle WORD = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final DigestTable EMPTY = new DigestTable(new long[WORDS], new int[] {RuleTable.ABSENT}, 0);

    /** Slot {@code s}'s digest in words {@code [4s, 4s + 4)}. */
    private final long[] digests;
    /** The record of each slot's rule; {@link RuleTable#ABSENT} for an empty slot. */
    private final int[] records;
    private final int size;

    private DigestTable(long[] digests, int[] records, int size) {
        this.digests = digests;
        this.records = records;
        this.size = size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** The record of the rule under a 32-byte digest, or {@link RuleTable#ABSENT}. */
    int get(byte[] digest) {
        long first = word(digest, 0);
        int length = records.length;
        for (int slot = home(first, length); ; slot = slot + 1 == length ? 0 : slot + 1) {
            int record = records[slot];
            if (record == RuleTable.ABSENT || holds(digests, slot, digest, first)) {
                return record;
            }
        }
    }

    private static boolean holds(long[] digests, int slot, byte[] digest, long first) {
        int at = slot * WORDS;
        return digests[at] == first && digests[at + 1] == word(digest, 1) && digests[at + 2] == word(digest, 2)
                && digests[at + 3] == word(digest, 3);
    }

    private static long word(byte[] digest, int index) {
        return (long) WORD.get(digest, index * Long.BYTES);
    }

    /** The slot a digest starts probing at: its top 32 bits scaled to the table's length. */
    private static int home(long first, int length) {
        return (int) (((first >>> 32) * length) >>> 32);
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
            long[] digests = new long[length * WORDS];
            int[] tableRecords = new int[length];
            Arrays.fill(tableRecords, RuleTable.ABSENT);
            int size = 0;
            for (int entry = 0; entry < count; entry++) {
                byte[] digest = entries.key(entry);
                long first = word(digest, 0);
                int slot = home(first, length);
                while (tableRecords[slot] != RuleTable.ABSENT && !holds(digests, slot, digest, first)) {
                    slot = slot + 1 == length ? 0 : slot + 1;
                }
                if (tableRecords[slot] == RuleTable.ABSENT) { // else an earlier rule holds the digest, and keeps it
                    for (int w = 0; w < WORDS; w++) {
                        digests[slot * WORDS + w] = word(digest, w);
                    }
                    tableRecords[slot] = entries.record(entry);
                    size++;
                }
            }
            return new DigestTable(digests, tableRecords, size);
        }
    }
}
