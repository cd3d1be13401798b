package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import java.util.Optional;

/**
 * {@code check_username_for_spam}: Called when computing user directory search results; {@code true}
 * hides the user.
 */
@FunctionalInterface
public interface CheckUsernameForSpam {

    CallbackType<CheckUsernameForSpam, Args, Boolean> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "check_username_for_spam",
            CheckUsernameForSpam.class, CheckUsernameForSpam::checkUsernameForSpam,
            Args::read, ResultTypes.SPAM_IF_TRUE,
            Rules.falseFallsThrough());

    Boolean checkUsernameForSpam(Args args);

    /**
     * @param userProfile the profile being listed
     * @param requesterId the user searching, sent by newer homeservers
     */
    record Args(UserProfile userProfile, Optional<String> requesterId) {
        static Args read(JsonArgs json) {
            return new Args(UserProfile.read(json.nested("user_profile")), json.optionalUserId("requester_id"));
        }
    }
}
