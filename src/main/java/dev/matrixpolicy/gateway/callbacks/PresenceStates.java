package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.hashing.Probing;
import dev.matrixpolicy.gateway.matrix.EventJson;
import java.util.AbstractSet;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.DecimalNode;

/**
 * The presence states one user receives ({@code get_users_for_states}): each state once, by content,
 * as Synapse keeps them in a set of {@code UserPresenceState}, in the order first given. Read-only
 * through its iterator; {@link #add} is how it grows, until an answer holds it ({@link UsersForStates}):
 * from then on it is read-only, so that answers and their merges share it rather than copy it.
 *
 * <p>States are placed by a hash of their content taken with this process's secret ({@link Probing}),
 * not by {@link JsonNode#hashCode}: that one adds up {@code String.hashCode}s, which collide on demand
 * ({@code "Aa"} and {@code "BB"}), and a set of states whose user IDs were made of such pairs
 * compared each new state with every one before it: 14,000 of them took 12 s of CPU. A state's hash
 * is taken once, as it is added, and goes with it into the sets made from this one ({@link #addAll},
 * {@link #readOnly}): copying the states of 40 receivers of {@code ALL} hashed 52,000 states again.
 */
public final class PresenceStates extends AbstractSet<JsonNode> {
    private static final long OBJECT = 1;
    private static final long ARRAY = 2;
    private static final long SCALAR = 3;
    private static final long INTEGER = 4;
    private static final long BOOLEAN = 5;
    private static final long NULL = 6;
    private static final long STRING = 7;
    private static final long DECIMAL = 8;
    private static final long OTHER = 9;
    private final Map<Content, JsonNode> states;
    private boolean readOnly;

    public PresenceStates() {
        this(new LinkedHashMap<>(), false);
    }

    public PresenceStates(Collection<? extends JsonNode> states) {
        this();
        addAll(states);
    }

    private PresenceStates(Map<Content, JsonNode> states, boolean readOnly) {
        this.states = states;
        this.readOnly = readOnly;
    }

    /** {@code states} as a read-only set: itself when it is one, else a copy, which hashes only states not yet in a set. */
    static PresenceStates readOnly(Collection<? extends JsonNode> states) {
        if (states instanceof PresenceStates held) {
            return held.readOnly ? held : new PresenceStates(new LinkedHashMap<>(held.states), true);
        }
        return new PresenceStates(states).sealed();
    }

    /** This set, read-only from now on: for a set made to be held by an answer, which no one else holds. */
    PresenceStates sealed() {
        readOnly = true;
        return this;
    }

    @Override
    public boolean add(JsonNode state) {
        return put(new Content(state), state);
    }

    /** Adds the states of another set with the hashes taken as they entered it. */
    @Override
    public boolean addAll(Collection<? extends JsonNode> added) {
        if (!(added instanceof PresenceStates held)) {
            return super.addAll(added);
        }
        boolean changed = false;
        for (Map.Entry<Content, JsonNode> state : held.states.entrySet()) {
            changed |= put(state.getKey(), state.getValue());
        }
        return changed;
    }

    /**
     * Adds {@code state}, or the state of its content that {@code distinct} holds, which holds
     * {@code state} from now on if it held none; one walk of it for both. So the equal states of one
     * answer read from JSON are one object, which the compact form ({@link UsersForStates#compact}) writes once.
     */
    boolean add(JsonNode state, PresenceStates distinct) {
        Content key = new Content(state);
        JsonNode held = distinct.states.putIfAbsent(key, state);
        return held == null ? put(key, state) : put(new Content(held, key.hash), held);
    }

    private boolean put(Content key, JsonNode state) {
        if (readOnly) {
            throw new UnsupportedOperationException("the presence states of an answer are read-only");
        }
        return states.putIfAbsent(key, state) == null;
    }

    @Override
    public boolean contains(Object state) {
        return state instanceof JsonNode node && states.containsKey(new Content(node));
    }

    @Override
    public Iterator<JsonNode> iterator() {
        return Collections.unmodifiableCollection(states.values()).iterator();
    }

    @Override
    public int size() {
        return states.size();
    }

    /**
     * A hash of a JSON value that equal values share ({@link JsonNode#equals}: an object's fields in
     * any order), keyed with this process's secret; taken in one walk, without recursion.
     */
    static int hash(JsonNode node) {
        Hasher hasher = new Hasher();
        EventJson.walk(node, hasher);
        return hasher.result;
    }

    /** Each container's hash made as the walk closes it, then put in the one that holds it. */
    private static final class Hasher implements EventJson.Visitor {
        private final Deque<Open> open = new ArrayDeque<>();
        private int result;

        /** A container open: its name in the object holding it (null in an array), its hash so far, elements taken. */
        private static final class Open {
            final String name;
            int hash;
            int elements;

            Open(String name) {
                this.name = name;
            }
        }

        @Override
        public void open(String name, boolean first, JsonNode container) {
            open.push(new Open(name));
        }

        @Override
        public void value(String name, boolean first, JsonNode value) {
            add(name, scalar(value));
        }

        @Override
        public void close(JsonNode container) {
            Open closed = open.pop();
            add(closed.name, closed.hash);
        }

        private void add(String name, int hash) {
            Open holder = open.peek();
            if (holder == null) {
                result = hash;
            } else if (name != null) { // a sum, so that the fields' order does not count
                holder.hash += Probing.hash(Probing.hash(name, 0, name.length()), hash, OBJECT, 0);
            } else {
                holder.hash = Probing.hash(holder.hash, hash, ARRAY, holder.elements++);
            }
        }

        /**
         * Equal scalars hash alike: Jackson takes scalars of one class and value as equal, and none of
         * two classes. Integers, booleans and null, what a presence state holds besides strings, are
         * hashed without writing them: {@link JsonNode#toString} runs a whole JSON generator, which was
         * most of what reading an answer of 52,000 states allocated. Each kind is hashed with a tag of
         * its own, in a last step under the secret: without it, an integer and a 16-character string
         * ran the same steps and could be chosen to collide whatever the secret, as {@code 123} and
         * {@code "123"} did, and a state of k such fields made 2^k states of one hash.
         */
        private static int scalar(JsonNode node) {
            if (node.isIntegralNumber() && node.canConvertToLong()) {
                return Probing.hash(node.longValue(), INTEGER, SCALAR, 0);
            }
            if (node.isBoolean()) {
                return Probing.hash(node.booleanValue() ? 1 : 0, BOOLEAN, SCALAR, 0);
            }
            if (node.isNull()) {
                return Probing.hash(0, NULL, SCALAR, 0);
            }
            // a decimal by its value, whether equality takes 1.0 and 1.00 as one or not; other scalars write equal values alike
            long kind = node.isString() ? STRING : node instanceof DecimalNode ? DECIMAL : OTHER;
            String written = node.isString() ? node.stringValue()
                    : node instanceof DecimalNode decimal ? decimal.decimalValue().stripTrailingZeros().toString() : node.toString();
            return Probing.hash(Probing.hash(written, 0, written.length()), kind, SCALAR, 0);
        }
    }

    /** A state as a key: its secret hash, and {@link JsonNode#equals} between states of the same hash. */
    private record Content(JsonNode state, int hash) {
        Content(JsonNode state) {
            this(state, PresenceStates.hash(state));
        }

        @Override
        public boolean equals(Object other) {
            // the same state, as when two answers being merged route one of the request's states to one user
            return other instanceof Content content && content.hash == hash && (content.state == state || EventJson.equal(content.state, state));
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
