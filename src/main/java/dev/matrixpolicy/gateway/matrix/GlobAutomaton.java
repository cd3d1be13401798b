package dev.matrixpolicy.gateway.matrix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Any number of glob patterns ({@code *}: any run of characters, {@code ?}: exactly one character)
 * compiled into one automaton, so a match costs O(length of the input) whatever the number of patterns.
 *
 * <p>The patterns form a trie whose edges are characters, {@code ?} and {@code *}. Read as an NFA, its
 * states are the trie nodes: a literal edge consumes that character, a {@code ?} edge any character,
 * a {@code *} edge nothing (it leads to a node that loops on every character). The NFA is run as a
 * DFA built lazily: each DFA state is a set of trie nodes, and its transition on an ASCII character
 * is computed once and cached in an array. Once the states an input walks through are cached, a
 * match is one array read per character; only a miss looks at the NFA.
 *
 * <p>Patterns that are a {@code *} and then literal characters ({@code *.spam.example}, or
 * {@code *:spam.example}, the usual way to name every user of a server) skip the automaton: they go
 * into a second trie of their literals read backwards, walked from the end of the input. Thousands of them would otherwise put a state per
 * character of each literal into the DFA, and random inputs would keep evicting one another's. That
 * trie is path-compressed (see {@link Suffixes}): a walk searches at the branches only, and reads the
 * characters between them as one run. Of those, the patterns whose literal is a colon and a text with
 * no other colon ({@code *:spam.example}, every user of a server) are not even walked: an input ends
 * with such a literal exactly when its text from its last colon on is that literal, so they are
 * looked up by that text in a hash table ({@link ServerTails}). On a large list the trie's last
 * branches, where the literals differ, are read from memory one after another; the table reads its
 * fingerprints (a few bytes a pattern), and two places more for a match.
 *
 * <p>Patterns that are literals between stars, with a literal inside ({@code @*spam17*:*}: a
 * prefix, a middle literal, a suffix; no {@code ?}), skip the automaton too. One literal of each
 * such pattern, its key, goes into an Aho–Corasick automaton, built eagerly (its size is the total
 * length of the keys), and the input is read through it once; only the patterns whose key occurs in
 * the input are then checked, literal by literal. Ten thousand of them would otherwise need more DFA
 * states than the cache holds, and a random input would keep building states. A key is the longest
 * middle literal of its pattern unless a crowd of patterns holds it: thousands of {@code x<n>*spam*}
 * are keyed by {@code x<n>}, so that an input holding "spam" does not check them all.
 *
 * <p>Cached transitions are indexed by character class, not by character: characters that appear in
 * no pattern all behave alike, so they share one class, and a state's transition array is only as
 * long as the number of distinct characters the patterns use.
 *
 * <p>Input and patterns are compared code point by code point, exactly as given: callers fold case.
 * Thread-safe without locks. The cache holds at most {@code maxCachedStates} DFA states, and at most
 * {@link #MAX_CACHED_NODES} trie nodes in all (a state of more than {@link #MAX_STATE_NODES} is not
 * cached at all), so memory stays bounded however adversarial the patterns and inputs. An input that needs a state a full cache has no room
 * for is matched by running the NFA itself from there, without building states (thousands of globs
 * with a wildcard inside, such as {@code @*spam17*:*}, have more states than fit); after many such
 * inputs the cache starts afresh, to follow what inputs come now.
 */
public final class GlobAutomaton {
    static final int DEFAULT_MAX_CACHED_STATES = 10_000;

    /** Edge labels below zero are the wildcards; literal edges are labelled with their code point. */
    private static final int STAR = -2;
    private static final int ANY = -1;
    /** Transitions on these code points are cached; user IDs are ASCII. */
    private static final int CACHED_ALPHABET = 128;
    /** The class of the ASCII characters no literal edge is labelled with. */
    private static final int OTHER_CHARACTERS = 0;
    /** A full cache starts afresh after this many inputs per cached state have fallen back to {@link #simulate}. */
    private static final int FALLBACKS_PER_STATE = 16;
    /**
     * A DFA state of more trie nodes than this is never cached: every {@code *} node a pattern reaches
     * stays active, so thousands of patterns of many stars ({@code @*a*b*c*d*e*?}) make states of tens
     * of thousands of nodes, and 10,000 of those held gigabytes. Inputs that reach one run the NFA.
     */
    static final int MAX_STATE_NODES = 4_096;
    /** The most trie nodes all cached states hold together (4 bytes each): the cache's size, whatever the states. */
    static final int MAX_CACHED_NODES = 1 << 21;

