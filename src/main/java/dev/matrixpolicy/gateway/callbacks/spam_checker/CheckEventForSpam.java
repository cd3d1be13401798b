package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;

/**
 * {@code check_event_for_spam}: Called for every event received from a client or over federation.
 */
@FunctionalInterface
public interface CheckEventForSpam {

    CallbackType<CheckEventForSpam, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "check_event_for_spam",
            CheckEventForSpam.class, CheckEventForSpam::checkEventForSpam,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict checkEventForSpam(Args args);

    /**
     * @param event the event, in client format with its {@code event_id}
     */
    record Args(ClientEvent event) {
        static Args read(JsonArgs json) {
            return new Args(json.event("event"));
        }
    }
}
