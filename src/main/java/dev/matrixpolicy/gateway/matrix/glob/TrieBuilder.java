package dev.matrixpolicy.gateway.matrix.glob;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** The trie while patterns are added, as first-child / next-sibling lists in flat arrays. */
final class TrieBuilder {
    /** Edge labels below zero are the wildcards; literal edges are labelled with their code point. */
    static final int STAR = -2;
    static final int ANY = -1;
    private static final int SCANNED_CHILDREN = 32;

    int size = 1; // node 0 is the root
    int[] firstChild = {-1};
    int[] nextSibling = {-1};
    int[] label = {0};
    boolean[] selfLoop = {false};
    boolean[] accepting = {false};
    /** The lowest index of the patterns that end at each node, or -1. */
    int[] firstPattern = {-1};
    int patterns;
    /** Each node's number of children. */
    private int[] degree = {0};
    /**
     * The children of the nodes with more than {@link #SCANNED_CHILDREN}, by parent and label: a
     * node's children are otherwise found by reading its list, and a list of 100,000 patterns that
     * each start with another character would take that many reads per pattern.
     */
    private final Map<Long, Integer> wideChildren = new HashMap<>();

    /** Adds a pattern and answers the node where it ends. */
    int add(String pattern, int index) {
        patterns++;
        int node = 0;
        for (int i = 0; i < pattern.length(); ) {
            int codePoint = pattern.codePointAt(i);
            i += Character.charCount(codePoint);
            int edge = codePoint == '*' ? STAR : codePoint == '?' ? ANY : codePoint;
            if (edge == STAR && selfLoop[node]) {
                continue; // "**" is "*"
            }
            node = child(node, edge);
        }
        if (!accepting[node]) {
            accepting[node] = true;
            firstPattern[node] = index; // patterns are added in order: the first one to end here is the lowest
        }
        return node;
    }

    /** Writes the trie as compressed rows: each node's edges sorted by label, wildcards first. */
    void rows(int[] edgeStart, int[] edgeLabel, int[] edgeTarget) {
        int edge = 0;
        long[] children = new long[0];
        for (int node = 0; node < size; node++) {
            edgeStart[node] = edge;
            int degree = 0;
            for (int child = firstChild[node]; child >= 0; child = nextSibling[child]) {
                if (degree == children.length) {
                    children = Arrays.copyOf(children, Math.max(4, degree * 2));
                }
                // label in the high half, so sorting the longs sorts by label (wildcards first)
                children[degree++] = ((long) label[child] << 32) | child;
            }
            Arrays.sort(children, 0, degree);
            for (int i = 0; i < degree; i++) {
                edgeLabel[edge] = (int) (children[i] >> 32);
                edgeTarget[edge] = (int) children[i];
                edge++;
            }
        }
        edgeStart[size] = edge;
    }

    private int child(int parent, int edge) {
        if (degree[parent] > SCANNED_CHILDREN) {
            Integer known = wideChildren.get(edgeKey(parent, edge));
            if (known != null) {
                return known;
            }
        } else {
            for (int child = firstChild[parent]; child >= 0; child = nextSibling[child]) {
                if (label[child] == edge) {
                    return child;
                }
            }
        }
        if (size == label.length) {
            int capacity = size * 2;
            firstChild = Arrays.copyOf(firstChild, capacity);
            nextSibling = Arrays.copyOf(nextSibling, capacity);
            label = Arrays.copyOf(label, capacity);
            selfLoop = Arrays.copyOf(selfLoop, capacity);
            accepting = Arrays.copyOf(accepting, capacity);
            firstPattern = Arrays.copyOf(firstPattern, capacity);
            degree = Arrays.copyOf(degree, capacity);
        }
        int child = size++;
        firstChild[child] = -1;
        nextSibling[child] = firstChild[parent];
        firstChild[parent] = child;
        label[child] = edge;
        selfLoop[child] = edge == STAR;
        accepting[child] = false;
        firstPattern[child] = -1;
        degree[child] = 0;
        if (++degree[parent] > SCANNED_CHILDREN) {
            if (degree[parent] == SCANNED_CHILDREN + 1) { // the node turns wide: its list goes into the map
                for (int sibling = firstChild[parent]; sibling >= 0; sibling = nextSibling[sibling]) {
                    wideChildren.put(edgeKey(parent, label[sibling]), sibling);
                }
            } else {
                wideChildren.put(edgeKey(parent, edge), child);
            }
        }
        return child;
    }

    private static long edgeKey(int parent, int edge) {
        return (long) parent << 32 | (edge & 0xffffffffL);
    }
}
