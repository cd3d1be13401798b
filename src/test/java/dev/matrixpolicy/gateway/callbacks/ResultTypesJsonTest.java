package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.chain.RunAll;
import dev.matrixpolicy.gateway.matrix.EventJson;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Every result type reads back what it writes, and refuses JSON of another shape. */
class ResultTypesJsonTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void spamVerdictReadsBackNotSpamAndRejections() {
        assertRoundTrip(ResultTypes.SPAM_VERDICT, SpamVerdict.NOT_SPAM,
                new Rejection("M_FORBIDDEN", Optional.of("No spam here")), new Rejection("M_LIMIT_EXCEEDED", Optional.of("Slow down")));
        assertRefused(ResultTypes.SPAM_VERDICT, "null", "true", "\"not_spam\"", "\"M_FORBIDDEN\"", "{}",
                "{\"errcode\": \"forbidden\"}", "{\"errcode\": 403}", "{\"errcode\": \"M_FORBIDDEN\", \"error\": 1}");
    }

    @Test
    void rejectionWithoutMessageReadsBackWithTheDefaultMessageItWasWrittenWith() {
        JsonNode written = ResultTypes.SPAM_VERDICT.toJson(Rejection.of("M_FORBIDDEN"));

        assertThat(ResultTypes.SPAM_VERDICT.fromJson(written)).isEqualTo(new Rejection("M_FORBIDDEN", Optional.of("Forbidden by policy")));
        assertThat(ResultTypes.SPAM_VERDICT.fromJson(json("{\"errcode\": \"M_FORBIDDEN\"}"))).isEqualTo(Rejection.of("M_FORBIDDEN"));
    }

    @Test
    void aRateLimitRefusalCarriesRetryAfterMsBothWays() {
        Rejection limited = new Rejection("M_LIMIT_EXCEEDED", Optional.of("Slow down"), Optional.of(Duration.ofMillis(1500)));

        assertThat(ResultTypes.SPAM_VERDICT.toJson(limited)).hasToString(
                "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"Slow down\",\"retry_after_ms\":1500}");
        assertRoundTrip(ResultTypes.SPAM_VERDICT, limited);
        assertRefused(ResultTypes.SPAM_VERDICT, "{\"errcode\": \"M_LIMIT_EXCEEDED\", \"retry_after_ms\": -1}",
                "{\"errcode\": \"M_LIMIT_EXCEEDED\", \"retry_after_ms\": \"1500\"}");
    }

    @Test
    void booleansReadBackOnlyFromJsonBooleans() {
        for (ResultType<Boolean> type : List.of(ResultTypes.ALLOWED_IF_TRUE, ResultTypes.SPAM_IF_TRUE)) {
            assertRoundTrip(type, true, false);
            assertRefused(type, "null", "\"true\"", "1", "{}", "[]");
        }
    }

    @Test
    void registrationBehaviourReadsBackItsThreeNames() {
        assertRoundTrip(ResultTypes.REGISTRATION_BEHAVIOUR, RegistrationBehaviour.ALLOW, RegistrationBehaviour.SHADOW_BAN,
                RegistrationBehaviour.DENY);
        assertRefused(ResultTypes.REGISTRATION_BEHAVIOUR, "null", "\"deny\"", "\"BAN\"", "true", "{}");
    }

    @Test
    void optionalExpiredReadsBackTrueFalseAndNull() {
        assertRoundTrip(ResultTypes.OPTIONAL_EXPIRED, Optional.of(true), Optional.of(false), Optional.empty());
        assertRefused(ResultTypes.OPTIONAL_EXPIRED, "\"true\"", "0", "{}");
    }

    @Test
    void optionalStringReadsBackAStringOrNull() {
        assertRoundTrip(ResultTypes.OPTIONAL_STRING, Optional.of("carol"), Optional.of(""), Optional.empty());
        assertRefused(ResultTypes.OPTIONAL_STRING, "42", "true", "[\"carol\"]", "{}");
    }

    /** Synapse's MAX_DISPLAYNAME_LEN, in characters: a name over it would be refused each of the new user's joins. */
    @Test
    void optionalDisplayNameReadsBackANameOfAtMost256CharactersOrNull() {
        String longest = "é".repeat(255) + "\uD83D\uDE00"; // 256 characters, 257 UTF-16 units
        assertRoundTrip(ResultTypes.OPTIONAL_DISPLAY_NAME, Optional.of("Carol"), Optional.of(longest), Optional.empty());
        assertRefused(ResultTypes.OPTIONAL_DISPLAY_NAME, "42", "[\"carol\"]", "\"" + "a".repeat(257) + "\"");
        assertThatThrownBy(() -> ResultTypes.OPTIONAL_DISPLAY_NAME.fromConfig("b".repeat(257), Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("256 characters");
    }

    /** A module's username is handed on as it came: Synapse answers the client's 400 for one it refuses. */
    @Test
    void optionalLocalpartReadsBackAnyStringOrNullFromAModule() {
        assertRoundTrip(ResultTypes.OPTIONAL_LOCALPART, Optional.of("carol"), Optional.of("Carol Smith"), Optional.empty());
        assertRefused(ResultTypes.OPTIONAL_LOCALPART, "42", "true", "[\"carol\"]", "{}");
    }

    @Test
    void optionalUserIdReadsBackAUserIdAsSynapseTakesItOrNull() {
        assertRoundTrip(ResultTypes.OPTIONAL_USER_ID, Optional.of("@carol:example.com"), Optional.of("@irc_a:b:example.org"),
                Optional.of("@Carol Smith:example.com"), Optional.empty());
        assertRefused(ResultTypes.OPTIONAL_USER_ID, "\"carol\"", "\"@carol\"", "7", "{}");
    }

    @Test
    void eventAllowedReadsBackDenialsAllowancesAndReplacements() {
        ObjectNode replacement = (ObjectNode) json("{\"type\": \"m.room.message\", \"content\": {\"body\": \"****\"}}");
        assertRoundTrip(ResultTypes.EVENT_ALLOWED, EventAllowed.ALLOWED, EventAllowed.DENIED, EventAllowed.replacedBy(replacement));
        assertThat(ResultTypes.EVENT_ALLOWED.fromJson(json("{\"allowed\": true}"))).isEqualTo(EventAllowed.ALLOWED);
        assertRefused(ResultTypes.EVENT_ALLOWED, "true", "null", "{}", "{\"allowed\": \"yes\"}",
                "{\"allowed\": true, \"replacement\": \"event\"}",
                "{\"allowed\": false, \"replacement\": {\"type\": \"m.room.message\"}}");
    }

    @Test
    void roomCreationReadsBackProceedingWithOrWithoutARequestAndRejections() {
        ObjectNode request = (ObjectNode) json("{\"preset\": \"private_chat\", \"name\": \"Lobby\"}");
        assertRoundTrip(ResultTypes.ROOM_CREATION, RoomCreation.UNCHANGED, new RoomCreation.Proceed(Optional.of(request)),
                new Rejection("M_FORBIDDEN", Optional.of("No rooms today")));
        assertThat(ResultTypes.ROOM_CREATION.fromJson(json("{}"))).isEqualTo(RoomCreation.UNCHANGED);
        assertRefused(ResultTypes.ROOM_CREATION, "null", "\"M_FORBIDDEN\"", "{\"request_content\": []}",
                "{\"errcode\": \"nope\"}");
    }

    @Test
    void nothingReadsBackOnlyFromNull() {
        assertRoundTrip(ResultTypes.NOTHING, RunAll.DELIVERED);
        assertThat(ResultTypes.NOTHING.fromJson(null)).isEqualTo(RunAll.DELIVERED);
        assertRefused(ResultTypes.NOTHING, "true", "{}", "\"ok\"");
    }

    @Test
    void interestedUsersReadBackAllOrAListOfUserIds() {
        assertRoundTrip(ResultTypes.INTERESTED_USERS, InterestedUsers.ALL_USERS, InterestedUsers.NONE,
                new InterestedUsers.Users(new LinkedHashSet<>(List.of("@bob:example.com", "@carol:example.org"))));
        assertRefused(ResultTypes.INTERESTED_USERS, "null", "\"all\"", "[\"bob\"]", "[1]", "{}");
    }

    @Test
    void usersForStatesReadBackAMapOfUserIdsToStateLists() {
        JsonNode online = json("{\"user_id\": \"@bob:example.com\", \"state\": \"online\"}");
        assertRoundTrip(ResultTypes.USERS_FOR_STATES, UsersForStates.NONE,
                new UsersForStates(Map.of("@alice:example.com", Set.of(online))));
        assertRefused(ResultTypes.USERS_FOR_STATES, "null", "[]", "{\"alice\": []}",
                "{\"@alice:example.com\": {\"user_id\": \"@bob:example.com\"}}");
    }

    @Test
    void presenceAnswersNameUsersAsTheArgumentsDoWhileConfigurationIsHeldToTheGrammar() {
        // an appservice's user, whose state get_users_for_states is asked to route (MatrixIds.userIdAsSynapseTakesIt)
        String bridged = "@irc_a:b:example.org";
        JsonNode state = json("{\"user_id\": \"" + bridged + "\", \"state\": \"online\"}");
        UsersForStates routes = new UsersForStates(Map.of(bridged, Set.of(state)));
        assertRoundTrip(ResultTypes.USERS_FOR_STATES, routes);
        assertRoundTrip(ResultTypes.INTERESTED_USERS, new InterestedUsers.Users(Set.of(bridged)));
        String answer = "{\"" + bridged + "\": [" + state + "]}";
        assertThatThrownBy(() -> ResultTypes.USERS_FOR_STATES.fromConfig(answer, Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).rootCause().hasMessageStartingWith("not a valid Matrix user ID");
        assertThatThrownBy(() -> ResultTypes.INTERESTED_USERS.fromConfig(List.of(bridged), Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class).rootCause().hasMessageStartingWith("not a valid Matrix user ID");
    }

    @Test
    void usersForStatesRefusesStatesTheSynapseModuleCannotBuildAtStartupToo() {
        JsonNode full = json("""
                {"@alice:example.com": [{"user_id": "@bob:example.com", "state": "org.matrix.msc3026.busy", "last_active_ts": 5,
                  "last_federation_update_ts": 0, "last_user_sync_ts": 7, "status_msg": null, "currently_active": true}]}""");
        assertThat(ResultTypes.USERS_FOR_STATES.fromJson(full).routes()).containsOnlyKeys("@alice:example.com");
        String[] wrong = {"{\"state\": \"online\"}", "{\"user_id\": \"@bob:example.com\"}", "{\"user_id\": \"@bob:example.com\", \"state\": \"onlin\"}",
                "{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"last_active_ts\": \"5\"}",
                "{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"last_user_sync_ts\": -1}",
                "{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"status_msg\": 5}",
                "{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"currently_active\": \"yes\"}", "\"online\""};
        for (String state : wrong) {
            String answer = "{\"@alice:example.com\": [" + state + "]}";
            assertRefused(ResultTypes.USERS_FOR_STATES, answer);
            assertThatThrownBy(() -> ResultTypes.USERS_FOR_STATES.fromConfig(answer, Optional.empty())).as(answer)
                    .isInstanceOf(IllegalArgumentException.class).cause().hasMessageStartingWith("@alice:example.com[0]: ");
        }
    }

    @Test
    void unsignedFieldsReadBackAnObject() {
        assertRoundTrip(ResultTypes.UNSIGNED_FIELDS, (ObjectNode) json("{}"),
                (ObjectNode) json("{\"org.example.a\": 1, \"org.example.b\": {\"nested\": [true]}}"));
        assertRefused(ResultTypes.UNSIGNED_FIELDS, "null", "[]", "\"{}\"");
    }

    /**
     * A remote service's answer (an {@code http} module) and a fixed one name each state once for each
     * receiver, each read as an object of its own: the compact form still writes each state once.
     */
    @Test
    void aCompactAnswerWritesEachStateOnceThoughTheFullFormItWasReadFromRepeatedIt() {
        String alice = "{\"user_id\": \"@alice:x\", \"state\": \"online\"}";
        String bob = "{\"user_id\": \"@bob:x\", \"state\": \"offline\", \"status_msg\": \"away\"}";
        String full = "{\"@a:x\": [" + alice + ", " + bob + "], \"@b:x\": [" + alice + ", " + bob + "], \"@c:x\": [" + bob + "]}";
        ResultType.CompactForm<UsersForStates> compact = ResultTypes.USERS_FOR_STATES.compactForm().orElseThrow();

        for (UsersForStates read : List.of(ResultTypes.USERS_FOR_STATES.fromJson(json(full)),
                ResultTypes.USERS_FOR_STATES.fromConfig(JSON.readValue(full, Map.class), Optional.empty()))) {
            JsonNode written = compact.writer().apply(read);

            assertThat(written.get("states")).containsExactly(json(alice), json(bob));
            assertThat(written.get("sets")).containsExactly(json("[0, 1]"), json("[1]"));
            assertThat(written.get("users")).isEqualTo(json("{\"@a:x\": 0, \"@b:x\": 0, \"@c:x\": 1}"));
        }
    }

    /** Both answers Synapse serves to clients as they came, an event's unsigned fields and a user's media config: no more than an event may hold. */
    @Test
    void unsignedFieldsAndAMediaConfigAreAtMostWhatAnEventMayHold() {
        ObjectNode largest = (ObjectNode) json("{\"org.example.a\": \"" + "\u00e9".repeat(32_758) + "\"}");
        ObjectNode over = (ObjectNode) json("{\"org.example.a\": \"" + "x".repeat(65_517) + "\"}");
        String refusal = "65537 bytes of JSON, more than the 65536 an event may hold";

        assertThat(ResultTypes.UNSIGNED_FIELDS.fromJson(largest)).isEqualTo(largest);
        assertThat(ResultTypes.UNSIGNED_FIELDS.fromConfig(Map.of("org.example.a", "\u00e9".repeat(32_758)), Optional.empty()))
                .isEqualTo(largest);
        assertThat(ResultTypes.MEDIA_CONFIG.fromJson(largest)).contains(largest);
        for (ResultType<?> type : List.of(ResultTypes.UNSIGNED_FIELDS, ResultTypes.MEDIA_CONFIG)) {
            assertThatThrownBy(() -> type.fromJson(over)).as(type.expected()).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith(refusal);
            assertThatThrownBy(() -> type.fromConfig(Map.of("org.example.a", "x".repeat(65_517)), Optional.empty()))
                    .as(type.expected()).isInstanceOf(IllegalArgumentException.class).cause().hasMessage(refusal);
        }
    }

    /** Synapse writes them inside every response that serves them, and its Python writer fails the whole response near 1,000 levels. */
    @Test
    void unsignedFieldsAndAMediaConfigAreNestedAtMostAHundredLevelsDeep() {
        ObjectNode deepest = (ObjectNode) json("{\"org.example.a\": " + "[".repeat(99) + "]".repeat(99) + "}");
        ObjectNode deeper = (ObjectNode) json("{\"org.example.a\": " + "[".repeat(100) + "]".repeat(100) + "}");
        ObjectNode muchDeeper = (ObjectNode) EventJson.MAPPER.readTree("{\"org.example.a\": " + "{\"a\": ".repeat(20_000) + "1" + "}".repeat(20_000) + "}");
        String refusal = "JSON nested more than 100 levels deep, more than is served to clients";

        for (ResultType<?> type : List.of(ResultTypes.UNSIGNED_FIELDS, ResultTypes.MEDIA_CONFIG)) {
            assertThatCode(() -> type.fromJson(deepest)).as(type.expected()).doesNotThrowAnyException();
            for (ObjectNode tooDeep : List.of(deeper, muchDeeper)) {
                assertThatThrownBy(() -> type.fromJson(tooDeep)).as(type.expected()).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageStartingWith(refusal);
            }
            assertThatThrownBy(() -> type.fromConfig(Map.of("org.example.a", nestedLists(100)), Optional.empty()))
                    .as(type.expected()).isInstanceOf(IllegalArgumentException.class).cause().hasMessage(refusal);
        }
    }

    private static Object nestedLists(int levels) {
        Object nested = List.of();
        for (int level = 1; level < levels; level++) {
            nested = List.of(nested);
        }
        return nested;
    }

    @Test
    void integersReadBackWholeNumbersWithinTheirBounds() {
        assertRoundTrip(ResultTypes.BATCH_SIZE, 1, 500);
        assertRefused(ResultTypes.BATCH_SIZE, "0", "-3", "1.5", "\"100\"", "null", "4294967296");
        assertRoundTrip(ResultTypes.DURATION_MS, 0, 250);
        assertRefused(ResultTypes.DURATION_MS, "-1", "true");
    }

    @Test
    void mediaConfigReadsBackAnObjectOrNull() {
        assertRoundTrip(ResultTypes.MEDIA_CONFIG, Optional.empty(), Optional.of((ObjectNode) json("{\"m.upload.size\": 1024}")));
        assertRefused(ResultTypes.MEDIA_CONFIG, "[]", "\"{}\"", "1024");
        assertThat(ResultTypes.MEDIA_CONFIG.outcome(Optional.of((ObjectNode) json("{}")))).isEqualTo(Outcomes.NONE);
    }

    @Test
    void uploadLimitsReadBackAListWhereAnEmptyListIsNoLimitAndNullIsNoAnswer() {
        assertRoundTrip(ResultTypes.MEDIA_UPLOAD_LIMITS, Optional.empty(), Optional.of(List.of()),
                Optional.of(List.of(new MediaUploadLimit(1_073_741_824L, 86_400_000L), new MediaUploadLimit(0, 1))));
        assertRefused(ResultTypes.MEDIA_UPLOAD_LIMITS, "{}", "[{\"max_bytes\": 1}]", "[{\"max_bytes\": -1, \"time_period_ms\": 1}]",
                "[{\"max_bytes\": 1, \"time_period_ms\": 0}]", "[{\"max_bytes\": 1, \"time_period_ms\": -1}]",
                "[{\"max_bytes\": \"1\", \"time_period_ms\": 1}]",
                "[{\"max_bytes\": 1.5, \"time_period_ms\": 1}]");
    }

    @Test
    void uploadLimitsFromConfigurationTakeYamlListsAndReadAnEmptyValueAsNoLimit() {
        Object yamlList = Map.of("0", Map.of("max_bytes", "104857600", "time_period_ms", "3600000"));

        assertThat(ResultTypes.MEDIA_UPLOAD_LIMITS.fromConfig(yamlList, Optional.empty()))
                .contains(List.of(new MediaUploadLimit(104_857_600L, 3_600_000L)));
        assertThat(ResultTypes.MEDIA_UPLOAD_LIMITS.fromConfig("", Optional.empty())).contains(List.of());
        assertThatThrownBy(() -> ResultTypes.MEDIA_UPLOAD_LIMITS.fromConfig(Map.of("0", Map.of("max_bytes", "lots",
                "time_period_ms", "1")), Optional.empty()))
                .hasMessageStartingWith("expected a list of {max_bytes, time_period_ms}");
    }

    @Test
    void ratelimitOverridesReadBackARateAboveZeroAndABurst() {
        assertRoundTrip(ResultTypes.RATELIMIT_OVERRIDE, Optional.empty(), Optional.of(new RatelimitOverride(0.5, 20)),
                Optional.of(new RatelimitOverride(1000, 0)));
        assertRefused(ResultTypes.RATELIMIT_OVERRIDE, "{}", "{\"per_second\": 0, \"burst_count\": 1}",
                "{\"per_second\": -1, \"burst_count\": 1}", "{\"per_second\": 1, \"burst_count\": 1.5}",
                "{\"per_second\": \"1\", \"burst_count\": 1}", "[]", "{\"per_second\": 1e-9, \"burst_count\": 1}",
                "{\"per_second\": 0.001, \"burst_count\": 100}");
        assertThat(ResultTypes.RATELIMIT_OVERRIDE.fromConfig(Map.of("per_second", "0.17", "burst_count", "3"), Optional.empty()))
                .contains(new RatelimitOverride(0.17, 3));
    }

    @Test
    void refusalSaysWhatWasExpectedWhereAndTheJsonGiven() {
        assertThatThrownBy(() -> ResultTypes.ALLOWED_IF_TRUE.fromJson(json("\"yes\"")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected true or false, got \"yes\"");
        assertThatThrownBy(() -> ResultTypes.EVENT_ALLOWED.fromJson(json("{\"allowed\": \"yes\"}")))
                .hasMessage("'allowed': expected true or false, got {\"allowed\":\"yes\"}");
    }

    @Test
    void everyResultTypeOfEveryCallbackIsCoveredHere() {
        Set<ResultType<?>> covered = Set.of(ResultTypes.SPAM_VERDICT, ResultTypes.ALLOWED_IF_TRUE, ResultTypes.SPAM_IF_TRUE,
                ResultTypes.REGISTRATION_BEHAVIOUR, ResultTypes.OPTIONAL_EXPIRED, ResultTypes.OPTIONAL_STRING,
                ResultTypes.OPTIONAL_DISPLAY_NAME,
                ResultTypes.OPTIONAL_LOCALPART, ResultTypes.OPTIONAL_USER_ID, ResultTypes.EVENT_ALLOWED, ResultTypes.ROOM_CREATION, ResultTypes.NOTHING,
                ResultTypes.INTERESTED_USERS, ResultTypes.USERS_FOR_STATES, ResultTypes.UNSIGNED_FIELDS,
                ResultTypes.BATCH_SIZE, ResultTypes.DURATION_MS, ResultTypes.MEDIA_CONFIG, ResultTypes.MEDIA_UPLOAD_LIMITS,
                ResultTypes.RATELIMIT_OVERRIDE);

        assertThat(covered).containsAll(Callbacks.ALL.stream().map(CallbackType::resultType).collect(Collectors.toSet()));
    }

    @SafeVarargs
    private static <R> void assertRoundTrip(ResultType<R> type, R... values) {
        for (R value : values) {
            JsonNode written = type.toJson(value);
            assertThat(type.fromJson(written)).as("%s read back", written).isEqualTo(value);
            assertThat(type.fromJson(json(written.toString()))).as("%s parsed and read back", written).isEqualTo(value);
        }
    }

    private static void assertRefused(ResultType<?> type, String... wrongShapes) {
        for (String wrong : wrongShapes) {
            assertThatThrownBy(() -> type.fromJson(json(wrong))).as(wrong).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private static JsonNode json(String text) {
        return JSON.readTree(text);
    }
}
