package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckRegistrationForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckVisibilityCanBeModified;
import dev.matrixpolicy.gateway.support.Gen;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.JsonSchemas;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

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
                 "properties": {"inviter": {"type": "string", "description": "A Matrix user ID"},
                                "invitee": {"type": "string", "description": "A Matrix user ID"},
                                "room_id": {"type": "string",
                                            "description": "A room ID as the client wrote it, not yet checked by Synapse: any string"}},
                 "required": ["inviter", "invitee", "room_id"]}"""));
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
