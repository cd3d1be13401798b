package dev.matrixpolicy.gateway.matrix.glob;

import java.util.Arrays;

/**
 * The patterns {@code *literal}: their literals read backwards, in a trie whose chains of nodes
 * with one child and no literal ending at them are merged into the edge above (a radix trie). An
 * edge is labelled with its first character and carries the rest of its chain as a run. A walk from
 * the end of the input binary-searches the edges of a branching node only, then compares the run
 * character by character: {@code *:bad-server-17.example} among ten thousand alike is a handful of
 * searches, not one per character, in arrays a tenth as long. A mismatch ends the walk, so an input
 * that ends like no literal costs one search. Characters, not code points: the literals hold no
 * surrogate ({@link GlobAutomaton#leadingStarLiteral}). Immutable.
 */
final class Suffixes {
    /**
     * The nodes, each in one block so that a step reads one place: at a node's offset, the lowest
     * index of the patterns whose literal ends there (or -1), its degree d, its edges' first
     * characters (d, sorted), then each edge's target node offset, run offset and run length (3 d).
     */
    private final int[] nodes;
    /** The edges' runs, each in the input's order (the trie's, reversed). */
    private final char[] runs;

    /** Compresses a trie of the literals, each added reversed and with no wildcard. */
    Suffixes(TrieBuilder trie) {
        // First the nodes kept, breadth first, with their edges; then their blocks, once their offsets are known.
        int[] order = new int[trie.size];
        int kept = 0;
        order[kept++] = 0;
        int[] edgeStart = new int[trie.size + 1];
        int[] label = new int[Math.max(1, trie.size - 1)];
        int[] target = new int[label.length];
        int[] runStart = new int[label.length + 1];
        StringBuilder runText = new StringBuilder();
        int edges = 0;
        long[] children = new long[4];
        for (int head = 0; head < kept; head++) {
            int node = order[head];
            edgeStart[head] = edges;
            int degree = 0;
            for (int child = trie.firstChild[node]; child >= 0; child = trie.nextSibling[child]) {
                if (degree == children.length) {
                    children = Arrays.copyOf(children, degree * 2);
                }
                children[degree++] = ((long) trie.label[child] << 32) | child;
            }
            Arrays.sort(children, 0, degree);
            for (int c = 0; c < degree; c++) {
                int child = (int) children[c];
                label[edges] = trie.label[child];
                runStart[edges] = runText.length();
                StringBuilder run = new StringBuilder();
                while (trie.firstPattern[child] < 0 && trie.nextSibling[trie.firstChild[child]] < 0) {
                    child = trie.firstChild[child]; // its only child: no literal ends here, and nothing branches
                    run.append((char) trie.label[child]);
                }
                runText.append(run.reverse());
                target[edges++] = kept;
                order[kept++] = child;
            }
        }
        edgeStart[kept] = edges;
        runStart[edges] = runText.length();
        int[] offset = new int[kept];
        for (int n = 1; n < kept; n++) {
            offset[n] = offset[n - 1] + 2 + 4 * (edgeStart[n] - edgeStart[n - 1]);
        }
        nodes = new int[offset[kept - 1] + 2 + 4 * (edgeStart[kept] - edgeStart[kept - 1])];
        for (int n = 0; n < kept; n++) {
            int at = offset[n];
            int degree = edgeStart[n + 1] - edgeStart[n];
            nodes[at] = trie.firstPattern[order[n]];
            nodes[at + 1] = degree;
            for (int k = 0; k < degree; k++) {
                int edge = edgeStart[n] + k;
                nodes[at + 2 + k] = label[edge];
                int data = at + 2 + degree + 3 * k;
                nodes[data] = offset[target[edge]];
                nodes[data + 1] = runStart[edge];
                nodes[data + 2] = runStart[edge + 1] - runStart[edge];
            }
        }
        runs = runText.toString().toCharArray();
    }

    /** The lowest pattern whose literal ends the input, or -1. */
    int firstMatch(String input) {
        int node = 0;
        int match = -1;
        for (int i = input.length(); i > 0; ) {
            int labels = node + 2;
            int degree = nodes[node + 1];
            int edge = Arrays.binarySearch(nodes, labels, labels + degree, input.charAt(--i));
            if (edge < 0) {
                return match;
            }
            int data = labels + degree + 3 * (edge - labels);
            int from = nodes[data + 1];
            int length = nodes[data + 2];
            if (length > i) {
                return match;
            }
            i -= length;
            for (int c = 0; c < length; c++) {
                if (input.charAt(i + c) != runs[from + c]) {
                    return match;
                }
            }
            node = nodes[data];
            match = GlobAutomaton.lower(match, nodes[node]);
        }
        return match;
    }
}
