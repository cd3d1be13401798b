package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;

/**
 * {@code should_drop_federated_event}: Called when a remote server sends us an event; {@code true}
 * silently drops it (use with care: this splits the room's history).
 */
@FunctionalInterface
public interface ShouldDropFederatedEvent {

    CallbackType<ShouldDropFederatedEvent, Args, Boolean> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "should_drop_federated_event",
            ShouldDropFederatedEvent.class, ShouldDropFederatedEvent::shouldDropFederatedEvent,
            Args::read, ResultTypes.SPAM_IF_TRUE,
            Rules.falseFallsThrough());

    Boolean shouldDropFederatedEvent(Args args);

    /**
     * @param event the event, in client format with its {@code event_id}
     */
    record Args(ClientEvent event) {
        static Args read(JsonArgs json) {
            return new Args(json.event("event"));
        }
    }
}
