package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.add_extra_fields_to_unsigned_client_event.AddFieldToUnsigned;
import dev.matrixpolicy.gateway.callbacks.background_update_controller.BackgroundUpdate;
import dev.matrixpolicy.gateway.callbacks.background_update_controller.DefaultBatchSize;
import dev.matrixpolicy.gateway.callbacks.background_update_controller.MinBatchSize;
import dev.matrixpolicy.gateway.callbacks.background_update_controller.OnUpdate;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnCreateRoom;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.Requester;
import dev.matrixpolicy.gateway.chain.Asker;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.support.PlainModules;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The rules of check_event_allowed and on_create_room, with modules that modify what they see, and the
 * background update controller's answers when no module sets them.
 */
class CallbackSpecificRulesTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final ChainRunner runner = new ChainRunner(ChainObserver.NONE);
    private final List<String> asked = new ArrayList<>();

    @AfterEach
    void stop() {
        runner.close();
    }

    @Test
    void checkEventAllowedFallsThroughOnAPlainTrue() {
        Decision<EventAllowed> decision = checkEventAllowed(
                module("allows", (CheckEventAllowed) args -> answer("allows", EventAllowed.ALLOWED)),
                module("denies", (CheckEventAllowed) args -> answer("denies", EventAllowed.DENIED)));

        assertThat(decision.result()).isEqualTo(EventAllowed.DENIED);
        assertThat(decision.decidedBy()).contains("denies");
        assertThat(asked).containsExactly("allows", "denies");
    }

    @Test
    void checkEventAllowedStopsOnATrueThatCarriesAReplacementEvent() {
        ObjectNode censored = (ObjectNode) JSON.readTree("{\"type\": \"m.room.message\", \"content\": {\"body\": \"***\"}}");
        Decision<EventAllowed> decision = checkEventAllowed(
                module("censor", (CheckEventAllowed) args -> answer("censor", EventAllowed.replacedBy(censored))),
                module("denies", (CheckEventAllowed) args -> answer("denies", EventAllowed.DENIED)));

        assertThat(decision.result().replacement()).contains(censored);
        assertThat(asked).containsExactly("censor");
    }

    @Test
    void checkEventAllowedWithNoModuleAllowsTheEventUnchanged() {
        assertThat(checkEventAllowed().result()).isEqualTo(EventAllowed.ALLOWED);
    }

    @Test
    void onCreateRoomModulesSeeTheRequestAsEarlierModulesLeftIt() {
        Decision<RoomCreation> decision = onCreateRoom(
                module("names", (OnCreateRoom) args -> answer("names", modified(args, "name", "Lobby"))),
                module("topics", (OnCreateRoom) args -> {
                    assertThat(args.requestContent().get("name").asString()).isEqualTo("Lobby");
                    return answer("topics", modified(args, "topic", "Welcome"));
                }),
                module("quiet", (OnCreateRoom) args -> answer("quiet", RoomCreation.UNCHANGED)));

        RoomCreation.Proceed proceed = (RoomCreation.Proceed) decision.result();
        assertThat(proceed.requestContent().orElseThrow())
                .isEqualTo(JSON.readTree("{\"preset\": \"private_chat\", \"name\": \"Lobby\", \"topic\": \"Welcome\"}"));
        assertThat(asked).containsExactly("names", "topics", "quiet");
    }

    @Test
    void onCreateRoomDenialStopsTheChain() {
        Decision<RoomCreation> decision = onCreateRoom(
                module("denies", (OnCreateRoom) args -> answer("denies", Rejection.of("M_FORBIDDEN"))),
                module("names", (OnCreateRoom) args -> answer("names", modified(args, "name", "Lobby"))));

        assertThat(decision.result()).isEqualTo(Rejection.of("M_FORBIDDEN"));
        assertThat(asked).containsExactly("denies");
    }

    @Test
    void onCreateRoomModificationsDoNotLeakIntoTheCallersRequest() {
        ObjectNode request = request();
        CallbackChains chains = new CallbackChains(List.of(
                module("names", (OnCreateRoom) args -> answer("names", modified(args, "name", "Lobby")))), runner);

        endpoint(chains, OnCreateRoom.TYPE).decide(new OnCreateRoom.Args(requester(), request, false));

        assertThat(request.has("name")).isFalse();
    }

    @Test
    void batchSizesNoModuleSetsAreSynapsesOwnDefaultsAsItsCodeHasThem() {
        // Synapse's docs say 100 for the smallest batch; its code (background_updates.min_batch_size) uses 1
        CallbackChains chains = new CallbackChains(List.of(
                module("timer", (OnUpdate) args -> answer("timer", 250))), runner);
        BackgroundUpdate update = new BackgroundUpdate("event_search", "main");

        assertThat(endpoint(chains, DefaultBatchSize.TYPE).decide(update).result()).isEqualTo(100);
        assertThat(endpoint(chains, MinBatchSize.TYPE).decide(update).result()).isEqualTo(1);
    }

    private Decision<EventAllowed> checkEventAllowed(ModuleInstance... modules) {
        ClientEvent event = new ClientEvent((ObjectNode) JSON.readTree("""
                {"event_id": "$e", "sender": "@a:example.com", "room_id": "!r:example.com", "type": "m.room.message"}"""));
        return endpoint(new CallbackChains(List.of(modules), runner), CheckEventAllowed.TYPE)
                .decide(new CheckEventAllowed.Args(event, List.of()));
    }

    private Decision<RoomCreation> onCreateRoom(ModuleInstance... modules) {
        return endpoint(new CallbackChains(List.of(modules), runner), OnCreateRoom.TYPE)
                .decide(new OnCreateRoom.Args(requester(), request(), false));
    }

    @SuppressWarnings("unchecked")
    private static <A, R> CallbackEndpoint<A, R> endpoint(CallbackChains chains, CallbackType<?, A, R> type) {
        return (CallbackEndpoint<A, R>) chains.endpoint(type.category(), type.name()).orElseThrow();
    }

    private static RoomCreation modified(OnCreateRoom.Args args, String field, String value) {
        ObjectNode copy = args.requestContent().deepCopy();
        copy.put(field, value);
        return new RoomCreation.Proceed(Optional.of(copy));
    }

    private <R> R answer(String module, R result) {
        asked.add(module);
        return result;
    }

    private static ObjectNode request() {
        return (ObjectNode) JSON.readTree("{\"preset\": \"private_chat\"}");
    }

    private static Requester requester() {
        return new Requester("@alice:example.com", Optional.empty(), false, false, Optional.empty());
    }

    private static ModuleInstance module(String name, Object callback) {
        return PlainModules.instance(name, callback);
    }

    /**
     * A module's fields are read as deep as an event goes (ResultTypes.UNSIGNED_FIELDS: 64 KiB); merging
     * must not recurse into them, as Jackson's {@code deepCopy} does (a StackOverflowError, a 500).
     */
    @Test
    void addFieldToUnsignedMergesFieldsNestedAsDeepAsAnEventTakesWithoutRecursion() {
        ObjectNode deep = (ObjectNode) EventJson.MAPPER.readTree("{\"deep\": " + "[".repeat(30_000) + "]".repeat(30_000) + "}");
        ObjectNode more = (ObjectNode) JSON.readTree("{\"more\": 1}");

        Decision<ObjectNode> decision = AddFieldToUnsigned.TYPE.rule().evaluate(List.of(fields("deep", deep), fields("more", more)),
                new AddFieldToUnsigned.Args(null));

        assertThat(decision.result().propertyNames()).containsExactly("deep", "more");
        assertThat(deep.propertyNames()).as("the first module's answer, untouched").containsExactly("deep");
    }

    private static Asker<AddFieldToUnsigned.Args, ObjectNode> fields(String module, ObjectNode answer) {
        return new Asker<>() {
            @Override
            public String module() {
                return module;
            }

            @Override
            public Optional<ObjectNode> ask(AddFieldToUnsigned.Args args) {
                return Optional.of(answer);
            }
        };
    }
}
