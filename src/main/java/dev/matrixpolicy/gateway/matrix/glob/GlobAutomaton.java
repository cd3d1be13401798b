package dev.matrixpolicy.gateway.matrix.glob;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
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

    /** Transitions on these code points are cached; user IDs are ASCII. */
    static final int CACHED_ALPHABET = 128;
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
                if (edgeLabel[edge] == TrieBuilder.ANY) {
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
        if (first < edgeStart[node + 1] && edgeLabel[first] == TrieBuilder.STAR) {
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
    static int lower(int current, int candidate) {
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
}
