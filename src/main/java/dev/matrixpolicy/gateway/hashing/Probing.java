package dev.matrixpolicy.gateway.hashing;

import java.security.SecureRandom;

/**
 * The slot arithmetic of the flat hash tables that look up IDs, literals and digests
 * ({@code RuleTable} and {@code DigestTable} of policy lists, the server tails of the glob automaton,
 * {@code user_denylist}'s exact IDs, presence states): linear probing in a table sized to its entries,
 * not to a power of two.
 *
 * <p>Their keys come from whoever writes a policy list or a list file, or sends the request. {@code String.hashCode} collides on demand
 * ({@code "Aa"} and {@code "BB"}, and every string made of such pairs), and a list's hashed entities
 * are whatever bytes its curator writes: keys chosen to share a hash would pile up in one run of
 * slots, making a table's build quadratic and the lookups that land in the run long. So keys are
 * hashed here with secrets of this process, which no list can know.
 */
public final class Probing {
    private static final SecureRandom SECRETS = new SecureRandom();
    /** This process's secrets: where a key lands depends on them. */
    private static final long SEED = SECRETS.nextLong();
    private static final long KEY = SECRETS.nextLong() | 1;

    private Probing() {
    }

    /** The hash of {@code text}'s characters {@code [from, to)}, with this process's secret, four characters at a time. */
    public static int hash(CharSequence text, int from, int to) {
        long hash = SEED ^ (to - from);
        int i = from;
        for (; i + 4 <= to; i += 4) {
            long block = text.charAt(i) | (long) text.charAt(i + 1) << 16 | (long) text.charAt(i + 2) << 32
                    | (long) text.charAt(i + 3) << 48;
            hash = step(hash, block);
        }
        for (; i < to; i++) {
            hash = step(hash, text.charAt(i));
        }
        return finish(hash);
    }

    /** The hash of a SHA-256 digest's four words, with this process's secret. */
    public static int hash(long first, long second, long third, long fourth) {
        return finish(step(step(step(step(SEED, first), second), third), fourth));
    }

    /**
     * Folds a block in: the 128-bit product of the running hash (the block xored in) and the secret
     * key, its two halves xored together. A product's low half alone would not do: it turns a flip of
     * the top bit into the same flip whatever the other bits, which the next block could cancel, and
     * so keys could be chosen to collide for every seed. The high half's carries depend on every bit.
     */
    private static long step(long hash, long block) {
        long mixed = hash ^ block;
        return mixed * KEY ^ Math.unsignedMultiplyHigh(mixed, KEY);
    }

    private static int finish(long hash) {
        long mixed = (hash ^ (hash >>> 32)) * 0xD6E8FEB86659FD93L;
        return (int) (mixed ^ (mixed >>> 32));
    }

    /** A hash of the methods above, never 0, so that 0 can mark an empty slot. */
    public static int fingerprint(int hash) {
        return hash == 0 ? 1 : hash;
    }

    /** The slot a fingerprint starts probing at: its high bits scaled to the table's length. */
    public static int home(int fingerprint, int slots) {
        return (int) (((fingerprint & 0xFFFFFFFFL) * slots) >>> 32);
    }
}
