package dev.matrixpolicy.gateway.modules.contentrules;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Any number of literal strings found in a text in one pass: an Aho–Corasick automaton over UTF-16
 * characters. A scan costs O(length of the text + the occurrences reported), whatever the number of
 * patterns; the occurrences at one position are at most the number of distinct pattern lengths.
 *
 * <p>The trie is kept in compressed rows (each node's edges sorted by character, binary-searched),
 * with a direct table for the root's ASCII edges, where most characters of a text end up. Immutable
 * and thread-safe once built. ({@code matrix.glob.GlobAutomaton} matches whole IDs against globs; this
 * one finds substrings, which is a different automaton.)
 */
final class PatternAutomaton {

    /** Told of each occurrence, in text order. */
    @FunctionalInterface
    interface Occurrences {
        /**
         * @param pattern the pattern's index in the list the automaton was built from
         * @param end     the index in the text just after the occurrence
         */
        void found(int pattern, int end);
    }

    private final int[] edgeStart;
    private final char[] edgeLabel;
    private final int[] edgeTarget;
    private final int[] rootAscii = new int[128];
    private final int[] failure;
    /** The first pattern that ends at each node, or -1; the others follow through {@link #nextPattern}. */
    private final int[] firstPattern;
    private final int[] nextPattern;
    /** The nearest proper suffix node (by failure links) where a pattern ends, or -1. */
    private final int[] outputLink;
    private final int patterns;

    private PatternAutomaton(List<String> patterns) {
        this.patterns = patterns.size();
        Map<Long, Integer> edges = new HashMap<>();
        int[] parentOf = new int[16];
        char[] labelOf = new char[16];
        int nodes = 1;
        int[] first = new int[16];
        Arrays.fill(first, -1);
        this.nextPattern = new int[patterns.size()];
        Arrays.fill(nextPattern, -1);
        for (int p = patterns.size() - 1; p >= 0; p--) { // backwards, so each node's list is in pattern order
            String pattern = patterns.get(p);
            if (pattern.isEmpty()) {
                throw new IllegalArgumentException("pattern " + p + " is empty");
            }
            int node = 0;
            for (int i = 0; i < pattern.length(); i++) {
                long key = ((long) node << 16) | pattern.charAt(i);
                Integer child = edges.get(key);
                if (child == null) {
                    if (nodes == parentOf.length) {
                        parentOf = Arrays.copyOf(parentOf, nodes * 2);
                        labelOf = Arrays.copyOf(labelOf, nodes * 2);
                        first = Arrays.copyOf(first, nodes * 2);
                        Arrays.fill(first, nodes, nodes * 2, -1);
                    }
                    child = nodes++;
                    parentOf[child] = node;
                    labelOf[child] = pattern.charAt(i);
                    edges.put(key, child);
                }
                node = child;
            }
            nextPattern[p] = first[node];
            first[node] = p;
        }
        this.firstPattern = Arrays.copyOf(first, nodes);
        // compressed rows: sort the edges by (node, label)
        long[] sorted = new long[edges.size()];
        int e = 0;
        for (Map.Entry<Long, Integer> edge : edges.entrySet()) {
            sorted[e++] = edge.getKey();
        }
        Arrays.sort(sorted);
        this.edgeStart = new int[nodes + 1];
        this.edgeLabel = new char[sorted.length];
        this.edgeTarget = new int[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            int node = (int) (sorted[i] >>> 16);
            edgeStart[node + 1]++;
            edgeLabel[i] = (char) sorted[i];
            edgeTarget[i] = edges.get(sorted[i]);
        }
        for (int node = 0; node < nodes; node++) {
            edgeStart[node + 1] += edgeStart[node];
        }
        for (char c = 0; c < 128; c++) {
            rootAscii[c] = child(0, c);
        }
        // failure and output links, breadth first
        this.failure = new int[nodes];
        this.outputLink = new int[nodes];
        Arrays.fill(outputLink, -1);
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int i = edgeStart[0]; i < edgeStart[1]; i++) {
            queue.add(edgeTarget[i]);
        }
        while (!queue.isEmpty()) {
            int node = queue.poll();
            if (parentOf[node] != 0) {
                failure[node] = step(failure[parentOf[node]], labelOf[node]);
            }
            int fallback = failure[node];
            outputLink[node] = firstPattern[fallback] >= 0 ? fallback : outputLink[fallback];
            for (int i = edgeStart[node]; i < edgeStart[node + 1]; i++) {
                queue.add(edgeTarget[i]);
            }
        }
    }

    /** Builds the automaton of the patterns, none of them empty. */
    static PatternAutomaton of(List<String> patterns) {
        return new PatternAutomaton(patterns);
    }

    int size() {
        return patterns;
    }

    /** Reports every occurrence of every pattern in the text. */
    void scan(String text, Occurrences occurrences) {
        if (patterns == 0) {
            return;
        }
        char[] chars = text.toCharArray(); // a copy is cheaper than a String's checks on each character
        int node = 0;
        for (int i = 0, length = chars.length; i < length; i++) {
            node = step(node, chars[i]);
            for (int out = firstPattern[node] >= 0 ? node : outputLink[node]; out >= 0; out = outputLink[out]) {
                for (int p = firstPattern[out]; p >= 0; p = nextPattern[p]) {
                    occurrences.found(p, i + 1);
                }
            }
        }
    }

    private int step(int node, char c) {
        while (node != 0) {
            int from = edgeStart[node];
            int to = edgeStart[node + 1];
            if (to - from <= 4) { // most nodes have one edge: a look at each beats a binary search
                for (int e = from; e < to; e++) {
                    if (edgeLabel[e] == c) {
                        return edgeTarget[e];
                    }
                }
            } else {
                int at = Arrays.binarySearch(edgeLabel, from, to, c);
                if (at >= 0) {
                    return edgeTarget[at];
                }
            }
            node = failure[node];
        }
        return c < 128 ? rootAscii[c] : Math.max(child(0, c), 0);
    }

    /** The child of a node on a character, -1 for none; 0 for none at the root's ASCII table. */
    private int child(int node, char c) {
        int at = Arrays.binarySearch(edgeLabel, edgeStart[node], edgeStart[node + 1], c);
        return at >= 0 ? edgeTarget[at] : (node == 0 ? 0 : -1);
    }
}
