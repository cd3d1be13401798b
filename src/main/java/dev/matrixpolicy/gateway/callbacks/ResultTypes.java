package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.chain.RunAll;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.io.OutputStream;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamWriteConstraints;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The result types of all Synapse callbacks. Configuration values arrive as bound by Spring Boot:
 * scalars as strings, booleans or numbers, YAML maps as maps, YAML lists as lists or as maps keyed by
 * index, YAML null as an empty string. A structured answer may also be written as a JSON string.
 * JSON answers (the inverse of {@code toJson}) are read strictly: a boolean must be a JSON boolean,
 * a number a JSON integer.
 */
public final class ResultTypes {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final JsonMapper CONFIG_JSON = JsonMapper.builder().build();
    /**
     * The deepest nesting of an answer Synapse serves to clients as it came, the answer's own object
     * being the first level: Synapse writes it inside each response that serves it ({@code /sync} adds
     * some ten levels around an event), and its Python writer fails the whole response past about
     * 1,000 levels on Python 3.11, counted with the frames already on its stack. A hundred levels is
     * far more than any field a module adds needs, and far from that failure. The Synapse module holds
     * the modules' merged fields to the same bound.
     */
    public static final int SERVED_DEPTH = 100;

    /** Writes, to count it, what Synapse will serve: refuses nesting past {@link #SERVED_DEPTH}. */
    private static final JsonMapper SERVED = JsonMapper.builder(JsonFactory.builder()
                    .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(SERVED_DEPTH).build()).build())
            .addModule(EventJson.module()).build();

    private static final Pattern INDEX_KEY = Pattern.compile("\\[?\\d+]?");
    /** The Matrix spec's field of a rate-limit error: how long to wait before trying again. */
    private static final String RETRY_AFTER_MS = "retry_after_ms";
    /** Synapse's {@code PresenceState} values. */
    private static final List<String> PRESENCE = List.of("online", "unavailable", "offline", "org.matrix.msc3026.busy");

    /** A presence state as the Synapse module sends and takes it back: a {@code UserPresenceState}'s fields. */
    private static final String PRESENCE_STATE_SCHEMA = """
            {"type": "object", "required": ["user_id", "state"],
             "properties": {"user_id": {"type": "string"},
                            "state": {"enum": ["online", "unavailable", "offline", "org.matrix.msc3026.busy"]},
                            "last_active_ts": {"type": "integer", "minimum": 0},
                            "last_federation_update_ts": {"type": "integer", "minimum": 0},
                            "last_user_sync_ts": {"type": "integer", "minimum": 0},
                            "status_msg": {"type": ["string", "null"]},
                            "currently_active": {"type": "boolean"}}}""";

    /** Synapse's {@code MAX_DISPLAYNAME_LEN}, counted in characters (code points), as Python counts them. */
    private static final int MOST_DISPLAY_NAME_CHARACTERS = 256;

    private ResultTypes() {
    }

    /** {@code NOT_SPAM} or a Matrix error code. */
    public static final ResultType<SpamVerdict> SPAM_VERDICT = new Simple<>(
            "NOT_SPAM or a Matrix error code such as M_FORBIDDEN", Rejects.YES, schema("""
                    {"const": "NOT_SPAM"}"""),
            (value, error) -> "NOT_SPAM".equals(value) ? SpamVerdict.NOT_SPAM : new Rejection(scalar(value), error),
            json -> isText(json, "NOT_SPAM") ? SpamVerdict.NOT_SPAM : rejectionFromJson(json),
            verdict -> verdict instanceof Rejection rejection ? rejectionJson(rejection) : JSON.stringNode("NOT_SPAM"),
            verdict -> verdict == SpamVerdict.NOT_SPAM ? Outcomes.ALLOW : Outcomes.DENY);

    /** A boolean where {@code true} lets the action go through. */
    public static final ResultType<Boolean> ALLOWED_IF_TRUE = new Simple<>("true or false", Rejects.NO, schema("""
                    {"type": "boolean", "description": "true lets the action go through"}"""),
            (value, error) -> bool(value), ResultTypes::jsonBool, JSON::booleanNode,
            allowed -> allowed ? Outcomes.ALLOW : Outcomes.DENY);

    /** A boolean where {@code true} flags spam (hide the user, drop the event). */
    public static final ResultType<Boolean> SPAM_IF_TRUE = new Simple<>("true or false", Rejects.NO, schema("""
                    {"type": "boolean", "description": "true flags spam"}"""),
            (value, error) -> bool(value), ResultTypes::jsonBool, JSON::booleanNode,
            spam -> spam ? Outcomes.DENY : Outcomes.ALLOW);

    public static final ResultType<RegistrationBehaviour> REGISTRATION_BEHAVIOUR = new Simple<>(
            "ALLOW, SHADOW_BAN or DENY", Rejects.NO, enumSchema(RegistrationBehaviour.values()),
            (value, error) -> RegistrationBehaviour.valueOf(scalar(value).toUpperCase(Locale.ROOT)),
            json -> RegistrationBehaviour.valueOf(jsonString(json)),
            behaviour -> JSON.stringNode(behaviour.name()),
            behaviour -> switch (behaviour) {
                case ALLOW -> Outcomes.ALLOW;
                case SHADOW_BAN -> Outcomes.SHADOW_BAN;
                case DENY -> Outcomes.DENY;
            });

    /** {@code is_user_expired}: true (expired), false, or null (no opinion). */
    public static final ResultType<Optional<Boolean>> OPTIONAL_EXPIRED = new Simple<>("true, false or null", Rejects.NO, schema("""
                    {"type": ["boolean", "null"], "description": "true: expired; null: no opinion"}"""),
            (value, error) -> isNull(value) ? Optional.empty() : Optional.of(bool(value)),
            json -> optionalJson(json, ResultTypes::jsonBool),
            expired -> expired.<JsonNode>map(JSON::booleanNode).orElse(JSON.nullNode()),
            expired -> expired.map(e -> e ? Outcomes.DENY : Outcomes.ALLOW).orElse(Outcomes.NONE));

    /** A string, or null for no opinion. */
    public static final ResultType<Optional<String>> OPTIONAL_STRING = new Simple<>("a string or null", Rejects.NO, schema("""
                    {"type": ["string", "null"]}"""),
            (value, error) -> isNull(value) ? Optional.empty() : Optional.of(scalar(value)),
            json -> optionalJson(json, ResultTypes::jsonString),
            ResultTypes::optionalStringJson,
            value -> value.isPresent() ? Outcomes.VALUE : Outcomes.NONE);

    /**
     * {@code get_displayname_for_registration}: the new user's display name, or null for Synapse's own
     * choice. Synapse stores it as it comes, then refuses each of the user's joins with one over its
     * {@code MAX_DISPLAYNAME_LEN}, 256 characters (the bound on a name a user sets), so a fixed answer
     * and a module's are held to that.
     */
    public static final ResultType<Optional<String>> OPTIONAL_DISPLAY_NAME = new Simple<>(
            "a display name of at most " + MOST_DISPLAY_NAME_CHARACTERS + " characters, or null", Rejects.NO, schema("""
                    {"type": ["string", "null"], "maxLength": 256}"""),
            (value, error) -> isNull(value) ? Optional.empty() : Optional.of(displayName(scalar(value))),
            json -> optionalJson(json, name -> displayName(jsonString(name))),
            ResultTypes::optionalStringJson,
            value -> value.isPresent() ? Outcomes.VALUE : Outcomes.NONE);

    /**
     * {@code get_username_for_registration}: the localpart to register, or null for the one the client
     * asked for. Synapse lower-cases it, then refuses every registration (400 {@code M_INVALID_USERNAME})
     * with one that is empty or holds another character than a-z, 0-9 and {@code =_-./+}; so a fixed
     * answer is held to that. A module's answer is handed on as it came, with Synapse's refusal.
     */
    public static final ResultType<Optional<String>> OPTIONAL_LOCALPART = new Simple<>(
            "a localpart Synapse registers (a-z, 0-9 and =_-./+, any case) or null", Rejects.NO, schema("""
                    {"type": ["string", "null"]}"""),
            (value, error) -> isNull(value) ? Optional.empty() : Optional.of(registrableLocalpart(scalar(value))),
            json -> optionalJson(json, ResultTypes::jsonString),
            ResultTypes::optionalStringJson,
            value -> value.isPresent() ? Outcomes.VALUE : Outcomes.NONE);

    /**
     * A Matrix user ID, or null: the user an authentication check accepted. A fixed answer is held to
     * the spec's grammar; a module's answer is read as Synapse takes the user ID of an auth checker
     * ({@link MatrixIds#userIdAsSynapseTakesIt}), so an auth service may log in any account Synapse
     * holds, an appservice's {@code @irc_a:b:example.org} included.
     */
    public static final ResultType<Optional<String>> OPTIONAL_USER_ID = new Simple<>("a Matrix user ID or null", Rejects.NO, schema("""
                    {"type": ["string", "null"], "description": "A Matrix user ID, or null"}"""),
            (value, error) -> isNull(value) ? Optional.empty() : Optional.of(MatrixIds.userId(scalar(value))),
            json -> optionalJson(json, user -> MatrixIds.userIdAsSynapseTakesIt(jsonString(user))),
            ResultTypes::optionalStringJson,
            user -> user.isPresent() ? Outcomes.ALLOW : Outcomes.NONE);

    public static final ResultType<EventAllowed> EVENT_ALLOWED = new Simple<>(
            "true or false (a fixed answer cannot replace the event)", Rejects.NO, schema("""
                    {"type": "object", "required": ["allowed", "replacement"],
                     "properties": {"allowed": {"type": "boolean"},
                                    "replacement": {"type": ["object", "null"], "description": "The event to use instead"}}}"""),
            (value, error) -> bool(value) ? EventAllowed.ALLOWED : EventAllowed.DENIED,
            json -> new EventAllowed(jsonField(json, "allowed", ResultTypes::jsonBool),
                    jsonField(json, "replacement", ResultTypes::optionalObject)),
            allowed -> {
                ObjectNode json = JSON.objectNode();
                json.put("allowed", allowed.allowed());
                json.set("replacement", allowed.replacement().<JsonNode>map(r -> r).orElse(JSON.nullNode()));
                return json;
            },
            allowed -> !allowed.allowed() ? Outcomes.DENY
                    : allowed.replacement().isPresent() ? Outcomes.REPLACE : Outcomes.ALLOW);

    /** {@code on_create_room}: null lets the creation go ahead unchanged; a Matrix error code denies it. */
    public static final ResultType<RoomCreation> ROOM_CREATION = new Simple<>(
            "null (go ahead unchanged) or a Matrix error code such as M_FORBIDDEN", Rejects.YES, schema("""
                    {"type": "object", "required": ["request_content"],
                     "properties": {"request_content": {"type": ["object", "null"],
                                                        "description": "The room creation request as the modules left it"}}}"""),
            (value, error) -> isNull(value) ? RoomCreation.UNCHANGED : new Rejection(scalar(value), error),
            json -> jsonObject(json).has("errcode") ? rejectionFromJson(json)
                    : new RoomCreation.Proceed(jsonField(json, "request_content", ResultTypes::optionalObject)),
            creation -> switch (creation) {
                case Rejection rejection -> rejectionJson(rejection);
                case RoomCreation.Proceed proceed -> {
                    ObjectNode json = JSON.objectNode();
                    json.set("request_content", proceed.requestContent().<JsonNode>map(c -> c).orElse(JSON.nullNode()));
                    yield json;
                }
            },
            creation -> creation instanceof Rejection ? Outcomes.DENY : Outcomes.ALLOW);

    /** Notification callbacks return nothing. */
    public static final ResultType<RunAll.Completed> NOTHING = new Simple<>(
            "null (notification callbacks return nothing; a fixed module just acknowledges them)", Rejects.NO, schema("""
                    {"type": "null"}"""),
            (value, error) -> nothing(isNull(value)),
            json -> nothing(isNull(json)),
            completed -> JSON.nullNode(),
            completed -> Outcomes.NOTIFIED);

    public static final ResultType<InterestedUsers> INTERESTED_USERS = new Simple<>(
            "ALL, or a list of Matrix user IDs", Rejects.NO, schema("""
                    {"oneOf": [{"const": "ALL"},
                               {"type": "array", "uniqueItems": true, "items": {"type": "string", "description": "A Matrix user ID"}}]}"""),
            (value, error) -> "ALL".equals(value) ? InterestedUsers.ALL_USERS
                    : new InterestedUsers.Users(new LinkedHashSet<>(list(value).stream()
                            .map(user -> MatrixIds.userId(scalar(user))).toList())),
            json -> isText(json, "ALL") ? InterestedUsers.ALL_USERS
                    : new InterestedUsers.Users(new LinkedHashSet<>(jsonArray(json).stream()
                            .map(user -> MatrixIds.userIdAsSynapseTakesIt(jsonString(user))).toList())),
            users -> switch (users) {
                case InterestedUsers.AllUsers all -> JSON.stringNode("ALL");
                case InterestedUsers.Users some -> {
                    ArrayNode json = JSON.arrayNode();
                    some.userIds().forEach(json::add);
                    yield json;
                }
            },
            users -> users == InterestedUsers.ALL_USERS ? Outcomes.ALL_USERS : Outcomes.VALUE);

    public static final ResultType<UsersForStates> USERS_FOR_STATES = new Simple<>(
            "a map from Matrix user ID to a list of presence states", Rejects.NO, schema("""
                    {"type": "object", "description": "Matrix user ID to the presence states to send them",
                     "additionalProperties": {"type": "array", "items": %s}}""".formatted(PRESENCE_STATE_SCHEMA)),
            (value, error) -> usersForStates(json(value), MatrixIds::userId),
            json -> usersForStates(json, MatrixIds::userIdAsSynapseTakesIt),
            users -> {
                ObjectNode json = JSON.objectNode();
                users.routes().forEach((user, states) -> {
                    ArrayNode array = json.putArray(user);
                    states.forEach(array::add);
                });
                return json;
            },
            // a receiver named without states (one of ALL, when there is no update) forwards nothing
            users -> users.routes().values().stream().allMatch(Set::isEmpty) ? Outcomes.NONE : Outcomes.VALUE,
            new ResultType.CompactForm<>(schema("""
                    {"type": "object", "description": "The compact form (answer_form: compact): each presence state once, each distinct set of them once, by the states' indices, and each Matrix user ID with the index of its set",
                     "required": ["states", "sets", "users"],
                     "properties": {"states": {"type": "array", "items": %s},
                                    "sets": {"type": "array", "items": {"type": "array", "items": {"type": "integer", "minimum": 0}}},
                                    "users": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}}}"""
                    .formatted(PRESENCE_STATE_SCHEMA)), UsersForStates::compact));

    /**
     * Extra fields for an event's {@code unsigned} section, at most {@link EventJson#EVENT_BYTES} of
     * compact JSON in UTF-8, what Synapse lets a whole event hold: Synapse adds them to the event in every
     * response that serves it (each {@code /sync}, {@code /messages}), so a module's megabyte would go out
     * with each. The Synapse module holds the modules' merged fields to the same bound.
     */
    public static final ResultType<ObjectNode> UNSIGNED_FIELDS = new Simple<>(
            "a map of field names to values, at most " + EventJson.EVENT_BYTES + " bytes of JSON nested at most " + SERVED_DEPTH + " levels deep", Rejects.NO, schema("""
                    {"type": "object", "description": "At most 65536 bytes of compact JSON in UTF-8, what an event may hold, nested at most 100 levels deep"}"""),
            (value, error) -> atMostAnEvent(json(value)),
            ResultTypes::atMostAnEvent,
            fields -> fields,
            fields -> fields.isEmpty() ? Outcomes.NONE : Outcomes.VALUE);

    /** A batch size for a background update: at least 1. */
    public static final ResultType<Integer> BATCH_SIZE = positiveInteger("a whole number of at least 1", 1);

    /** A background update iteration's target duration in milliseconds. */
    public static final ResultType<Integer> DURATION_MS = positiveInteger("a whole number of milliseconds, 0 or more", 0);

    /**
     * {@code get_media_config_for_user}: the body of the client's media config response, or null to
     * keep Synapse's own. Synapse tests the answer's truthiness, so an empty map counts as null. At most
     * {@link EventJson#EVENT_BYTES} of JSON, as {@link #UNSIGNED_FIELDS}: Synapse serves it to each of the
     * user's clients as it came.
     */
    public static final ResultType<Optional<ObjectNode>> MEDIA_CONFIG = new Simple<>(
            "a map (the media config answered to the user, e.g. m.upload.size) or null, at most " + EventJson.EVENT_BYTES
                    + " bytes of JSON nested at most " + SERVED_DEPTH + " levels deep", Rejects.NO, schema("""
                    {"type": ["object", "null"], "description": "At most 65536 bytes of compact JSON in UTF-8, nested at most 100 levels deep"}"""),
            (value, error) -> isNull(value) ? Optional.empty() : Optional.of(atMostAnEvent(json(value))),
            json -> optionalObject(json).map(ResultTypes::atMostAnEvent),
            config -> config.<JsonNode>map(c -> c).orElse(JSON.nullNode()),
            config -> config.filter(c -> !c.isEmpty()).isPresent() ? Outcomes.VALUE : Outcomes.NONE);

    /**
     * {@code get_media_upload_limits_for_user}: the user's upload limits, {@code []} for none at all,
     * or null to keep Synapse's configured {@code media_upload_limits}. In configuration an empty value
     * reads as {@code []}: YAML's {@code []} and {@code null} both bind as an empty string, and leaving
     * the callback out is how a fixed module falls through.
     */
    public static final ResultType<Optional<List<MediaUploadLimit>>> MEDIA_UPLOAD_LIMITS = new Simple<>(
            "a list of {max_bytes, time_period_ms} ([] for no limit at all)", Rejects.NO, schema("""
                    {"type": ["array", "null"],
                     "items": {"type": "object", "required": ["max_bytes", "time_period_ms"],
                               "properties": {"max_bytes": {"type": "integer", "minimum": 0},
                                              "time_period_ms": {"type": "integer", "minimum": 1}}}}"""),
            (value, error) -> Optional.of("".equals(value) ? List.of() : uploadLimits(json(value), true)),
            json -> optionalJson(json, limits -> uploadLimits(limits, false)),
            limits -> limits.<JsonNode>map(ResultTypes::uploadLimitsJson).orElse(JSON.nullNode()),
            limits -> limits.isPresent() ? Outcomes.VALUE : Outcomes.NONE);

    /** {@code get_ratelimit_override_for_user}: the rate and burst to use, or null for the configured ones. */
    public static final ResultType<Optional<RatelimitOverride>> RATELIMIT_OVERRIDE = new Simple<>(
            "{per_second, burst_count} or null", Rejects.NO, schema("""
                    {"type": ["object", "null"], "required": ["per_second", "burst_count"],
                     "properties": {"per_second": {"type": "number", "exclusiveMinimum": 0,
                                                   "description": "At least max(burst_count, 1) / 86400: a full burst drains within a day"},
                                    "burst_count": {"type": "integer", "minimum": 0, "maximum": 2147483647}}}"""),
            (value, error) -> isNull(value) ? Optional.empty() : Optional.of(ratelimitOverride(json(value), true)),
            json -> optionalJson(json, override -> ratelimitOverride(override, false)),
            override -> override.<JsonNode>map(o -> {
                ObjectNode json = JSON.objectNode();
                json.put("per_second", o.perSecond());
                json.put("burst_count", o.burstCount());
                return json;
            }).orElse(JSON.nullNode()),
            override -> override.isPresent() ? Outcomes.VALUE : Outcomes.NONE);

    // ---- helpers

    private static ResultType<Integer> positiveInteger(String expected, int minimum) {
        return new Simple<>(expected, Rejects.NO, JSON.objectNode().put("type", "integer").put("minimum", minimum),
                (value, error) -> atLeast(minimum, Integer.parseInt(scalar(value).trim())),
                json -> {
                    if (!json.isIntegralNumber() || !json.canConvertToInt()) {
                        throw new IllegalArgumentException("expected a whole number");
                    }
                    return atLeast(minimum, json.intValue());
                },
                JSON::numberNode,
                number -> Outcomes.VALUE);
    }

    /** Synapse's {@code MXID_LOCALPART_ALLOWED_CHARACTERS}, which {@code check_username} holds a new localpart to once lower-cased. */
    private static String displayName(String name) {
        if (name.codePointCount(0, name.length()) > MOST_DISPLAY_NAME_CHARACTERS) {
            throw new IllegalArgumentException("Synapse refuses every join of a user whose display name is over "
                    + MOST_DISPLAY_NAME_CHARACTERS + " characters");
        }
        return name;
    }

    private static String registrableLocalpart(String localpart) {
        boolean allowed = localpart.toLowerCase(Locale.ROOT).chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || "_-./=+".indexOf(c) >= 0);
        if (!allowed) {
            throw new IllegalArgumentException("Synapse refuses a localpart of other characters");
        }
        return localpart;
    }

    private static RunAll.Completed nothing(boolean isNull) {
        if (!isNull) {
            throw new IllegalArgumentException("notification callbacks return nothing");
        }
        return RunAll.DELIVERED;
    }

    private static int atLeast(int minimum, int number) {
        if (number < minimum) {
            throw new IllegalArgumentException("must be at least " + minimum);
        }
        return number;
    }

    /**
     * Presence routes, from configuration converted to JSON or from a JSON answer: user ID to a list of
     * states, each user ID read by {@code userIds}. An answer takes user IDs as the callbacks' arguments
     * do ({@link MatrixIds#userIdAsSynapseTakesIt}), since it routes the states and users it was asked
     * about (an appservice's {@code @irc_a:b:example.org} among them); configuration is held to
     * {@link MatrixIds#userId}.
     */
    private static UsersForStates usersForStates(JsonNode json, UnaryOperator<String> userIds) {
        Map<String, Set<JsonNode>> routes = new LinkedHashMap<>();
        // the full form names a state once for each receiver: one object for each, which the compact form writes once
        PresenceStates distinct = new PresenceStates();
        for (Map.Entry<String, JsonNode> route : jsonObject(json).properties()) {
            String user = userIds.apply(route.getKey());
            List<JsonNode> states = jsonArray(route.getValue());
            for (int i = 0; i < states.size(); i++) {
                try {
                    presenceState(states.get(i), userIds);
                } catch (IllegalArgumentException wrong) {
                    throw new IllegalArgumentException(user + "[" + i + "]: " + wrong.getMessage(), wrong);
                }
            }
            PresenceStates userStates = new PresenceStates();
            states.forEach(state -> userStates.add(state, distinct));
            routes.put(user, userStates.sealed());
        }
        return new UsersForStates(routes);
    }

    /**
     * Checks a presence state as the Synapse module takes one back to build a {@code UserPresenceState}:
     * a user ID, one of Synapse's {@code PresenceState} values, and the optional fields of their types.
     * It refuses anything else, so a state of another shape fails here (at startup for a fixed answer)
     * rather than on every presence update in Synapse.
     */
    private static void presenceState(JsonNode state, UnaryOperator<String> userIds) {
        jsonField(state, "user_id", user -> userIds.apply(jsonString(user)));
        if (!PRESENCE.contains(jsonField(state, "state", ResultTypes::jsonString))) {
            throw new IllegalArgumentException("'state': expected one of " + PRESENCE);
        }
        for (String timestamp : List.of("last_active_ts", "last_federation_update_ts", "last_user_sync_ts")) {
            if (state.has(timestamp)) {
                jsonField(state, timestamp, ResultTypes::milliseconds);
            }
        }
        if (state.has("status_msg")) {
            jsonField(state, "status_msg", message -> optionalJson(message, ResultTypes::jsonString));
        }
        if (state.has("currently_active")) {
            jsonField(state, "currently_active", ResultTypes::jsonBool);
        }
    }

    /** Upload limits from JSON; from configuration ({@code lenient}) numbers may be written as strings. */
    private static List<MediaUploadLimit> uploadLimits(JsonNode json, boolean lenient) {
        List<MediaUploadLimit> limits = new ArrayList<>();
        List<JsonNode> elements = jsonArray(json);
        for (int i = 0; i < elements.size(); i++) {
            JsonNode limit = elements.get(i);
            try {
                long timePeriodMs = jsonField(limit, "time_period_ms", n -> wholeNumber(n, lenient));
                if (timePeriodMs < 1) {
                    // a period Synapse would take, but one in which no sum of uploads is ever counted
                    throw new IllegalArgumentException("time_period_ms must be at least 1, got " + timePeriodMs);
                }
                limits.add(new MediaUploadLimit(jsonField(limit, "max_bytes", n -> wholeNumber(n, lenient)), timePeriodMs));
            } catch (IllegalArgumentException wrong) {
                throw new IllegalArgumentException("[" + i + "]: " + wrong.getMessage(), wrong);
            }
        }
        return List.copyOf(limits);
    }

    private static ArrayNode uploadLimitsJson(List<MediaUploadLimit> limits) {
        ArrayNode json = JSON.arrayNode();
        limits.forEach(limit -> json.addObject()
                .put("max_bytes", limit.maxBytes())
                .put("time_period_ms", limit.timePeriodMs()));
        return json;
    }

    private static RatelimitOverride ratelimitOverride(JsonNode json, boolean lenient) {
        double perSecond = jsonField(json, "per_second", n -> number(n, lenient));
        long burstCount = jsonField(json, "burst_count", n -> wholeNumber(n, lenient));
        if (burstCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("'burst_count': must be at most " + Integer.MAX_VALUE);
        }
        return new RatelimitOverride(perSecond, (int) burstCount);
    }

    /** A JSON whole number of milliseconds, 0 or more. */
    private static Duration milliseconds(JsonNode json) {
        long millis = wholeNumber(json, false);
        if (millis < 0) {
            throw new IllegalArgumentException("expected 0 or more milliseconds");
        }
        return Duration.ofMillis(millis);
    }

    /** A JSON integer; from configuration also a string holding one. */
    private static long wholeNumber(JsonNode json, boolean lenient) {
        if (lenient && json != null && json.isString()) {
            try {
                return Long.parseLong(json.stringValue().trim());
            } catch (NumberFormatException notANumber) {
                throw new IllegalArgumentException("expected a whole number");
            }
        }
        if (isNull(json) || !json.isIntegralNumber() || !json.canConvertToLong()) {
            throw new IllegalArgumentException("expected a whole number");
        }
        return json.longValue();
    }

    /** A JSON number; from configuration also a string holding one. */
    private static double number(JsonNode json, boolean lenient) {
        if (lenient && json != null && json.isString()) {
            try {
                return Double.parseDouble(json.stringValue().trim());
            } catch (NumberFormatException notANumber) {
                throw new IllegalArgumentException("expected a number");
            }
        }
        if (isNull(json) || !json.isNumber()) {
            throw new IllegalArgumentException("expected a number");
        }
        return json.doubleValue();
    }

    /** The inverse of {@link #rejectionJson}: Matrix error JSON, {@code error} and {@code retry_after_ms} optional. */
    private static Rejection rejectionFromJson(JsonNode json) {
        return new Rejection(jsonField(json, "errcode", ResultTypes::jsonString),
                jsonField(json, "error", error -> optionalJson(error, ResultTypes::jsonString)),
                jsonField(json, RETRY_AFTER_MS, retry -> optionalJson(retry, ResultTypes::milliseconds)));
    }

    private static JsonNode rejectionJson(Rejection rejection) {
        ObjectNode json = JSON.objectNode();
        json.put("errcode", rejection.errcode());
        json.put("error", rejection.error().orElse(Rejection.DEFAULT_ERROR));
        rejection.retryAfter().ifPresent(retryAfter -> json.put(RETRY_AFTER_MS, retryAfter.toMillis()));
        return json;
    }

    private static JsonNode optionalStringJson(Optional<String> value) {
        return value.<JsonNode>map(JSON::stringNode).orElse(JSON.nullNode());
    }

    private static boolean isNull(Object value) {
        return value == null || (value instanceof String string && (string.isEmpty() || string.equals("null")));
    }

    // ---- reading JSON answers: Java null, a missing node and JSON null all mean null

    private static boolean isNull(JsonNode json) {
        return json == null || json.isNull() || json.isMissingNode();
    }

    /** Whether the JSON is this keyword, e.g. {@code "NOT_SPAM"}. */
    private static boolean isText(JsonNode json, String keyword) {
        return json.isString() && json.stringValue().equals(keyword);
    }

    private static <T> Optional<T> optionalJson(JsonNode json, Function<JsonNode, T> reader) {
        return isNull(json) ? Optional.empty() : Optional.of(reader.apply(json));
    }

    private static boolean jsonBool(JsonNode json) {
        if (isNull(json) || !json.isBoolean()) {
            throw new IllegalArgumentException("expected true or false");
        }
        return json.booleanValue();
    }

    private static String jsonString(JsonNode json) {
        if (isNull(json) || !json.isString()) {
            throw new IllegalArgumentException("expected a string");
        }
        return json.stringValue();
    }

    /**
     * A JSON object Synapse serves to clients as it came, at most what an event may hold and nested at
     * most {@link #SERVED_DEPTH} levels deep.
     */
    private static ObjectNode atMostAnEvent(JsonNode json) {
        ObjectNode fields = jsonObject(json);
        ByteCount bytes = new ByteCount(); // counted as written, not copied: an http module answers it per event
        try {
            SERVED.writeValue(bytes, fields);
        } catch (StreamConstraintsException tooDeep) {
            throw new IllegalArgumentException("JSON nested more than " + SERVED_DEPTH + " levels deep, more than is served to clients");
        }
        if (bytes.count > EventJson.EVENT_BYTES) {
            throw new IllegalArgumentException(bytes.count + " bytes of JSON, more than the " + EventJson.EVENT_BYTES + " an event may hold");
        }
        return fields;
    }

    /** Counts the bytes written to it, and keeps none. */
    private static final class ByteCount extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            count += length;
        }
    }

    private static ObjectNode jsonObject(JsonNode json) {
        if (!(json instanceof ObjectNode object)) {
            throw new IllegalArgumentException("expected a JSON object");
        }
        return object;
    }

    /** A field of a JSON object, read by {@code reader}; its name prefixes what is wrong with it. */
    private static <T> T jsonField(JsonNode json, String field, Function<JsonNode, T> reader) {
        JsonNode value = jsonObject(json).get(field);
        try {
            return reader.apply(value);
        } catch (IllegalArgumentException wrong) {
            throw new IllegalArgumentException("'" + field + "': " + wrong.getMessage(), wrong);
        }
    }

    private static Optional<ObjectNode> optionalObject(JsonNode json) {
        return optionalJson(json, ResultTypes::jsonObject);
    }

    private static List<JsonNode> jsonArray(JsonNode json) {
        if (isNull(json) || !json.isArray()) {
            throw new IllegalArgumentException("expected a list");
        }
        List<JsonNode> elements = new ArrayList<>(json.size());
        json.values().forEach(elements::add);
        return elements;
    }

    /** YAML scalars bind as String, Boolean or a Number. */
    private static String scalar(Object value) {
        if (value == null || value instanceof Map<?, ?> || value instanceof List<?>) {
            throw new IllegalArgumentException(value == null ? "a value is required" : "expected a single value");
        }
        String text = String.valueOf(value);
        if (text.isEmpty()) {
            throw new IllegalArgumentException("a value is required");
        }
        return text;
    }

    private static boolean bool(Object value) {
        String text = scalar(value);
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("expected true or false");
        };
    }

    /**
     * A YAML list arrives as a List, or as a map keyed by index; both read the same. An empty YAML
     * list ({@code []}) arrives as an empty string: Spring Boot's YAML loader keeps an empty
     * collection as {@code ""} so that its key still exists.
     */
    private static List<Object> list(Object value) {
        if ("".equals(value)) {
            return List.of();
        }
        if (value instanceof List<?> list) {
            return new ArrayList<>(list);
        }
        if (value instanceof Map<?, ?> map && isIndexed(map)) {
            return new ArrayList<>(map.values());
        }
        throw new IllegalArgumentException("expected a list");
    }

    /** Whether every key is a list index, as Spring's binder keys a YAML list it did not know was one: {@code 0} or {@code [0]}. */
    private static boolean isIndexed(Map<?, ?> map) {
        return map.keySet().stream().allMatch(key -> INDEX_KEY.matcher(String.valueOf(key)).matches());
    }

    /** Plain configuration values, or a JSON string, to JSON. */
    static JsonNode json(Object value) {
        if (value instanceof String string) {
            try {
                return CONFIG_JSON.readTree(string);
            } catch (JacksonException notJson) {
                throw new IllegalArgumentException("expected a map, or a JSON object written as a string");
            }
        }
        return plainToJson(value);
    }

    private static JsonNode plainToJson(Object value) {
        return switch (value) {
            case null -> JSON.nullNode();
            case String string -> JSON.stringNode(string);
            case Map<?, ?> map when !map.isEmpty() && isIndexed(map) -> {
                ArrayNode array = JSON.arrayNode();
                map.values().forEach(v -> array.add(plainToJson(v)));
                yield array;
            }
            case Map<?, ?> map -> {
                ObjectNode object = JSON.objectNode();
                map.forEach((k, v) -> object.set(String.valueOf(k), plainToJson(v)));
                yield object;
            }
            case List<?> list -> {
                ArrayNode array = JSON.arrayNode();
                list.forEach(v -> array.add(plainToJson(v)));
                yield array;
            }
            case Boolean bool -> JSON.booleanNode(bool);
            case Integer number -> JSON.numberNode(number);
            case Long number -> JSON.numberNode(number);
            // YAML's 0.5 binds as a Double, a number past a long as a BigInteger: numbers in JSON too;
            // .inf and .nan, which JSON cannot write, stay text
            case BigInteger number -> JSON.numberNode(number);
            case Double number when Double.isFinite(number) -> JSON.numberNode(number);
            default -> JSON.stringNode(String.valueOf(value));
        };
    }

    @FunctionalInterface
    private interface ConfigReader<R> {
        R read(Object value, Optional<String> error);
    }

    /** Whether a result type's answers include {@link Rejection}s. */
    private enum Rejects { YES, NO }

    /** A JSON Schema written as JSON. */
    private static JsonNode schema(String json) {
        return CONFIG_JSON.readTree(json);
    }

    private static JsonNode enumSchema(Enum<?>[] values) {
        ObjectNode schema = JSON.objectNode().put("type", "string");
        ArrayNode names = schema.putArray("enum");
        for (Enum<?> value : values) {
            names.add(value.name());
        }
        return schema;
    }

    /** @param compact the type's compact form, or null for none */
    private record Simple<R>(String expected, Rejects rejects, JsonNode schema, ConfigReader<R> reader, Function<JsonNode, R> jsonReader,
                             Function<R, JsonNode> writer, Function<R, String> labeller, CompactForm<R> compact) implements ResultType<R> {
        Simple(String expected, Rejects rejects, JsonNode schema, ConfigReader<R> reader, Function<JsonNode, R> jsonReader,
               Function<R, JsonNode> writer, Function<R, String> labeller) {
            this(expected, rejects, schema, reader, jsonReader, writer, labeller, null);
        }

        @Override
        public Optional<CompactForm<R>> compactForm() {
            return Optional.ofNullable(compact);
        }

        @Override
        public R fromConfig(Object value, Optional<String> error) {
            try {
                return reader.read(value, error);
            } catch (IllegalArgumentException wrong) {
                throw new IllegalArgumentException("expected " + expected + ", got "
                        + (value == null ? "nothing" : "'" + value + "'"), wrong);
            }
        }

        @Override
        public R fromJson(JsonNode result) {
            JsonNode json = result == null ? JSON.nullNode() : result;
            try {
                return jsonReader.apply(json);
            } catch (IllegalArgumentException wrong) {
                // written as the tree was read: JsonNode.toString() fails on a tree nested past Jackson's default depth
                throw new IllegalArgumentException(wrong.getMessage() + ", got " + EventJson.MAPPER.writeValueAsString(json), wrong);
            }
        }

        @Override
        public boolean mayReject() {
            return rejects == Rejects.YES;
        }

        @Override
        public JsonNode toJson(R result) {
            return writer.apply(result);
        }

        @Override
        public String outcome(R result) {
            return labeller.apply(result);
        }
    }
}
