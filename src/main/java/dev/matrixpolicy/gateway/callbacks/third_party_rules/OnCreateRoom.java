package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.RoomCreation;
import dev.matrixpolicy.gateway.chain.Threaded;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code on_create_room}: Called when processing a room creation request. Chain rule: each module sees
 * the request as the modules before it left it; a rejection stops the chain.
 */
@FunctionalInterface
public interface OnCreateRoom {

    CallbackType<OnCreateRoom, Args, RoomCreation> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "on_create_room",
            OnCreateRoom.class, OnCreateRoom::onCreateRoom,
            Args::read, ResultTypes.ROOM_CREATION,
            new Threaded<>(answer -> answer instanceof Rejection,
            (args, answer) -> ((RoomCreation.Proceed) answer).requestContent().map(args::withRequestContent).orElse(args),
            args -> new RoomCreation.Proceed(Optional.of(args.requestContent()))));

    RoomCreation onCreateRoom(Args args);

    /**
     * @param requester who is creating the room
     * @param requestContent the body of the room creation request
     * @param isRequesterAdmin whether the requester is a server admin
     */
    record Args(Requester requester, ObjectNode requestContent, boolean isRequesterAdmin) {
        static Args read(JsonArgs json) {
            return new Args(
                    Requester.read(json.nested("requester")),
                    json.object("request_content"),
                    json.bool("is_requester_admin"));
        }

        /** The same request as modified by a module, for the next module in the chain. */
        public Args withRequestContent(ObjectNode modified) {
            return new Args(requester, modified, isRequesterAdmin);
        }
    }
}
