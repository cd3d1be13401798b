package dev.matrixpolicy.gateway.callbacks.spam_checker;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.RequestInfo;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import java.util.List;
import java.util.Optional;

/**
 * {@code check_login_for_spam}: Called when a user logs in (not when they register).
 */
@FunctionalInterface
public interface CheckLoginForSpam {

    CallbackType<CheckLoginForSpam, Args, SpamVerdict> TYPE = new CallbackType<>(Category.SPAM_CHECKER, "check_login_for_spam",
            CheckLoginForSpam.class, CheckLoginForSpam::checkLoginForSpam,
            Args::read, ResultTypes.SPAM_VERDICT,
            Rules.notSpamFallsThrough());

    SpamVerdict checkLoginForSpam(Args args);

    /**
     * @param userId the user logging in
     * @param deviceId the device being re-logged into, if any
     * @param initialDisplayName the device display name, if any
     * @param requestInfo the (user agent, IP) pairs seen during login
     * @param authProviderId the SSO provider, if any
     */
    record Args(String userId, Optional<String> deviceId, Optional<String> initialDisplayName, List<RequestInfo> requestInfo, Optional<String> authProviderId) {
        static Args read(JsonArgs json) {
            return new Args(
                    json.userId("user_id"),
                    json.optionalString("device_id"),
                    json.optionalString("initial_display_name"),
                    json.requestInfo("request_info"),
                    json.optionalString("auth_provider_id"));
        }
    }
}