    // The trie in compressed rows: node n's edges are [edgeStart[n], edgeStart[n + 1]), sorted by label,
    // so the wildcard edges come first and literals can be binary-searched.
    private final int[] edgeStart;
    private final int[] edgeLabel;
    private final int[] edgeTarget;
    /** Nodes reached through a '*' edge: they stay active on every character. */
    private final boolean[] selfLoop;
    /** Nodes where a pattern ends. */
    private final boolean[] accepting;
    /** For each node where patterns end, the lowest index (in the compiled collection) of those patterns. */
    private final int[] acceptedPattern;

    /** Whether any pattern is in the main trie: with none, the automaton is never run. */
    private final boolean general;
    /** Each ASCII character's index in a state's cached transitions. */
    private final int[] characterClass = new int[CACHED_ALPHABET];
    private final int characterClasses;

    /** The patterns {@code *:text} with no other colon in the text, or null when there are none. */
    private final ServerTails serverTails;
    /** The other patterns {@code *literal}, or null when there are none. */
    private final Suffixes suffixes;
    private final Infixes infixes;

    private final int maxCachedStates;
    private final State dead = new State(new int[0], -1, -1, 0);
    private volatile Cache cache;

    private GlobAutomaton(TrieBuilder trie, ServerTails serverTails, Suffixes suffixes, Infixes infixes, int maxCachedStates) {
        this.serverTails = serverTails;
        this.suffixes = suffixes;
        this.infixes = infixes;
        int nodes = trie.size;
        this.edgeStart = new int[nodes + 1];
        this.edgeLabel = new int[nodes - 1];
        this.edgeTarget = new int[nodes - 1];
        this.selfLoop = Arrays.copyOf(trie.selfLoop, nodes);
        this.accepting = Arrays.copyOf(trie.accepting, nodes);
        this.acceptedPattern = Arrays.copyOf(trie.firstPattern, nodes);
        this.general = trie.patterns > 0;
        this.maxCachedStates = maxCachedStates;
        trie.rows(edgeStart, edgeLabel, edgeTarget);
        int classes = OTHER_CHARACTERS + 1;
        for (int label : edgeLabel) {
            if (label >= 0 && label < CACHED_ALPHABET && characterClass[label] == OTHER_CHARACTERS) {
                characterClass[label] = classes++;
            }
        }
        this.characterClasses = classes;
        this.cache = new Cache(newStart());
    }

    /** Compiles patterns exactly as given; {@code **} is read as {@code *}. */
    public static GlobAutomaton compile(Collection<String> patterns) {
        return compile(patterns, DEFAULT_MAX_CACHED_STATES);
    }

    static GlobAutomaton compile(Collection<String> patterns, int maxCachedStates) {
        if (maxCachedStates < 1) {
            throw new IllegalArgumentException("maxCachedStates must be positive");
        }
        TrieBuilder trie = new TrieBuilder();
        TrieBuilder suffixes = new TrieBuilder();
        ServerTails.Builder serverTails = new ServerTails.Builder();
        Infixes.Builder infixes = new Infixes.Builder();
        int index = 0;
        Set<String> distinct = new HashSet<>();
        for (String pattern : patterns) {
            if (!distinct.add(pattern)) {
                index++; // the same pattern again: the first, lower, is the one that answers
                continue;
            }
            String literal = leadingStarLiteral(pattern);
            if (literal != null && ServerTails.holds(literal)) {
                serverTails.add(literal, index);
            } else if (literal != null) {
                suffixes.add(new StringBuilder(literal).reverse().toString(), index);
            } else if (!infixes.add(pattern, index)) {
                trie.add(pattern, index);
            }
            index++;
        }
        return new GlobAutomaton(trie, serverTails.build(), suffixes.patterns == 0 ? null : new Suffixes(suffixes), infixes.build(),
                maxCachedStates);
    }

