package dev.matrixpolicy.gateway.matrix.glob;

import dev.matrixpolicy.gateway.hashing.Probing;
import java.util.ArrayList;
import java.util.List;

/**
 * The patterns {@code *:text} where the text has no colon: by the text from an input's last colon
 * on, in a table probed linearly. Each slot has the fingerprint of its literal (its
 * {@linkplain Probing#hash seeded hash}; 0 for an empty slot), in an array of fingerprints alone,
 * and three ints in another: the lowest index of the patterns with that literal, and where the
 * literal starts and ends in one string of them all. A lookup hashes the input's tail where it
 * lies and reads fingerprints from its slot on until one agrees or a slot is empty (at most two
 * thirds of them are full); only then does it read the slot's ints and the literal to compare. So
 * an input no pattern names reads only the fingerprints, a quarter of the table's size and so more
 * often in the caches than its slots, and one that a pattern names reads two places more, whatever
 * the number of patterns: no copy. Immutable.
 */
final class ServerTails {
    private static final char COLON = ':';
    private static final int SLOT = 3;
    private final int[] fingerprints;
    /** Slot {@code s} at {@code [3s, 3s + 3)}: its pattern's index, its literal's start and end in {@link #literals}. */
    private final int[] slots;
    /** Every literal, one after another. */
    private final String literals;

    private ServerTails(int[] fingerprints, int[] slots, String literals) {
        this.fingerprints = fingerprints;
        this.slots = slots;
        this.literals = literals;
    }

    /** Whether a pattern's literal after its star is a colon and a text with no other colon. */
    static boolean holds(String literal) {
        return literal.length() > 1 && literal.charAt(0) == COLON && literal.indexOf(COLON, 1) < 0;
    }

    /** The lowest pattern whose literal ends the input, or -1. */
    int firstMatch(String input) {
        int from = input.lastIndexOf(COLON);
        if (from < 0) {
            return -1;
        }
        int fingerprint = Probing.fingerprint(Probing.hash(input, from, input.length())); // the tail where it lies
        int length = input.length() - from;
        int count = fingerprints.length;
        for (int slot = Probing.home(fingerprint, count); ; slot = slot + 1 == count ? 0 : slot + 1) {
            int held = fingerprints[slot];
            if (held == 0) {
                return -1;
            }
            int at = slot * SLOT;
            if (held == fingerprint && slots[at + 2] - slots[at + 1] == length
                    && input.regionMatches(from, literals, slots[at + 1], length)) {
                return slots[at];
            }
        }
    }

    /** Collects the patterns in index order: the first with a literal is the lowest, and is kept. */
    static final class Builder {
        private final List<String> literals = new ArrayList<>();
        private final List<Integer> indexes = new ArrayList<>();

        void add(String literal, int index) {
            literals.add(literal);
            indexes.add(index);
        }

        /** The table, or null with no patterns. */
        ServerTails build() {
            if (literals.isEmpty()) {
                return null;
            }
            int count = literals.size() + literals.size() / 2 + 1; // at most two thirds full
            int[] fingerprints = new int[count];
            int[] slots = new int[count * SLOT];
            StringBuilder text = new StringBuilder();
            for (int p = 0; p < literals.size(); p++) {
                String literal = literals.get(p);
                int fingerprint = Probing.fingerprint(Probing.hash(literal, 0, literal.length()));
                int slot = Probing.home(fingerprint, count);
                while (fingerprints[slot] != 0 && !(fingerprints[slot] == fingerprint
                        && text.substring(slots[slot * SLOT + 1], slots[slot * SLOT + 2]).equals(literal))) {
                    slot = slot + 1 == count ? 0 : slot + 1;
                }
                if (fingerprints[slot] == 0) { // else a lower pattern has the literal, and keeps it
                    int at = slot * SLOT;
                    fingerprints[slot] = fingerprint;
                    slots[at] = indexes.get(p);
                    slots[at + 1] = text.length();
                    text.append(literal);
                    slots[at + 2] = text.length();
                }
            }
            return new ServerTails(fingerprints, slots, text.toString());
        }
    }
}
