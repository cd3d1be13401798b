package dev.matrixpolicy.gateway.matrix;

import dev.matrixpolicy.gateway.hashing.Probing;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A set of strings (folded user IDs) kept compact enough for a million of them: their UTF-8 bytes
 * one after another in a single array, each behind its length, and an open-addressing table of
 * longs, each holding an entry's hash and its offset in that array. A {@code HashSet<String>}
 * spends about 100 bytes an entry on objects and pointers; this spends the ID's bytes and about
 * 17 more (one for the length, 16 for the table at its lowest load). A length below 255 takes one
 * byte, so the entries of a list file take no more room than the file's lines: a builder sized by
 * the file never grows. A lookup hashes the string with this process's secret ({@link Probing}:
 * the entries may come from a list file someone else writes, and {@code String.hashCode} collides
 * on demand), probes a few adjacent slots and compares characters with bytes in place only on a
 * full hash match: no allocation for an ASCII ID. Immutable and thread-safe once built.
 */
final class ExactIds {
    static final ExactIds EMPTY = new Builder().build();

    /** A length from this on takes this byte and two more (big-endian); a user ID has at most 255 bytes. */
    private static final int LONG_LENGTH = 0xFF;
    private static final int MAX_ENTRY_BYTES = 0xFFFF;

    /** Each entry: its length (one byte, or {@link #LONG_LENGTH} and two bytes), then its UTF-8 bytes. */
    private final byte[] arena;
    /** 0: empty; otherwise the entry's hash in the high half and its offset in {@link #arena} plus one in the low half. */
    private final long[] slots;
    private final int size;

    private ExactIds(byte[] arena, long[] slots, int size) {
        this.arena = arena;
        this.slots = slots;
        this.size = size;
    }

    int size() {
        return size;
    }

    /** Whether the set holds {@code value}. */
    boolean contains(String value) {
        if (size == 0) {
            return false;
        }
        int hash = Probing.hash(value, 0, value.length());
        int mask = slots.length - 1;
        for (int index = hash & mask; ; index = (index + 1) & mask) {
            long slot = slots[index];
            if (slot == 0) {
                return false;
            }
            if ((int) (slot >>> 32) == hash && equalsEntry(value, (int) slot - 1)) {
                return true;
            }
        }
    }

    /** Compares characters with bytes in place while they are ASCII; a string that is not is encoded once. */
    private boolean equalsEntry(String value, int offset) {
        int start = start(arena, offset);
        int end = end(arena, offset);
        int length = value.length();
        if (end - start < length) {
            return false; // UTF-8 takes at least a byte a character
        }
        for (int i = 0; i < length; i++) {
            char c = value.charAt(i);
            if (c >= 0x80) {
                byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                return Arrays.equals(arena, start, end, bytes, 0, bytes.length);
            }
            if (arena[start + i] != c) {
                return false;
            }
        }
        return end - start == length;
    }

    /** Where the bytes of the entry at {@code offset} start. */
    private static int start(byte[] arena, int offset) {
        return (arena[offset] & 0xFF) == LONG_LENGTH ? offset + 3 : offset + 1;
    }

    /** Where the bytes of the entry at {@code offset} end. */
    private static int end(byte[] arena, int offset) {
        int length = arena[offset] & 0xFF;
        return length == LONG_LENGTH ? offset + 3 + ((arena[offset + 1] & 0xFF) << 8 | (arena[offset + 2] & 0xFF))
                : offset + 1 + length;
    }

    /** The hash {@link #contains} takes of the entry's characters (decoded once, while the set is built). */
    private static int hash(byte[] bytes, int from, int to) {
        String entry = new String(bytes, from, to - from, StandardCharsets.UTF_8);
        return Probing.hash(entry, 0, entry.length());
    }

    /** The most slots a lookup of an entry reads (for tests). */
    int longestProbe() {
        int longest = 0;
        int mask = slots.length - 1;
        for (int index = 0; index < slots.length; index++) {
            long slot = slots[index];
            if (slot != 0) {
                int home = (int) (slot >>> 32) & mask;
                longest = Math.max(longest, ((index - home) & mask) + 1);
            }
        }
        return longest;
    }

    /** Collects entries, then builds the set once: entries are appended, duplicates dropped at {@link #build()}. */
    static final class Builder {
        private byte[] arena;
        private int used;
        private int added;

        Builder() {
            this(256);
        }

        /** @param expectedBytes room for the entries to come, e.g. the size of the file they are read from */
        Builder(int expectedBytes) {
            arena = new byte[Math.max(16, expectedBytes)];
        }

        Builder add(String value) {
            int length = value.length();
            ensureRoom(3 + length);
            int header = length < LONG_LENGTH ? 1 : 3;
            boolean ascii = true;
            for (int i = 0; i < length && ascii; i++) {
                char c = value.charAt(i);
                ascii = c < 0x80;
                arena[used + header + i] = (byte) c;
            }
            if (!ascii) {
                byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                length = bytes.length;
                header = length < LONG_LENGTH ? 1 : 3;
                ensureRoom(header + length);
                System.arraycopy(bytes, 0, arena, used + header, length);
            }
            if (length > MAX_ENTRY_BYTES) {
                throw new IllegalArgumentException("longer than " + MAX_ENTRY_BYTES + " bytes");
            }
            if (header == 1) {
                arena[used] = (byte) length;
            } else {
                arena[used] = (byte) LONG_LENGTH;
                arena[used + 1] = (byte) (length >>> 8);
                arena[used + 2] = (byte) length;
            }
            used += header + length;
            added++;
            return this;
        }

        private void ensureRoom(int bytes) {
            if (used + bytes > arena.length) {
                arena = Arrays.copyOf(arena, Math.max(used + bytes, arena.length * 2));
            }
        }

        /**
         * The set of the entries added. Walks the arena once, putting each entry in the table and
         * moving it left over the duplicates dropped before it; the arena is trimmed only when more
         * than a quarter of it is unused, since a trim copies it.
         */
        ExactIds build() {
            long[] slots = new long[tableSize(added)];
            int mask = slots.length - 1;
            int kept = 0;
            int write = 0;
            for (int read = 0; read < used; ) {
                int start = start(arena, read);
                int end = end(arena, read);
                int hash = hash(arena, start, end);
                int index = hash & mask;
                boolean duplicate = false;
                for (long slot; (slot = slots[index]) != 0; index = (index + 1) & mask) {
                    int other = (int) slot - 1;
                    if ((int) (slot >>> 32) == hash && Arrays.equals(arena, start(arena, other), end(arena, other),
                            arena, start, end)) {
                        duplicate = true;
                        break;
                    }
                }
                if (!duplicate) {
                    System.arraycopy(arena, read, arena, write, end - read);
                    slots[index] = (long) hash << 32 | (write + 1L);
                    write += end - read;
                    kept++;
                }
                read = end;
            }
            byte[] entries = arena.length - write > arena.length / 4 ? Arrays.copyOf(arena, write) : arena;
            arena = null; // a builder builds once
            return new ExactIds(entries, slots, kept);
        }

        /** A power of two with at least a quarter of its slots free, so that probes stay short. */
        private static int tableSize(int entries) {
            int needed = Math.max(2, entries + entries / 3 + 1);
            return Integer.highestOneBit(needed - 1) << 1;
        }
    }
}
