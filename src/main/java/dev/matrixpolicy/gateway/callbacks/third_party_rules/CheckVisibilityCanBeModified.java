package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.List;

/**
 * {@code check_visibility_can_be_modified}: Called when changing a room's visibility in the local
 * public room directory.
 */
@FunctionalInterface
public interface CheckVisibilityCanBeModified {

    CallbackType<CheckVisibilityCanBeModified, Args, Boolean> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "check_visibility_can_be_modified",
            CheckVisibilityCanBeModified.class, CheckVisibilityCanBeModified::checkVisibilityCanBeModified,
            Args::read, ResultTypes.ALLOWED_IF_TRUE,
            Rules.trueFallsThrough());

    Boolean checkVisibilityCanBeModified(Args args);

    /**
     * @param roomId the room
     * @param stateEvents the room state, as a list of state events
     * @param newVisibility {@code public} or {@code private}
     */
    record Args(String roomId, List<ClientEvent> stateEvents, String newVisibility) {
        static Args read(JsonArgs json) {
            return new Args(
                    json.roomId("room_id"),
                    json.stateEvents("state_events"),
                    json.oneOf("new_visibility", List.of("public", "private")));
        }
    }
}
