package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.chain.RunAll;
import java.util.List;

/**
 * {@code on_new_event}: Called after an event has been sent into a room; it cannot deny the event.
 */
@FunctionalInterface
public interface OnNewEvent {

    CallbackType<OnNewEvent, Args, RunAll.Completed> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "on_new_event",
            OnNewEvent.class, (module, args) -> {
                module.onNewEvent(args);
                return RunAll.DELIVERED;
            },
            Args::read, ResultTypes.NOTHING,
            Rules.runAll());

    void onNewEvent(Args args);

    /**
     * @param event the event, in client format with its {@code event_id}
     * @param stateEvents the room state, as a list of state events
     */
    record Args(ClientEvent event, List<ClientEvent> stateEvents) {
        static Args read(JsonArgs json) {
            return new Args(json.event("event"), json.stateEvents("state_events"));
        }
    }
}