    /**
     * The literal of a pattern {@code *literal} (or {@code **literal}), or null for any other pattern
     * and for a literal with a surrogate: the suffix trie compares characters, the main trie code points.
     */
    private static String leadingStarLiteral(String pattern) {
        int start = 0;
        while (start < pattern.length() && pattern.charAt(start) == '*') {
            start++;
        }
        if (start == 0 || start == pattern.length()) {
            return null;
        }
        for (int i = start; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '*' || c == '?' || Character.isSurrogate(c)) {
                return null;
            }
        }
        return pattern.substring(start);
    }

    /** Whether any pattern matches the whole of {@code input}. */
    public boolean matches(String input) {
        return anyMatch(input) >= 0;
    }

    /**
     * The index of a pattern that matches the whole of {@code input}, or -1: the first that the
     * cheapest test finds, not necessarily the lowest. The tests run from the cheapest on (the
     * patterns {@code *:server} by the input's tail, then those of {@code *literal}, then those with
     * literals between stars, then the others), and the first with a match ends the lookup: a caller
     * who needs only some matching pattern (any of them decides alike) pays for no walk after it.
     */
    public int anyMatch(String input) {
        int match = serverTails == null ? -1 : serverTails.firstMatch(input);
        if (match < 0 && suffixes != null) {
            match = suffixes.firstMatch(input);
        }
        if (match < 0 && infixes != null) {
            match = infixes.firstMatch(input, -1, true);
        }
        return match < 0 && general ? generalMatch(input) : match;
    }

    /**
     * The index, in the collection the automaton was compiled from, of a pattern that matches the
     * whole of {@code input}, or -1. Lower indexes win: of the patterns {@code *literal}, the lowest
     * that matches; of the patterns with a literal between stars, the lowest that matches; of the
     * others, the lowest that matches where the automaton decides (the end of the input, or the first
     * point from which every continuation matches); and the lowest of those three. No caller needs the
     * lowest any more ({@link #anyMatch} serves them); the tests ask this one to check each path's own
     * order.
     */
    int firstMatch(String input) {
        int match = serverTails == null ? -1 : serverTails.firstMatch(input);
        if (suffixes != null) {
            match = lower(match, suffixes.firstMatch(input));
        }
        if (infixes != null) {
            match = infixes.firstMatch(input, match, false);
        }
        return general ? lower(match, generalMatch(input)) : match;
    }

    /** The lowest pattern of the main trie that matches where the automaton decides, or -1. */
    private int generalMatch(String input) {
        State state = cache.start;
        for (int i = 0, length = input.length(); i < length; ) {
            if (state.anySuffixPattern >= 0) {
                return state.anySuffixPattern;
            }
            if (state == dead) {
                return -1;
            }
            int codePoint = input.codePointAt(i);
            i += Character.charCount(codePoint);
            int characters = codePoint < CACHED_ALPHABET ? characterClass[codePoint] : -1;
            State next = characters < 0 ? null : state.next[characters];
            if (next == null) {
                // every character of the class moves the automaton alike, so this one stands for all
                int[] nodes = step(state.nodes, codePoint);
                next = intern(nodes);
                if (next == null) {
                    return simulate(nodes, input, i); // the cache is full
                }
                if (characters >= 0) {
                    // A racy write on purpose: State's fields are final, so any thread that reads this
                    // reference sees a complete state; one that reads null recomputes the same one.
                    state.next[characters] = next;
                }
            }
            state = next;
        }
        return state.acceptedPattern;
    }

    /**
     * Runs the NFA itself from a set of its nodes on, building no DFA state: for inputs whose states
     * a full cache has no room for. Answers as the DFA would, at a few times the cost per character.
     */
    private int simulate(int[] nodes, String input, int from) {
        for (int i = from, length = input.length(); ; ) {
            int anySuffix = lowestAccepted(nodes, true);
            if (anySuffix >= 0 || nodes.length == 0) {
                return anySuffix;
            }
            if (i == length) {
                return lowestAccepted(nodes, false);
            }
            int codePoint = input.codePointAt(i);
            i += Character.charCount(codePoint);
            nodes = step(nodes, codePoint);
        }
    }

    /** How many patterns take the path of literals between stars (for tests). */
    int infixPatterns() {
        return infixes == null ? 0 : infixes.patterns;
    }

    /** The most patterns of literals between stars that one key makes an input check (for tests). */
    int largestInfixGroup() {
        return infixes == null ? 0 : infixes.largestGroup();
    }

    /** How many trie nodes the cached DFA states hold together (for tests). */
    long cachedNodes() {
        return cache.states.keySet().stream().mapToLong(key -> key.nodes.length).sum();
    }

    /** How many DFA states are cached now (for tests). */
    int cachedStates() {
        return cache.states.size();
    }

    /** The nodes active after {@code codePoint}, from the given ones: sorted, each once. */
    private int[] step(int[] from, int codePoint) {
        NodeSet to = new NodeSet();
        for (int node : from) {
            if (selfLoop[node]) {
                to.add(node);
            }
            int edge = edgeStart[node];
            int end = edgeStart[node + 1];
            for (; edge < end && edgeLabel[edge] < 0; edge++) {
                if (edgeLabel[edge] == ANY) {
                    addWithClosure(to, edgeTarget[edge]);
                }
            }
            int literal = Arrays.binarySearch(edgeLabel, edge, end, codePoint);
            if (literal >= 0) {
                addWithClosure(to, edgeTarget[literal]);
            }
        }
        return to.toSortedArray();
    }

    /** Adds a node and, since '*' may match nothing, the node behind its '*' edge. */
    private void addWithClosure(NodeSet set, int node) {
        set.add(node);
        int first = edgeStart[node];
        if (first < edgeStart[node + 1] && edgeLabel[first] == STAR) {
            set.add(edgeTarget[first]); // "**" was collapsed at build time, so one step is the whole closure
        }
    }

    private State newStart() {
        NodeSet start = new NodeSet();
        addWithClosure(start, 0);
        return state(start.toSortedArray());
    }

    /**
     * The cached state of a set of nodes, cached now if it was not; null when the cache is full. A
     * cache that has been full for many inputs starts afresh, so that it follows what inputs come now.
     */
    private State intern(int[] nodes) {
        if (nodes.length == 0) {
            return dead;
        }
        if (nodes.length > MAX_STATE_NODES) {
            return null; // no room for it in any cache: its input runs the NFA, and counts as no fallback of a full one
        }
        Cache current = cache;
        Key key = new Key(nodes);
        State known = current.states.get(key);
        if (known != null) {
            return known;
        }
        if (current.states.size() >= maxCachedStates || current.nodes + nodes.length > MAX_CACHED_NODES) {
            if (++current.fallbacks <= FALLBACKS_PER_STATE * maxCachedStates) { // racy count on purpose: a rough one will do
                return null;
            }
            // Start afresh: matches in flight keep their old states, which stay correct.
            current = new Cache(newStart());
            cache = current;
        }
        State fresh = state(nodes);
        State raced = current.states.putIfAbsent(key, fresh);
        if (raced == null) {
            current.nodes += nodes.length; // racy on purpose, as the fallbacks: a rough bound will do
        }
        return raced != null ? raced : fresh;
    }

    private State state(int[] nodes) {
        return new State(nodes, lowestAccepted(nodes, false), lowestAccepted(nodes, true), characterClasses);
    }

    /** The lowest pattern that ends at one of the nodes (only at those that loop on '*', if asked), or -1. */
    private int lowestAccepted(int[] nodes, boolean selfLoopingOnly) {
        int lowest = -1;
        for (int node : nodes) {
            if (accepting[node] && (selfLoop[node] || !selfLoopingOnly)) {
                lowest = lower(lowest, acceptedPattern[node]);
            }
        }
        return lowest;
    }

    /** The lower of two pattern indexes, where -1 is none. */
    private static int lower(int current, int candidate) {
        return current < 0 ? candidate : candidate < 0 ? current : Math.min(current, candidate);
    }

    /** A DFA state: a set of trie nodes, with its cached transitions on ASCII, by character class. */
    private static final class State {
        final int[] nodes;
        /** The lowest pattern accepted here, or -1. */
        final int acceptedPattern;
        /**
         * The lowest pattern of an accepting '*' node here, or -1: at or above 0, every continuation
         * matches, so matching can stop here.
         */
        final int anySuffixPattern;
        final State[] next;

        State(int[] nodes, int acceptedPattern, int anySuffixPattern, int characterClasses) {
            this.nodes = nodes;
            this.acceptedPattern = acceptedPattern;
            this.anySuffixPattern = anySuffixPattern;
            this.next = nodes.length == 0 ? null : new State[characterClasses];
        }
    }

    private static final class Cache {
        final ConcurrentHashMap<Key, State> states = new ConcurrentHashMap<>();
        final State start;
        /** How many inputs fell back to {@link #simulate} since the cache filled up. */
        int fallbacks;
        /** How many trie nodes the cached states hold together. */
        long nodes;

        Cache(State start) {
            this.start = start;
        }
    }

    /** A sorted set of trie nodes as a map key. */
    private static final class Key {
        private final int[] nodes;
        private final int hash;

        Key(int[] nodes) {
            this.nodes = nodes;
            this.hash = Arrays.hashCode(nodes);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && hash == key.hash && Arrays.equals(nodes, key.nodes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** A small growable set of node numbers, built on a cache miss only. */
    private static final class NodeSet {
        private int[] nodes = new int[8];
        private int size;

        void add(int node) {
            if (size == nodes.length) {
                nodes = Arrays.copyOf(nodes, size * 2);
            }
            nodes[size++] = node;
        }

        int[] toSortedArray() {
            int[] sorted = Arrays.copyOf(nodes, size);
            Arrays.sort(sorted);
            int unique = 0;
            for (int i = 0; i < sorted.length; i++) {
                if (i == 0 || sorted[i] != sorted[i - 1]) {
                    sorted[unique++] = sorted[i];
                }
            }
            return unique == sorted.length ? sorted : Arrays.copyOf(sorted, unique);
        }
    }

    /**
     * The patterns {@code *literal}: their literals read backwards, in a trie whose chains of nodes
     * with one child and no literal ending at them are merged into the edge above (a radix trie). An
     * edge is labelled with its first character and carries the rest of its chain as a run. A walk from
     * the end of the input binary-searches the edges of a branching node only, then compares the run
     * character by character: {@code *:bad-server-17.example} among ten thousand alike is a handful of
     * searches, not one per character, in arrays a tenth as long. A mismatch ends the walk, so an input
     * that ends like no literal costs one search. Characters, not code points: the literals hold no
     * surrogate ({@link #leadingStarLiteral}). Immutable.
     */
    private static final class Suffixes {
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
                match = lower(match, nodes[node]);
            }
            return match;
        }
    }

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
    private static final class ServerTails {
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
    private static final class Infixes {
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
        private final int[] rootNext = new int[CACHED_ALPHABET];
        /**
         * The patterns, each as its index and then its literals ({@link #literals}: before its first
         * star, between its stars, after its last) as {@code [start, end)} bounds in {@link #texts}:
         * {@code index, count, start, end, start, end, ...}. A node's patterns are in index order.
         */
        private final int[] outputs;
        private final String texts;
        private final int patterns;

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
                    if (node == 0 && edgeLabel[edge] < CACHED_ALPHABET) {
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
            if (node == 0 && codePoint < CACHED_ALPHABET) {
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
                if (node == 0 && c < CACHED_ALPHABET && rootNext[c] == 0) {
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

    /** The trie while patterns are added, as first-child / next-sibling lists in flat arrays. */
    private static final class TrieBuilder {
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
}
