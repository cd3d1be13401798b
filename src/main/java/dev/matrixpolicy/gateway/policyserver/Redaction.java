package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.EventJson;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SequencedSet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The redaction algorithm of room versions 1 to 12: what of an event survives a redaction, and so
 * what a signature covers. Each version is one {@link Rules} table, written as the change it makes
 * to the version before, so that each rule is stated once:
 *
 * <ul>
 *   <li><b>v1–v5</b>: the original algorithm.</li>
 *   <li><b>v6</b>: {@code m.room.aliases} keeps nothing (MSC2432).</li>
 *   <li><b>v8</b>: {@code m.room.join_rules} keeps {@code allow} (MSC3083).</li>
 *   <li><b>v9</b>: {@code m.room.member} keeps {@code join_authorised_via_users_server} (MSC3375).</li>
 *   <li><b>v11</b>: the top level no longer keeps {@code origin} (MSC3989), {@code membership} or
 *       {@code prev_state} (MSC2176); {@code m.room.create} keeps all its content, {@code
 *       m.room.power_levels} keeps {@code invite}, {@code m.room.redaction} keeps {@code redacts}
 *       (MSC2176, with MSC2174 moving {@code redacts} into content), and {@code m.room.member}
 *       keeps {@code third_party_invite.signed} (MSC3821).</li>
 *   <li><b>v12</b>: {@code m.room.create} has no {@code room_id} (MSC4291, the room ID is the
 *       create event's hash). MSC4289 and MSC4297 do not touch redaction.</li>
 * </ul>
 *
 * Where spec and Synapse differ, this follows Synapse (the Rust {@code events::utils::redact} of
 * current Synapse, and for v1–v10 also 1.67's {@code prune_event_dict}):
 *
 * <ul>
 *   <li>{@code event_id} is kept at the top level in every version (v3 onward events carry none,
 *       so this only matters for v1–v2, whose spec keeps it too).</li>
 *   <li>{@code unsigned} keeps {@code age_ts} and {@code replaces_state} when the event has an
 *       {@code unsigned} object; the spec drops it whole. Signing drops {@code unsigned} anyway.
 *       Synapse 1.67 adds an empty {@code unsigned} to an event that had none; current Synapse does
 *       not, and neither do we.</li>
 *   <li>In v11+, an object {@code third_party_invite} becomes {@code {}} when it has no {@code
 *       signed}, rather than disappearing.</li>
 * </ul>
 *
 * Unstable room versions ({@code org.matrix.msc…}) are unknown here: {@link
 * UnknownRoomVersionException}.
 */
public final class Redaction {
    /** The room versions this class can redact, oldest first. */
    public static final List<String> KNOWN_ROOM_VERSIONS;

    private static final Map<String, Rules> BY_ROOM_VERSION;

    private static final String CREATE = "m.room.create";
    private static final String MEMBER = "m.room.member";
    private static final String JOIN_RULES = "m.room.join_rules";
    private static final String POWER_LEVELS = "m.room.power_levels";

    static {
        Rules v1 = new Rules(
                Set.of("event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
                        "depth", "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts",
                        "membership"),
                Map.of(MEMBER, Set.of("membership"),
                        CREATE, Set.of("creator"),
                        JOIN_RULES, Set.of("join_rule"),
                        POWER_LEVELS, Set.of("users", "users_default", "events", "events_default", "state_default",
                                "ban", "kick", "redact"),
                        "m.room.aliases", Set.of("aliases"),
                        "m.room.history_visibility", Set.of("history_visibility")),
                false);
        Rules v6 = v1.withoutContent("m.room.aliases");
        Rules v8 = v6.keepingContent(JOIN_RULES, "allow");
        Rules v9 = v8.keepingContent(MEMBER, "join_authorised_via_users_server");
        Rules v11 = v9.withoutTopLevel("origin", "membership", "prev_state")
                .keepingContent(CREATE, Rules.EVERYTHING)
                .keepingContent(POWER_LEVELS, "invite")
                .keepingContent("m.room.redaction", "redacts")
                .keepingContent(MEMBER, "third_party_invite.signed");
        Rules v12 = v11.withCreateWithoutRoomId();

        // room versions 1, 2, 3, ... in order: a version that changes no rule shares its predecessor's table
        List<Rules> fromVersionOne = List.of(v1, v1, v1, v1, v1, v6, v6, v8, v9, v9, v11, v12);
        Map<String, Rules> versions = new LinkedHashMap<>();
        for (int i = 0; i < fromVersionOne.size(); i++) {
            versions.put(String.valueOf(i + 1), fromVersionOne.get(i));
        }
        BY_ROOM_VERSION = Map.copyOf(versions);
        KNOWN_ROOM_VERSIONS = List.copyOf(versions.keySet());
    }

    private Redaction() {
    }

    /**
     * Whether a room version's {@code m.room.create} event has no {@code room_id}, the room ID being
     * the create event's own reference hash (MSC4291, room version 12).
     *
     * @throws UnknownRoomVersionException for a room version not in {@link #KNOWN_ROOM_VERSIONS}
     */
    public static boolean createHasNoRoomId(String roomVersion) {
        Rules rules = BY_ROOM_VERSION.get(roomVersion);
        if (rules == null) {
            throw new UnknownRoomVersionException(roomVersion);
        }
        return rules.createHasNoRoomId();
    }

    /**
     * The redacted copy of {@code event} under {@code roomVersion}'s rules; {@code event} is left as
     * it is.
     *
     * @throws UnknownRoomVersionException for a room version not in {@link #KNOWN_ROOM_VERSIONS}
     * @throws BadJsonException when the event has no string {@code type} or no object {@code content}
     */
    public static ObjectNode redact(String roomVersion, JsonNode event) {
        Rules rules = BY_ROOM_VERSION.get(roomVersion);
        if (rules == null) {
            throw new UnknownRoomVersionException(roomVersion);
        }
        return rules.apply(event);
    }

    /**
     * One room version's redaction: the top-level keys kept, and per event type the content paths
     * kept ({@code "a.b"} keeps {@code b} inside an object {@code a}; {@link #EVERYTHING} keeps all).
     */
    private record Rules(Set<String> topLevel, Map<String, Set<String>> contentByType, boolean createHasNoRoomId) {
        static final String EVERYTHING = "*";
        static final List<String> UNSIGNED_KEPT = List.of("age_ts", "replaces_state");

        Rules withoutTopLevel(String... keys) {
            Set<String> kept = new LinkedHashSet<>(topLevel);
            kept.removeAll(List.of(keys));
            return new Rules(Set.copyOf(kept), contentByType, createHasNoRoomId);
        }

        Rules withoutContent(String type) {
            Map<String, Set<String>> content = new HashMap<>(contentByType);
            content.remove(type);
            return new Rules(topLevel, Map.copyOf(content), createHasNoRoomId);
        }

        Rules keepingContent(String type, String path) {
            Map<String, Set<String>> content = new HashMap<>(contentByType);
            SequencedSet<String> paths = new LinkedHashSet<>(content.getOrDefault(type, Set.of()));
            paths.add(path);
            content.put(type, Set.copyOf(paths));
            return new Rules(topLevel, Map.copyOf(content), createHasNoRoomId);
        }

        Rules withCreateWithoutRoomId() {
            return new Rules(topLevel, contentByType, true);
        }

        ObjectNode apply(JsonNode event) {
            if (!event.isObject() || !event.path("type").isString() || !event.path("content").isObject()) {
                throw new BadJsonException("An event is an object with a string \"type\" and an object \"content\"");
            }
            String type = event.get("type").stringValue();
            ObjectNode redacted = JsonNodeFactory.instance.objectNode();
            for (Map.Entry<String, JsonNode> member : event.properties()) {
                boolean kept = topLevel.contains(member.getKey())
                        && !(createHasNoRoomId && type.equals(CREATE) && member.getKey().equals("room_id"));
                if (kept) {
                    redacted.set(member.getKey(), EventJson.copy(member.getValue()));
                }
            }
            redacted.set("content", content(event.get("content"), contentByType.getOrDefault(type, Set.of())));
            if (event.path("unsigned").isObject()) {
                ObjectNode unsigned = redacted.putObject("unsigned");
                UNSIGNED_KEPT.stream().filter(event.get("unsigned")::has)
                        .forEach(key -> unsigned.set(key, EventJson.copy(event.get("unsigned").get(key))));
            }
            return redacted;
        }

        private static ObjectNode content(JsonNode content, Set<String> paths) {
            if (paths.contains(EVERYTHING)) {
                return EventJson.copy((ObjectNode) content);
            }
            ObjectNode kept = JsonNodeFactory.instance.objectNode();
            for (String path : paths) {
                int dot = path.indexOf('.');
                String key = dot < 0 ? path : path.substring(0, dot);
                JsonNode value = content.get(key);
                if (value == null) {
                    continue;
                }
                if (dot < 0) {
                    kept.set(key, EventJson.copy(value));
                } else if (value.isObject()) {
                    kept.set(key, content(value, Set.of(path.substring(dot + 1))));
                }
            }
            return kept;
        }
    }
}
