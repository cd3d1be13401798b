package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

    /** Whether a rule event type is of the spec's family ({@code m.policy.rule.*}), which no older type overrides. */
    static boolean isSpecType(String type) {
        return type.startsWith(PREFIXES[0]);
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

    /**
     * This kind's rule event types, the spec's first, then the older ones in the order they were
     * replaced (e.g. {@code m.policy.rule.user}, {@code m.room.rule.user}, {@code org.matrix.mjolnir.rule.user}):
     * the order in which rule events of one state key under different types give way to each other.
     */
    public List<String> eventTypesByPrecedence() {
        return switch (this) {
            case USER -> USER_TYPES;
            case ROOM -> ROOM_TYPES;
            case SERVER -> SERVER_TYPES;
        };
    }

    private static final List<String> USER_TYPES = typesOf("user");
    private static final List<String> ROOM_TYPES = typesOf("room");
    private static final List<String> SERVER_TYPES = typesOf("server");

    private static List<String> typesOf(String wireName) {
        List<String> types = new ArrayList<>();
        for (String prefix : PREFIXES) {
            types.add(prefix + wireName);
        }
        return List.copyOf(types);
    }

    /**
     * Every rule event type this gateway reads, e.g. {@code m.policy.rule.user}, {@code m.room.rule.server}:
     * what a policy room's sync filter asks the homeserver for.
     */
    public static List<String> eventTypes() {
        return Arrays.stream(values()).flatMap(kind -> kind.eventTypesByPrecedence().stream()).toList();
    }

    /**
     * Whether an entity as a rule writes it, an ID or a glob, could name something of this kind. A user
     * ID starts with {@code @}, a room ID or alias with {@code !} or {@code #}, a server name with none
     * of those; a glob may also start with a wildcard. A server name is printable ASCII, as its grammar
     * says and Synapse checks. A user ID or room ID is any text without a control character
     * ({@link MatrixIds#isTextWithoutControls}), so a rule naming {@code @\u00e9l\u00e8ve:evil.example}
     * holds, as a glob of it would; an alias's localpart likewise. That is a little stricter than what
     * Synapse asks the callbacks about ({@link MatrixIds#userIdAsSynapseTakesIt} takes control
     * characters): an ID holding one is named by a glob whose wildcard covers it, or a ban of its
     * server. An exact user ID or alias has a {@code :} before its server (Synapse makes
     * {@code #:example.org} and takes {@code @:example.org}); a v12 room ID has none. An exact
     * ID (a server name too) is at most 255 bytes long, as every ID is, and an alias (or a room rule
     * that may name one) 255 characters, as Synapse counts it; so is a glob without its stars, each
     * of its other characters standing for one at least. A rule that fails this (a server name in a
     * user rule, a control character inside a user ID, an entity of 60,000 characters) would load and
     * never match; a glob of 60,000 characters would also cost its list megabytes of automaton.
     */
    public boolean couldName(String entity) {
        if (entity.isEmpty()) {
            return false;
        }
        char first = entity.charAt(0);
        boolean alias = this == ROOM && first != '!';
        String named = UserIdMatcher.isGlob(entity) ? entity.replace("*", "") : entity;
        if (alias ? !MatrixIds.fitsAnAlias(named) : !MatrixIds.fitsAnId(named)) {
            return false;
        }
        if (this == SERVER ? !MatrixIds.isPrintableAscii(entity) : !alias && !MatrixIds.isTextWithoutControls(entity)) {
            return false;
        }
        if (first == '*' || first == '?') {
            return true;
        }
        boolean hasServer = UserIdMatcher.isGlob(entity) || entity.indexOf(':') > 0;
        return switch (this) {
            case USER -> first == '@' && hasServer;
            case ROOM -> first == '!' || (first == '#' && hasServer);
            case SERVER -> first != '@' && first != '!' && first != '#';
        };
    }

    /** What {@link #couldName} asks of an entity of this kind, for messages. */
    public String expected() {
        return switch (this) {
            case USER -> "a user ID (@user:server, no control characters) or a glob of one";
            case ROOM -> "a room ID (!room, no control characters) or alias (#alias:server), or a glob of one";
            case SERVER -> "a server name (printable ASCII, no @, ! or # in front) or a glob of one";
        };
    }

    public static Optional<EntityKind> ofWireName(String name) {
        return Optional.ofNullable(BY_SUFFIX.get(name));
    }
}
