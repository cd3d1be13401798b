package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckRegistrationForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoomAlias;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckCanShutdownRoom;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckVisibilityCanBeModified;
import dev.matrixpolicy.gateway.support.Gen;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.JsonSchemas;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.node.ObjectNode;

/**
 * A callback's reader describes its own arguments ({@link CallbackType#arguments}): the schema says
 * what the reader accepts, and the example is a body the reader reads.
 */
class CallbackArgumentsDescriptionTest {

    static Stream<CallbackType<?, ?, ?>> everyCallback() {
        return Callbacks.ALL.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyCallback")
    void theExampleBodyIsReadByTheCallbacksReaderAndMatchesItsSchema(CallbackType<?, ?, ?> type) {
        JsonArgs.Description arguments = type.arguments();

        assertThat(type.reader().apply(JsonArgs.of(arguments.example()))).isNotNull();
        assertThat(JsonSchemas.problems(arguments.schema(), arguments.example())).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void everyValidSampleRequestMatchesTheSchemaItsReaderDescribes(String path, String body, int status, String expected) {
        CallbackType<?, ?, ?> type = Callbacks.ALL.stream().filter(t -> t.path().equals(path)).findFirst().orElseThrow();

        assertThat(JsonSchemas.problems(type.arguments().schema(), Gen.parse(body))).isEmpty();
    }

    @Test
    void fieldsAreNamedAsTheReaderReadsThemWithTheirJsonTypesAndRequiredInOrder() {
        assertThat(UserMayInvite.TYPE.arguments().schema()).isEqualTo(GatewayClient.json("""
                {"type": "object",
                 "properties": {"inviter": {"type": "string", "pattern": "^@[^:]*:",
                                            "description": "A Matrix user ID, as Synapse takes one: @, then text with a ':' in it"},
                                "invitee": {"type": "string", "pattern": "^@[^:]*:",
                                            "description": "A Matrix user ID, as Synapse takes one: @, then text with a ':' in it"},
                                "room_id": {"type": "string",
                                            "description": "A room ID as the client wrote it, not yet checked by Synapse: any string"}},
                 "required": ["inviter", "invitee", "room_id"]}"""));
    }

    /**
     * An ID's pattern and length in the schema accept what its reader takes and refuse what it
     * refuses, for IDs Synapse asks about and IDs of no shape; half a surrogate pair, which no
     * pattern tells, aside.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
            "user_id|@alice:example.com", "user_id|@:example.com", "user_id|@bob:", "user_id|@irc_a:b:example.org",
            "user_id|@\u00e9l\u00e8ve:example.org", "user_id|@alice", "user_id|alice:example.com", "user_id|''",
            "room_alias|#room:example.com", "room_alias|#:example.org", "room_alias|#a:[::1]:8448", "room_alias|#a:example.org:008448",
            "room_alias|#a:example.org:123456", "room_alias|#a:exa mple.org", "room_alias|#a:", "room_alias|#a", "room_alias|room:example.com",
            "room_id|!room:example.com", "room_id|!:example.com", "room_id|!salle-\u00e9:example.org", "room_id|!a:example.org:008448",
            "room_id|!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", "room_id|!abcdefghijklmnopqrstuvwxyz", "room_id|!room",
            "room_id|!a:b_c", "room_id|room:example.com"})
    void anIdsSchemaAcceptsWhatItsReaderTakes(String field, String escaped) {
        String value = escaped.translateEscapes();
        CallbackType<?, ?, ?> type = field.equals("room_id") ? CheckCanShutdownRoom.TYPE : UserMayCreateRoomAlias.TYPE;
        ObjectNode body = ((ObjectNode) type.arguments().example()).deepCopy().put(field, value);

        boolean read = reads(type, body);
        assertThat(JsonSchemas.problems(type.arguments().schema(), body).isEmpty()).as(value).isEqualTo(read);
    }

    @ParameterizedTest(name = "{0} of {1} characters")
    @CsvSource({"room_alias, 255", "room_alias, 256", "room_id, 255", "room_id, 256"})
    void anIdsSchemaBoundsItsLengthAsItsReaderDoes(String field, int length) {
        CallbackType<?, ?, ?> type = field.equals("room_id") ? CheckCanShutdownRoom.TYPE : UserMayCreateRoomAlias.TYPE;
        String server = ":example.org";
        String value = (field.equals("room_id") ? "!" : "#") + "a".repeat(length - 1 - server.length()) + server;
        ObjectNode body = ((ObjectNode) type.arguments().example()).deepCopy().put(field, value);

        boolean read = reads(type, body);
        assertThat(read).isEqualTo(length <= 255);
        assertThat(JsonSchemas.problems(type.arguments().schema(), body).isEmpty()).isEqualTo(read);
    }

    /** Whether a callback's reader takes a body, or refuses it as a bad argument. */
    private static boolean reads(CallbackType<?, ?, ?> type, ObjectNode body) {
        try {
            type.reader().apply(JsonArgs.of(body));
            return true;
        } catch (BadArgumentException refused) {
            return false;
        }
    }

    @Test
    void optionalFieldsAreNotRequiredAndMayBeNull() {
        var properties = CheckRegistrationForSpam.TYPE.arguments().schema();

        assertThat(properties.get("required")).isEqualTo(GatewayClient.json("[\"request_info\"]"));
        assertThat(properties.get("properties").get("username")).isEqualTo(GatewayClient.json("{\"type\": [\"string\", \"null\"]}"));
        assertThat(properties.get("properties").get("request_info").get("items").get("prefixItems")).hasSize(2);
    }

    @Test
    void aFixedSetOfStringsIsAnEnumAndItsExampleIsOneOfThem() {
        JsonArgs.Description arguments = CheckVisibilityCanBeModified.TYPE.arguments();

        assertThat(arguments.schema().get("properties").get("new_visibility"))
                .isEqualTo(GatewayClient.json("{\"type\": \"string\", \"enum\": [\"public\", \"private\"]}"));
        assertThat(arguments.example().get("new_visibility").asString()).isEqualTo("public");
    }

    @Test
    void stateEventsAreDescribedByTheirElementsWithAStateKey() {
        var stateEvents = CheckVisibilityCanBeModified.TYPE.arguments().schema().get("properties").get("state_events");

        assertThat(stateEvents.get("type").asString()).isEqualTo("array");
        assertThat(stateEvents.get("items").get("required")).isEqualTo(GatewayClient.json("""
                ["event_id", "sender", "type", "state_key"]"""));
    }

    /** A room version 12 create event has no room_id (its ID makes the room's), so the field is described but not required. */
    @Test
    void anEventsRoomIdIsAStringButNotRequired() {
        var event = CheckEventForSpam.TYPE.arguments().schema().get("properties").get("event");

        assertThat(event.get("required")).isEqualTo(GatewayClient.json("[\"event_id\", \"sender\", \"type\"]"));
        assertThat(event.get("properties").get("room_id").get("type").asString()).isEqualTo("string");
        assertThat(CheckEventForSpam.TYPE.arguments().example().get("event").get("room_id").asString()).isEqualTo("!room:example.com");
    }
}
