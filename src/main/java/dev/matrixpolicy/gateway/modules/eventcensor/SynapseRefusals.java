package dev.matrixpolicy.gateway.modules.eventcensor;

import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.matrix.glob.GlobAutomaton;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What Synapse 1.157 refuses in a new content that {@code check_event_allowed} hands it, found from
 * the content and what the request carries (the event, the room state): a replacement Synapse
 * refuses fails the user's request (a 500, 400 or 413) with an error about content the user never
 * wrote, so the module takes it as a backend failure instead. Checks that need Synapse's database
 * (a relation's parent event, event authorization against power levels) are not made here.
 */
final class SynapseRefusals {
    /** Synapse's {@code Membership.LIST}. */
    private static final List<String> MEMBERSHIPS = List.of("invite", "join", "knock", "leave", "ban");
    /** Room versions without {@code strict_canonicaljson} (rust/src/room_versions.rs); every later one, and any unknown, has it. */
    private static final Set<String> LENIENT_JSON_ROOM_VERSIONS = Set.of("1", "2", "3", "4", "5");
    /**
     * Room versions with {@code msc4289_creator_power_enabled} (creators hold no entry in the power levels'
     * {@code users}) and {@code msc4291_room_ids_as_hashes} (the room's ID is its create event's): both
     * flags are set in the same versions of rust/src/room_versions.rs.
     */
    private static final Set<String> HYDRA_ROOM_VERSIONS = Set.of("12", "org.matrix.hydra.11", "org.matrix.msc4242.12");
    /** Canonical JSON's integers, {@code CANONICALJSON_MAX_INT} (synapse/api/constants.py). */
    private static final BigInteger MAX_INTEGER = BigInteger.TWO.pow(53).subtract(BigInteger.ONE);
    private static final List<String> POWER_LEVELS = List.of("ban", "events_default", "invite", "kick", "redact", "state_default",
            "users_default");
    private static final List<String> POWER_LEVEL_MAPS = List.of("events", "notifications", "users");
    /** The fields of a PDU that its client form carries too; the PDU adds hashes, signatures and its references. */
    private static final List<String> PDU_FIELDS = List.of("type", "room_id", "sender", "state_key", "origin_server_ts", "redacts");

    /**
     * Why Synapse would refuse a replacement, or take it against the user's request, and what the user would see.
     *
     * @param problem what is wrong, completing "the new content ..."
     * @param status  the status of the user's request
     * @param outcome what Synapse would do, completing "..., and"
     */
    record Refusal(String problem, int status, String outcome) {
        /** A replacement Synapse refuses, ending the user's request with {@code status}. */
        Refusal(String problem, int status) {
            this(problem, status, "Synapse would end the user's request in a " + status);
        }

        String message() {
            return "the new content " + problem + ", and " + outcome;
        }
    }

    private SynapseRefusals() {
    }

    /** The first reason Synapse would refuse {@code event} with {@code content} instead of its own, if any. */
    static Optional<Refusal> of(ClientEvent event, ObjectNode content, List<ClientEvent> state, String serverName) {
        return byType(event, content)
                .or(() -> strictJson(event, state) ? notCanonical(content) : Optional.empty())
                .or(() -> tooLarge(event, content))
                .or(() -> mentions(content))
                .or(() -> relation(content))
                .or(() -> switch (event.type()) {
                    case "m.room.power_levels" -> powerLevels(content, createEvent(event, state));
                    case "m.room.server_acl" -> serverAcl(content, serverName);
                    case "m.room.retention" -> retention(content);
                    case "m.room.aliases" -> aliases(content);
                    default -> Optional.empty();
                });
    }

    /**
     * A 500: the checks of EventValidator.validate_builder that _rebuild_event_after_third_party_rules
     * turns into an exception, and the {@code redacts} a redaction in room version 11 and later holds in
     * its content (without it, handle_new_client_event fails an assertion). A redaction keeps its
     * target: censoring its reason must not remove another event. A membership event keeps its
     * {@code membership}: Synapse would record a join turned into a leave with a 200 (the user out of
     * the room they asked to enter; a new room's creator out of their own room, its setup then failing)
     * and refuse a join turned into a ban of oneself with a 403. Nor can the create event of a room
     * version 12 room be rebuilt, whatever its new content: it has no {@code room_id}, which the rebuild
     * asserts (and may not change), since the room's ID is the hash of the event as the user made it;
     * the create event of an earlier version keeps its {@code room_version}, which Synapse chose the
     * room's rules by before it asked.
     */
    private static Optional<Refusal> byType(ClientEvent event, ObjectNode content) {
        return switch (event.type()) {
            case "m.room.message" -> notAString(event, content, "msgtype").or(() -> notAString(event, content, "body"));
            case "m.room.topic" -> notAString(event, content, "topic");
            case "m.room.name" -> notAString(event, content, "name");
            case "m.room.member" -> membership(event, content);
            case "m.room.tombstone" -> {
                JsonNode room = content.get("replacement_room");
                yield room == null ? error500("of an m.room.tombstone event has no 'replacement_room'")
                        : room.isString() && room.stringValue().equals(event.roomId())
                        ? error500("of an m.room.tombstone event names its own room as 'replacement_room'") : Optional.empty();
            }
            case "m.room.create" -> event.stateKey().filter(String::isEmpty).isEmpty() ? Optional.empty()
                    : roomVersion(event, List.of()).filter(HYDRA_ROOM_VERSIONS::contains).isPresent()
                    ? error500("replaces that of a room version 12 create event, whose hash is the room's ID")
                    : same(content.get("room_version"), event.content().get("room_version")) ? Optional.empty()
                    : Optional.of(new Refusal("of an m.room.create event changes 'room_version' from "
                    + written(event.content().get("room_version")) + " to " + written(content.get("room_version")), 200, "Synapse would store a"
                    + " room whose create event names another version than the one it was made in (or refuse the room's next"
                    + " events as unauthorized with a 403, for a version it does not know)"));
            case "m.room.redaction" -> {
                JsonNode redacts = event.content().get("redacts");
                yield redacts == null || same(redacts, content.get("redacts")) ? Optional.empty()
                        : error500("of an m.room.redaction event changes or drops 'redacts'");
            }
            default -> Optional.empty();
        };
    }

    /**
     * A membership event keeps its {@code membership} and the two fields event authorization reads
     * from its content: {@code join_authorised_via_users_server}, the member who lets a restricted
     * room's join in (its member event is among the auth events the rebuilt event keeps, and its server
     * must have signed), and the {@code signed} block of {@code third_party_invite}, which the
     * identity server signed (synapse/event_auth.py); its {@code display_name} may be masked. A replacement that drops or changes either is refused as
     * unauthorized with a 403 the user cannot understand, or, dropping the first from a join of a
     * member already in the room, no longer says who let them in.
     */
    private static Optional<Refusal> membership(ClientEvent event, ObjectNode content) {
        if (!(content.path("membership").isString() && MEMBERSHIPS.contains(content.get("membership").stringValue()))) {
            return error500("of an m.room.member event has no 'membership' of " + MEMBERSHIPS);
        }
        if (!same(content.get("membership"), event.content().get("membership"))) {
            return Optional.of(new Refusal("of an m.room.member event changes 'membership' from " + written(event.content().get("membership"))
                    + " to " + written(content.get("membership")), 200, "Synapse would record a membership the user did not ask for "
                    + "(or refuse it as unauthorized with a 403)"));
        }
        return Stream.of("/join_authorised_via_users_server", "/third_party_invite/signed")
                .filter(field -> !same(content.at(field), event.content().at(field)))
                .findFirst()
                .map(field -> new Refusal("of an m.room.member event " + (content.at(field).isMissingNode() ? "drops" : "changes")
                        + " '" + field.substring(1).replace('/', '.') + "', which event authorization reads", 403,
                        "Synapse would refuse the membership as unauthorized with a 403"));
    }

    /**
     * Whether two values (either missing: null) are equal, compared without recursion: the censor's answer
     * is read as deep as an event goes, where Jackson's own {@code equals} overflows the stack (some
     * 5,000 levels down).
     */
    private static boolean same(JsonNode one, JsonNode other) {
        return one == null || other == null ? one == other : EventJson.equal(one, other);
    }

    /**
     * A value as JSON, however deep (Jackson's {@code toString} refuses a tree past 500 levels), as a log
     * argument: the refusal ends in the WARN line and an explanation, and the value is the censor's, as
     * long as its reply and holding what it likes, so it is cut and its controls escaped ({@link LogText#message}).
     */
    private static String written(JsonNode value) {
        return value == null ? "null" : LogText.message(EventJson.MAPPER.writeValueAsString(value));
    }

    private static Optional<Refusal> notAString(ClientEvent event, ObjectNode content, String field) {
        return content.path(field).isString() ? Optional.empty() : error500("of an " + event.type() + " event has no string '" + field + "'");
    }

    /**
     * Whether the room's version has {@code strict_canonicaljson} (EventValidator.validate_new): the
     * version is the create event's {@code room_version} ("1" when absent), from the state or, for the
     * create event itself, from the event. A room whose create event is not in the request, or whose
     * version is unknown, is taken as strict: every room version since 6 is.
     */
    private static boolean strictJson(ClientEvent event, List<ClientEvent> state) {
        return !roomVersion(event, state).filter(LENIENT_JSON_ROOM_VERSIONS::contains).isPresent();
    }

    private static Optional<String> roomVersion(ClientEvent event, List<ClientEvent> state) {
        return createEvent(event, state).flatMap(create -> {
            JsonNode version = create.content().get("room_version");
            return version == null ? Optional.of("1") : version.isString() ? Optional.of(version.stringValue()) : Optional.empty();
        });
    }

    /** The room's create event: the event itself, or one of the state. */
    private static Optional<ClientEvent> createEvent(ClientEvent event, List<ClientEvent> state) {
        return Stream.concat(Stream.of(event), state.stream())
                .filter(e -> e.type().equals("m.room.create") && e.stateKey().filter(String::isEmpty).isPresent()).findFirst();
    }

    /** A 400 M_BAD_JSON from validate_canonicaljson (synapse/events/utils.py): a float, or an integer beyond ±(2^53−1). */
    private static Optional<Refusal> notCanonical(ObjectNode content) {
        List<String> problems = new ArrayList<>(1);
        EventJson.walk(content, new EventJson.Visitor() {
            @Override
            public void open(String name, boolean first, JsonNode container) {
            }

            @Override
            public void value(String name, boolean first, JsonNode value) {
                if (problems.isEmpty() && value.isNumber() && !canonicalInteger(value)) {
                    problems.add(value.isIntegralNumber() ? "an integer beyond ±(2^53-1)" : "a float");
                }
            }

            @Override
            public void close(JsonNode container) {
            }
        });
        return problems.isEmpty() ? Optional.empty()
                : error400("holds " + problems.getFirst() + ", which the room's version refuses (strict canonical JSON)");
    }

    private static boolean canonicalInteger(JsonNode number) {
        return number.isIntegralNumber() && number.bigIntegerValue().abs().compareTo(MAX_INTEGER) <= 0;
    }

    /**
     * A 413 M_TOO_LARGE from event_auth._check_size_limits: the PDU's canonical JSON over 65,536 bytes.
     * Counted here are the content and the PDU fields the client form carries; the PDU Synapse checks
     * holds more (hashes, signatures, prev and auth events), so a content a few hundred bytes under
     * the limit may still be refused. The compact JSON written here has the canonical form's length:
     * the same escapes, UTF-8, no spaces; only key order differs (and a float's spelling, which strict
     * room versions refuse anyway).
     */
    private static Optional<Refusal> tooLarge(ClientEvent event, ObjectNode content) {
        ObjectNode pdu = content.objectNode();
        for (String field : PDU_FIELDS) {
            JsonNode value = event.json().get(field);
            boolean v12Create = field.equals("room_id") && event.type().equals("m.room.create"); // its ID makes the room's
            if (value != null && !v12Create) {
                pdu.set(field, value);
            }
        }
        pdu.set("content", content);
        int bytes = EventJson.MAPPER.writeValueAsBytes(pdu).length;
        return bytes <= EventJson.EVENT_BYTES ? Optional.empty()
                : Optional.of(new Refusal("makes the event " + bytes + " bytes, over Synapse's limit of " + EventJson.EVENT_BYTES, 413));
    }

    /**
     * A 400 M_BAD_JSON from validate_new's MENTIONS_SCHEMA. Its array type is Python's Sequence, which
     * a string is too: {@code "user_ids": "@a:b"} passes, as its characters are strings.
     */
    private static Optional<Refusal> mentions(ObjectNode content) {
        if (!content.has("m.mentions")) {
            return Optional.empty();
        }
        JsonNode mentions = content.get("m.mentions");
        if (!mentions.isObject()) {
            return error400("has an 'm.mentions' that is not an object");
        }
        JsonNode userIds = mentions.get("user_ids");
        boolean listOfStrings = userIds == null || userIds.isString()
                || userIds.isArray() && userIds.valueStream().allMatch(JsonNode::isString);
        JsonNode room = mentions.get("room");
        return !listOfStrings ? error400("has 'm.mentions.user_ids' that is not a list of strings")
                : room != null && !room.isBoolean() ? error400("has 'm.mentions.room' that is not a boolean") : Optional.empty();
    }

    /**
     * A 400 from EventCreationHandler._validate_event_relation: an annotation whose {@code key} is
     * missing or longer than 500 characters. Whether the related event exists, or was already annotated
     * so, only Synapse's database knows.
     */
    private static Optional<Refusal> relation(ObjectNode content) {
        JsonNode relation = content.get("m.relates_to");
        if (relation == null || !relation.isObject() || !relation.path("rel_type").isString() || !relation.path("event_id").isString()
                || !relation.get("rel_type").stringValue().equals("m.annotation")) {
            return Optional.empty();
        }
        JsonNode key = relation.get("key");
        return key == null || !key.isString() ? error400("is an annotation without a string 'key'")
                : codePoints(key.stringValue()) > 500 ? error400("is an annotation whose 'key' is longer than 500 characters") : Optional.empty();
    }

    /**
     * A 400 from validate_new's POWER_LEVELS_SCHEMA (levels are integers within ±(2^53−1); its draft 7
     * integer takes 50.0 too, which only rooms before version 6 let through) and from
     * event_auth._check_power_levels: every key of {@code users} a user ID, and in room versions with
     * creator power (12) no creator among them.
     */
    private static Optional<Refusal> powerLevels(ObjectNode content, Optional<ClientEvent> createEvent) {
        for (String field : POWER_LEVELS) {
            JsonNode level = content.get(field);
            if (level != null && !powerLevel(level)) {
                return error400("of an m.room.power_levels event has a '" + field + "' that is not an integer");
            }
        }
        for (String field : POWER_LEVEL_MAPS) {
            JsonNode levels = content.get(field);
            if (levels != null && (!levels.isObject() || !levels.valueStream().allMatch(SynapseRefusals::powerLevel))) {
                return error400("of an m.room.power_levels event has a '" + field + "' that is not an object of integers");
            }
        }
        JsonNode users = content.path("users");
        for (Map.Entry<String, JsonNode> user : users.properties()) {
            if (!user.getKey().startsWith("@") || user.getKey().indexOf(':') < 0) {
                return error400("of an m.room.power_levels event has a key in 'users' that is not a user ID");
            }
        }
        return createEvent.filter(create -> create.content().path("room_version").isString()
                        && HYDRA_ROOM_VERSIONS.contains(create.content().get("room_version").stringValue()))
                .flatMap(create -> {
                    List<String> creators = new ArrayList<>(List.of(create.sender()));
                    create.content().path("additional_creators").valueStream().filter(JsonNode::isString)
                            .forEach(creator -> creators.add(creator.stringValue()));
                    return creators.stream().anyMatch(users::has)
                            ? error400("of an m.room.power_levels event gives a room creator a level in 'users'") : Optional.empty();
                });
    }

    private static boolean powerLevel(JsonNode level) {
        if (level.isIntegralNumber()) {
            return canonicalInteger(level);
        }
        double value = level.isNumber() ? level.doubleValue() : Double.NaN;
        return Double.isFinite(value) && value == Math.rint(value) && Math.abs(value) <= MAX_INTEGER.doubleValue();
    }

    /**
     * A 400 from validate_new: an ACL that denies this server (server_acl_evaluator_from_event and the
     * Rust ServerAclEvaluator): IP literals when {@code allow_ip_literals} is false, a match of
     * {@code deny}, or no match of {@code allow}. Malformed fields are ignored as Synapse ignores them.
     */
    private static Optional<Refusal> serverAcl(ObjectNode content, String serverName) {
        JsonNode allowIpLiterals = content.get("allow_ip_literals");
        boolean ipLiteral = serverName.startsWith("[") || isIpv4(serverName);
        boolean denied = allowIpLiterals != null && allowIpLiterals.isBoolean() && !allowIpLiterals.booleanValue() && ipLiteral
                || matchesAny(content.get("deny"), serverName) || !matchesAny(content.get("allow"), serverName);
        return denied ? error400("of an m.room.server_acl event denies this server, " + serverName) : Optional.empty();
    }

    /** Synapse's globs match the whole name, ignoring case. */
    private static boolean matchesAny(JsonNode globs, String serverName) {
        if (globs == null || !globs.isArray()) {
            return false;
        }
        List<String> patterns = globs.valueStream().filter(JsonNode::isString).map(glob -> UserIdMatcher.fold(glob.stringValue())).toList();
        return !patterns.isEmpty() && GlobAutomaton.compile(patterns).matches(UserIdMatcher.fold(serverName));
    }

    /** Rust's {@code Ipv4Addr::from_str}: four decimal octets, nothing more. */
    private static boolean isIpv4(String name) {
        if (!name.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return false;
        }
        try {
            return InetAddress.ofLiteral(name) instanceof Inet4Address;
        } catch (IllegalArgumentException notAnAddress) {
            return false;
        }
    }

    /** A 400 M_BAD_JSON from EventValidator._validate_retention: integer lifetimes, the least not over the most. */
    private static Optional<Refusal> retention(ObjectNode content) {
        JsonNode min = content.get("min_lifetime");
        JsonNode max = content.get("max_lifetime");
        for (JsonNode lifetime : new JsonNode[] {min, max}) {
            if (lifetime != null && !lifetime.isNull() && !lifetime.isIntegralNumber()) {
                return error400("of an m.room.retention event has a lifetime that is not an integer");
            }
        }
        boolean both = min != null && !min.isNull() && max != null && !max.isNull();
        return both && min.bigIntegerValue().compareTo(max.bigIntegerValue()) > 0
                ? error400("of an m.room.retention event has 'min_lifetime' over 'max_lifetime'") : Optional.empty();
    }

    /**
     * From validate_new, which takes the {@code len} of each entry of {@code aliases}: a 400
     * M_INVALID_PARAM for one longer than 255, and a 500 where Python cannot (a number, a boolean or
     * null as {@code aliases} or as an entry: a TypeError). A string is iterated by its characters,
     * an object by its keys, as Python does.
     */
    private static Optional<Refusal> aliases(ObjectNode content) {
        JsonNode aliases = content.get("aliases");
        if (aliases == null || aliases.isString()) {
            return Optional.empty();
        }
        if (!aliases.isContainer()) {
            return error500("of an m.room.aliases event has 'aliases' that is not a list");
        }
        Stream<Integer> lengths = aliases.isObject() ? aliases.propertyNames().stream().map(SynapseRefusals::codePoints)
                : aliases.valueStream().map(alias -> alias.isString() ? codePoints(alias.stringValue())
                : alias.isContainer() ? alias.size() : -1);
        List<Integer> measured = lengths.toList();
        return measured.contains(-1) ? error500("of an m.room.aliases event holds an alias that is not a string")
                : measured.stream().anyMatch(length -> length > 255)
                ? error400("of an m.room.aliases event holds an alias longer than 255 characters") : Optional.empty();
    }

    /** Python's {@code len} of a string. */
    private static int codePoints(String text) {
        return text.codePointCount(0, text.length());
    }

    private static Optional<Refusal> error400(String problem) {
        return Optional.of(new Refusal(problem, 400));
    }

    private static Optional<Refusal> error500(String problem) {
        return Optional.of(new Refusal(problem, 500));
    }
}
