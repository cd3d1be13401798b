package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.hashing.Probing;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.DecimalNode;

/**
 * The presence states one user receives ({@code get_users_for_states}): each state once, by content,
 * as Synapse keeps them in a set of {@code UserPresenceState}, in the order first given. Read-only
 * through its iterator; {@link #add} is how it grows.
 *
 * <p>States are placed by a hash of their content taken with this process's secret ({@link Probing}),
 * not by {@link JsonNode#hashCode}: that one adds up {@code String.hashCode}s, which collide on demand
 * ({@code "Aa"} and {@code "BB"}), and a set of states whose user IDs were made of such pairs
 * compared each new state with every one before it: 14,000 of them took 12 s of CPU.
 */
public final class PresenceStates extends AbstractSet<JsonNode> {
    private static final long OBJECT = 1;
    private static final long ARRAY = 2;
    private final Map<Content, JsonNode> states = new LinkedHashMap<>();

    public PresenceStates() {
    }

    public PresenceStates(Collection<? extends JsonNode> states) {
        addAll(states);
    }

    @Override
    public boolean add(JsonNode state) {
        return states.putIfAbsent(new Content(state), state) == null;
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
     * any order), keyed with this process's secret.
     */
    static int hash(JsonNode node) {
        if (node.isString()) {
            String text = node.stringValue();
            return Probing.hash(text, 0, text.length());
        }
        if (node.isObject()) {
            int sum = 0; // a sum, so that the fields' order does not count
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                String name = field.getKey();
                sum += Probing.hash(Probing.hash(name, 0, name.length()), hash(field.getValue()), OBJECT, 0);
            }
            return sum;
        }
        if (node.isArray()) {
            int hash = 0;
            for (int i = 0; i < node.size(); i++) {
                hash = Probing.hash(hash, hash(node.get(i)), ARRAY, i);
            }
            return hash;
        }
        // a decimal by its value, whether equality takes 1.0 and 1.00 as one or not; other scalars write equal values alike
        String written = node instanceof DecimalNode decimal ? decimal.decimalValue().stripTrailingZeros().toString() : node.toString();
        return Probing.hash(written, 0, written.length());
    }

    /** A state as a key: its secret hash, and {@link JsonNode#equals} between states of the same hash. */
    private record Content(JsonNode state, int hash) {
        Content(JsonNode state) {
            this(state, PresenceStates.hash(state));
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Content content && content.hash == hash && content.state.equals(state);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
