package dev.matrixpolicy.gateway.policylist;

import java.util.Map;
import java.util.Optional;

/** What a policy rule is about, from its event type. */
public enum EntityKind {
    USER("user"),
    ROOM("room"),
    SERVER("server");

    /** The prefixes of the rule event types: the spec's, then the two older lists still use. */
    private static final String[] PREFIXES = {"m.policy.rule.", "m.room.rule.", "org.matrix.mjolnir.rule."};
    private static final Map<String, EntityKind> BY_SUFFIX = Map.of("user", USER, "room", ROOM, "server", SERVER);

    private final String wireName;

    EntityKind(String wireName) {
        this.wireName = wireName;
    }

    /** {@code user}, {@code room} or {@code server}: the event type's suffix, and the metric tag. */
    public String wireName() {
        return wireName;
    }

    /** The kind of a rule event type, e.g. {@code m.policy.rule.user}; empty for any other type. */
    public static Optional<EntityKind> ofEventType(String type) {
        for (String prefix : PREFIXES) {
            if (type.startsWith(prefix)) {
                return Optional.ofNullable(BY_SUFFIX.get(type.substring(prefix.length())));
            }
        }
        return Optional.empty();
    }

    public static Optional<EntityKind> ofWireName(String name) {
        return Optional.ofNullable(BY_SUFFIX.get(name));
    }
}
