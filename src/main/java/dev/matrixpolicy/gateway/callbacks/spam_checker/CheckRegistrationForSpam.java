package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.RequestInfo;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code check_registration_for_spam}: Called when registering a new user.
 */
@FunctionalInterface
public interface CheckRegistrationForSpam {

    CallbackType<CheckRegistrationForSpam, Args, RegistrationBehaviour> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "check_registration_for_spam",
            CheckRegistrationForSpam.class, CheckRegistrationForSpam::checkRegistrationForSpam,
            Args::read, ResultTypes.REGISTRATION_BEHAVIOUR,
            Rules.allowFallsThrough());

    RegistrationBehaviour checkRegistrationForSpam(Args args);

    /**
     * @param emailThreepid the email 3PID used to register, if any
     * @param username the requested username; empty when Synapse will generate one
     * @param requestInfo the (user agent, IP) pairs seen during registration
     * @param authProviderId the SSO provider, if any
     */
    record Args(Optional<ObjectNode> emailThreepid, Optional<String> username, List<RequestInfo> requestInfo, Optional<String> authProviderId) {
        static Args read(JsonArgs json) {
            return new Args(
                    json.optionalObject("email_threepid"),
                    json.optionalString("username"),
                    json.requestInfo("request_info"),
                    json.optionalString("auth_provider_id"));
        }
    }
}
