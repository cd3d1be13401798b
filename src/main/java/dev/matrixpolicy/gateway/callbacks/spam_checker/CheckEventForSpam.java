package dev.matrixpolicy.gateway.callbacks.spam_checker;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import java.util.Objects;
import java.util.Optional;

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
     * @param event               the event, in client format with its {@code event_id}
     * @param policyServerRequest present when the question comes not from our homeserver but from a
     *                            homeserver asking the gateway, as a room's policy server, to sign the event
     *                            (MSC4284): a module may judge events of remote users differently, or not at all
     */
    record Args(ClientEvent event, @JsonInclude(JsonInclude.Include.NON_ABSENT) Optional<PolicyServerRequest> policyServerRequest) {
        public Args {
            Objects.requireNonNull(event, "event");
            Objects.requireNonNull(policyServerRequest, "policyServerRequest");
        }

        /** The homeserver's own question, as Synapse asks it. */
        public Args(ClientEvent event) {
            this(event, Optional.empty());
        }

        /** The policy API carries the homeserver's questions only: a caller cannot pose as a policy-server request. */
        static Args read(JsonArgs json) {
            return new Args(json.event("event"));
        }
    }

    /**
     * A homeserver asked the gateway, as the room's policy server, to sign the event.
     *
     * @param origin the asking homeserver's server name, authenticated by its request signature
     */
    record PolicyServerRequest(String origin) {
        public PolicyServerRequest {
            Objects.requireNonNull(origin, "origin");
        }
    }
}
