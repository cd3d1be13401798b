package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code user_may_send_state_event} (Synapse 1.132+, experimental there): Called when a local user who
 * is not a server admin sends a state event through the client API, before the event is built.
 */
@FunctionalInterface
public interface UserMaySendStateEvent {

    CallbackType<UserMaySendStateEvent, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER,
            "user_may_send_state_event", UserMaySendStateEvent.class, UserMaySendStateEvent::userMaySendStateEvent,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict userMaySendStateEvent(Args args);

    /**
     * @param userId the user sending the state event
     * @param roomId the room
     * @param eventType the state event's type
     * @param stateKey the state key ({@code ""} for most room state)
     * @param content the state event's content
     */
    record Args(String userId, String roomId, String eventType, String stateKey, ObjectNode content) {
        static Args read(JsonArgs json) {
            return new Args(json.userId("user_id"), json.requestedRoomId("room_id"), json.string("event_type"),
                    json.string("state_key"), json.object("content"));
        }
    }
}
