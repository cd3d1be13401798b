package dev.matrixpolicy.gateway.matrix.glob;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The patterns {@code prefix*...*literal*...*suffix} with no {@code ?}: an Aho–Corasick automaton
 * over one literal of each (its key, see {@link Builder#build}), read once over the input; a pattern
 * whose key occurs is checked whole, literal by literal. Immutable.
 *
 * <p>Laid out for a lookup's memory reads, which on a large list cost more than its instructions:
 * nodes are numbered breadth first, so the levels near the root, which every input walks, share a
 * few cache lines; each node is one record of ints (its edges, fail link and outputs), its edges
 * are (label, target) pairs side by side, and the patterns to check are ints into one text of all
 * their literals. A walk so reads about two places a character where it read six, and a check two
 * where it read one per literal and two more.
 */
final class Infixes {
    // A node's record: its edges are edges[EDGES_FROM, EDGES_TO) as (label, target) pairs sorted by
    // label; FAIL is the node of the longest proper suffix of its text in the trie; OUTPUT is the
    // nearest node, itself included, along the fail links where literals end (-1 for none), and
    // NEXT_OUTPUT the same from its fail link on; its patterns are outputs[OUTPUTS_FROM, OUTPUTS_TO).
    private static final int EDGES_FROM = 0;
    private static final int EDGES_TO = 1;
    private static final int FAIL = 2;
    private static final int OUTPUT = 3;
    private static final int NEXT_OUTPUT = 4;
    private static final int OUTPUTS_FROM = 5;
    private static final int OUTPUTS_TO = 6;
    private static final int NODE = 7;
    /** Up to this many edges a node's are read in order, which touches fewer lines; more are binary-searched. */
    private static final int SCANNED_EDGES = 16;

    private final int[] nodes;
    private final int[] edges;
    /** The root's child on each ASCII character, or 0: the root is where most characters of an input lead. */
    private final int[] rootNext = new int[GlobAutomaton.CACHED_ALPHABET];
    /**
     * The patterns, each as its index and then its literals ({@link #literals}: before its first
     * star, between its stars, after its last) as {@code [start, end)} bounds in {@link #texts}:
     * {@code index, count, start, end, start, end, ...}. A node's patterns are in index order.
     */
    private final int[] outputs;
    private final String texts;
    final int patterns;

    private Infixes(TrieBuilder literals, int[] endNode, String[][] patterns, int[] indexes) {
        int count = literals.size;
        int[] edgeStart = new int[count + 1];
        int[] edgeLabel = new int[count - 1];
        int[] edgeTarget = new int[count - 1];
        literals.rows(edgeStart, edgeLabel, edgeTarget);
        // number the nodes breadth first, and write each one's edges in that order
        int[] numbered = new int[count];
        int[] order = new int[count];
        int tail = 1;
        for (int head = 0; head < tail; head++) {
            for (int edge = edgeStart[order[head]]; edge < edgeStart[order[head] + 1]; edge++) {
                numbered[edgeTarget[edge]] = tail;
                order[tail++] = edgeTarget[edge];
            }
        }
        nodes = new int[count * NODE];
        edges = new int[(count - 1) * 2];
        int written = 0;
        for (int node = 0; node < count; node++) {
            int old = order[node];
            nodes[node * NODE + EDGES_FROM] = written;
            for (int edge = edgeStart[old]; edge < edgeStart[old + 1]; edge++) {
                edges[written++] = edgeLabel[edge];
                edges[written++] = numbered[edgeTarget[edge]];
                if (node == 0 && edgeLabel[edge] < GlobAutomaton.CACHED_ALPHABET) {
                    rootNext[edgeLabel[edge]] = numbered[edgeTarget[edge]];
                }
            }
            nodes[node * NODE + EDGES_TO] = written;
        }
        // each node's patterns, in index order: patterns come in index order, and a counting sort keeps it
        int[] ending = new int[count + 1];
        for (int node : endNode) {
            ending[numbered[node] + 1]++;
        }
        for (int node = 0; node < count; node++) {
            ending[node + 1] += ending[node];
        }
        int[] sorted = new int[patterns.length];
        int[] filled = Arrays.copyOf(ending, count);
        for (int p = 0; p < patterns.length; p++) {
            sorted[filled[numbered[endNode[p]]]++] = p;
        }
        StringBuilder text = new StringBuilder();
        int[] out = new int[patterns.length * 4];
        int at = 0;
        for (int node = 0, next = 0; node < count; node++) {
            nodes[node * NODE + OUTPUTS_FROM] = at;
            for (; next < ending[node + 1]; next++) {
                String[] parts = patterns[sorted[next]];
                if (at + 2 + parts.length * 2 > out.length) {
                    out = Arrays.copyOf(out, Math.max(out.length * 2, at + 2 + parts.length * 2));
                }
                out[at++] = indexes[sorted[next]];
                out[at++] = parts.length;
                for (String part : parts) {
                    out[at++] = text.length();
                    text.append(part);
                    out[at++] = text.length();
                }
            }
            nodes[node * NODE + OUTPUTS_TO] = at;
        }
        outputs = Arrays.copyOf(out, at);
        texts = text.toString();
        this.patterns = patterns.length;
        link();
    }

    /** Sets each node's fail and output links, breadth first: a node's links follow from its parent's. */
    private void link() {
        nodes[OUTPUT] = ends(0) ? 0 : -1;
        nodes[NEXT_OUTPUT] = -1;
        for (int node = 0; node < nodes.length / NODE; node++) {
            for (int edge = nodes[node * NODE + EDGES_FROM]; edge < nodes[node * NODE + EDGES_TO]; edge += 2) {
                int child = edges[edge + 1];
                int link = 0;
                if (node != 0) {
                    int from = nodes[node * NODE + FAIL];
                    int next = child(from, edges[edge]);
                    while (next < 0 && from != 0) {
                        from = nodes[from * NODE + FAIL];
                        next = child(from, edges[edge]);
                    }
                    link = next < 0 ? 0 : next;
                }
                nodes[child * NODE + FAIL] = link;
                nodes[child * NODE + NEXT_OUTPUT] = nodes[link * NODE + OUTPUT];
                nodes[child * NODE + OUTPUT] = ends(child) ? child : nodes[link * NODE + OUTPUT];
            }
        }
    }

    private boolean ends(int node) {
        return nodes[node * NODE + OUTPUTS_FROM] < nodes[node * NODE + OUTPUTS_TO];
    }

    private int child(int node, int codePoint) {
        if (node == 0 && codePoint < GlobAutomaton.CACHED_ALPHABET) {
            int next = rootNext[codePoint];
            return next == 0 ? -1 : next;
        }
        int from = nodes[node * NODE + EDGES_FROM];
        int to = nodes[node * NODE + EDGES_TO];
        if (to - from > 2 * SCANNED_EDGES) {
            int low = from / 2;
            int high = to / 2 - 1;
            while (low <= high) {
                int middle = (low + high) >>> 1;
                int label = edges[middle * 2];
                if (label == codePoint) {
                    return edges[middle * 2 + 1];
                } else if (label < codePoint) {
                    low = middle + 1;
                } else {
                    high = middle - 1;
                }
            }
            return -1;
        }
        for (int edge = from; edge < to && edges[edge] <= codePoint; edge += 2) {
            if (edges[edge] == codePoint) {
                return edges[edge + 1];
            }
        }
        return -1;
    }

    /**
     * The lower of {@code best} and the lowest of these patterns that matches the whole input (-1 for
     * none); with {@code any}, as soon as one below {@code best} is found, that one, not
     * necessarily the lowest ({@link GlobAutomaton#anyMatch} passes -1, so any match will do).
     */
    int firstMatch(String input, int best, boolean any) {
        int node = 0;
        for (int i = 0, length = input.length(); i < length; ) {
            char c = input.charAt(i);
            if (node == 0 && c < GlobAutomaton.CACHED_ALPHABET && rootNext[c] == 0) {
                i++; // the usual character: it starts no literal, and the root has no output
                continue;
            }
            int codePoint = input.codePointAt(i);
            i += Character.charCount(codePoint);
            int next = child(node, codePoint);
            while (next < 0 && node != 0) {
                node = nodes[node * NODE + FAIL];
                next = child(node, codePoint);
            }
            node = next < 0 ? 0 : next;
            for (int found = nodes[node * NODE + OUTPUT]; found >= 0; found = nodes[found * NODE + NEXT_OUTPUT]) {
                for (int out = nodes[found * NODE + OUTPUTS_FROM], end = nodes[found * NODE + OUTPUTS_TO]; out < end;
                        out += 2 + outputs[out + 1] * 2) {
                    int index = outputs[out];
                    if ((best < 0 || index < best) && literalsMatch(out, input)) {
                        if (any) {
                            return index;
                        }
                        best = index;
                    }
                }
            }
        }
        return best;
    }

    /** The most patterns keyed by one literal. */
    int largestGroup() {
        int largest = 0;
        for (int node = 0; node < nodes.length / NODE; node++) {
            int group = 0;
            for (int out = nodes[node * NODE + OUTPUTS_FROM]; out < nodes[node * NODE + OUTPUTS_TO]; out += 2 + outputs[out + 1] * 2) {
                group++;
            }
            largest = Math.max(largest, group);
        }
        return largest;
    }

    /** A pattern's literals: before its first star, between its stars (empty ones left out, as {@code **} is {@code *}), after its last. */
    private static String[] literals(String pattern) {
        int firstStar = pattern.indexOf('*');
        int lastStar = pattern.lastIndexOf('*');
        List<String> literals = new ArrayList<>();
        literals.add(pattern.substring(0, firstStar));
        for (int literal = firstStar + 1; literal < lastStar; ) {
            int star = pattern.indexOf('*', literal);
            if (star > literal) {
                literals.add(pattern.substring(literal, star));
            }
            literal = star + 1;
        }
        literals.add(pattern.substring(lastStar + 1));
        return literals.toArray(String[]::new);
    }

    /**
     * Whether the pattern at {@code outputs[out]} matches the whole input: its first literal starts
     * it, its last ends it, and each one between is found at its leftmost place after the one
     * before, which loses no match when only stars separate them.
     */
    private boolean literalsMatch(int out, String input) {
        int last = out + outputs[out + 1] * 2; // the last literal's start; its end follows
        int prefix = outputs[out + 3] - outputs[out + 2];
        int suffix = outputs[last + 1] - outputs[last];
        int end = input.length() - suffix;
        if (end < prefix || !input.regionMatches(0, texts, outputs[out + 2], prefix)
                || !input.regionMatches(end, texts, outputs[last], suffix)) {
            return false;
        }
        int at = prefix;
        for (int literal = out + 4; literal < last; literal += 2) {
            int found = indexOf(input, outputs[literal], outputs[literal + 1], at, end);
            if (found < 0) {
                return false; // its leftmost place is past the suffix, so every other one is too
            }
            at = found;
        }
        return true;
    }

    /** Where the leftmost occurrence of {@code texts[start, end)} in {@code input[from, to)} ends, or -1. */
    private int indexOf(String input, int start, int end, int from, int to) {
        int length = end - start;
        for (int at = from; at + length <= to; at++) {
            if (input.regionMatches(at, texts, start, length)) {
                return at + length;
            }
        }
        return -1;
    }

    /** Sorts patterns into this path, or leaves them to the main trie. */
    static final class Builder {
        /**
         * A literal that more patterns than this hold is a pattern's key only when each of its other
         * literals is held by more: every input holding a key costs a check of each pattern keyed by it.
         */
        static final int CROWD = 32;

        /** Each pattern taken, as its literals ({@link #literals}). */
        private final List<String[]> patterns = new ArrayList<>();
        private final List<Integer> indexes = new ArrayList<>();

        /**
         * Takes the pattern if it is literals between stars with one inside, longer than the literal
         * it starts with; answers whether it did. A pattern whose start says more than its middle
         * ({@code @airdrop17-*:*}) is better left to the trie, which tells it from the others by
         * that start, than checked on every input holding its middle: thousands of such patterns
         * share a middle as short as {@code :}, which every user ID holds.
         */
        boolean add(String pattern, int index) {
            String[] literals = literalsBetweenStars(pattern);
            if (literals == null) {
                return false;
            }
            int longestMiddle = 0;
            for (int middle = 1; middle < literals.length - 1; middle++) {
                longestMiddle = Math.max(longestMiddle, literals[middle].length());
            }
            if (longestMiddle <= literals[0].length()) {
                return false;
            }
            patterns.add(literals);
            indexes.add(index);
            return true;
        }

        /**
         * The automaton, or null when no pattern took this path. Each pattern is keyed by one of its
         * literals: its longest middle literal, the one an input holds least often, unless more than
         * {@link #CROWD} patterns hold it; then the literal the fewest patterns hold, a middle one
         * before the start or the end, which inputs hold more often ({@code @} or {@code :matrix.org}).
         * A hundred thousand patterns {@code @*:matrix.org*z<n>} would all be checked on every input
         * from matrix.org if keyed by their middle, so they are keyed by {@code z<n>}, which each holds alone.
         */
        Infixes build() {
            if (patterns.isEmpty()) {
                return null;
            }
            Map<String, Integer> holders = new HashMap<>();
            for (String[] literals : patterns) {
                for (int i = 0; i < literals.length; i++) {
                    if (!literals[i].isEmpty() && !heldBefore(literals, i)) {
                        holders.merge(literals[i], 1, Integer::sum);
                    }
                }
            }
            TrieBuilder keys = new TrieBuilder();
            int[] endNode = new int[patterns.size()];
            for (int p = 0; p < endNode.length; p++) {
                endNode[p] = keys.add(key(patterns.get(p), holders), indexes.get(p));
            }
            return new Infixes(keys, endNode, patterns.toArray(String[][]::new),
                    indexes.stream().mapToInt(Integer::intValue).toArray());
        }

        private static String key(String[] literals, Map<String, Integer> holders) {
            String key = null;
            int keyCrowd = 0;
            for (int middle = 1; middle < literals.length - 1; middle++) {
                int crowd = crowd(literals[middle], holders);
                if (key == null || crowd < keyCrowd || crowd == keyCrowd && literals[middle].length() > key.length()) {
                    key = literals[middle];
                    keyCrowd = crowd;
                }
            }
            String prefix = literals[0];
            String suffix = literals[literals.length - 1];
            if (!prefix.isEmpty() && crowd(prefix, holders) < keyCrowd) {
                key = prefix;
                keyCrowd = crowd(prefix, holders);
            }
            if (!suffix.isEmpty() && crowd(suffix, holders) < keyCrowd) {
                key = suffix;
            }
            return key;
        }

        /** How many patterns hold a literal, where all of at most {@link #CROWD} count alike. */
        private static int crowd(String literal, Map<String, Integer> holders) {
            return Math.max(holders.get(literal), CROWD);
        }

        private static boolean heldBefore(String[] literals, int i) {
            for (int before = 0; before < i; before++) {
                if (literals[before].equals(literals[i])) {
                    return true;
                }
            }
            return false;
        }

        /**
         * The literals of a pattern with a star and no {@code ?} (and no surrogate, so that characters
         * and code points agree), or null for any other pattern.
         */
        private static String[] literalsBetweenStars(String pattern) {
            for (int i = 0; i < pattern.length(); i++) {
                char c = pattern.charAt(i);
                if (c == '?' || Character.isSurrogate(c)) {
                    return null;
                }
            }
            return pattern.indexOf('*') < 0 ? null : literals(pattern);
        }
    }
}
