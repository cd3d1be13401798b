package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.EventAllowed;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.chain.FirstDecisive;
import java.util.List;

/**
 * {@code check_event_allowed}: Called for every incoming event, client or federation. Chain rule: a
 * denial stops the chain; so does an allowance that carries a replacement event; a plain allowance
 * falls through.
 */
@FunctionalInterface
public interface CheckEventAllowed {

    CallbackType<CheckEventAllowed, Args, EventAllowed> TYPE = new CallbackType<>(Category.THIRD_PARTY_RULES, "check_event_allowed",
            CheckEventAllowed.class, CheckEventAllowed::checkEventAllowed,
            Args::read, ResultTypes.EVENT_ALLOWED,
            new FirstDecisive<>(answer -> answer.allowed() && answer.replacement().isEmpty(), EventAllowed.ALLOWED));

    EventAllowed checkEventAllowed(Args args);

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
