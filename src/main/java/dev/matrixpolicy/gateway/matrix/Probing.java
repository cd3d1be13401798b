package dev.matrixpolicy.gateway.matrix;

/**
 * The slot arithmetic of the flat hash tables that look up IDs and literals by their {@code String}
 * hash ({@code RuleTable} of policy lists, the server tails of {@link GlobAutomaton}): linear
 * probing in a table sized to its entries, not to a power of two.
 */
public final class Probing {
    private Probing() {
    }

    /**
     * A {@code String} hash with bits from its top mixed in (the hashes of similar IDs differ mostly
     * in their low bits); never 0, so that 0 can mark an empty slot.
     */
    public static int fingerprint(int hash) {
        int mixed = (hash ^ (hash >>> 16)) * 0x9E3779B9;
        return mixed == 0 ? 1 : mixed;
    }

    /** The slot a fingerprint starts probing at: its high bits scaled to the table's length. */
    public static int home(int fingerprint, int slots) {
        return (int) (((fingerprint & 0xFFFFFFFFL) * slots) >>> 32);
    }
}
