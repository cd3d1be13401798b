package dev.matrixpolicy.gateway.modules.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.EventAllowed;
import dev.matrixpolicy.gateway.callbacks.InterestedUsers;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.Outcomes;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.RoomCreation;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.support.CallbackRequests;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** What the module answers for any callback when the service cannot: deny when closed where possible, else abstain. */
class FailureAnswersTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.matrixpolicy.gateway.support.CallbackRequests#everyCallback")
    void failingOpenNeverRejectsAndFailingClosedDeniesOrAbstainsLikeFailingOpen(String path, String body) {
        assertFailureAnswers(callback(path), body);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "spam_checker/user_may_invite, NOT_SPAM, M_UNKNOWN",
            "third_party_rules/check_can_shutdown_room, true, false",
            "spam_checker/check_username_for_spam, false, true",
            "spam_checker/check_registration_for_spam, ALLOW, DENY",
            "account_validity/is_user_expired, Optional.empty, Optional[true]",
            "third_party_rules/check_event_allowed, allowed, denied",
            "password_auth_provider/get_username_for_registration, Optional.empty, Optional.empty",
            "presence_router/get_interested_users, none, none",
            "background_update_controller/on_update, 100, 100"})
    void eachResultTypeHasItsOpenAndClosedAnswer(String path, String open, String closed) {
        CallbackType<?, ?, ?> callback = callback(path);
        String body = CallbackRequests.everyCallback()
                .filter(arguments -> arguments.get()[0].equals(path)).findFirst().orElseThrow().get()[1].toString();

        assertThat(label(answer(callback, body, FailureMode.FAIL_OPEN))).isEqualTo(open);
        assertThat(label(answer(callback, body, FailureMode.FAIL_CLOSED))).isEqualTo(closed);
    }

    @Test
    void roomCreationGoesAheadUnchangedWhenOpenAndIsRefusedWhenClosed() {
        String body = "{\"requester\": {\"user_id\": \"@alice:example.com\"}, \"request_content\": {\"preset\": \"private_chat\"},"
                + " \"is_requester_admin\": false}";
        CallbackType<?, ?, ?> onCreateRoom = Callbacks.byName("on_create_room").orElseThrow();

        assertThat(answer(onCreateRoom, body, FailureMode.FAIL_OPEN))
                .isEqualTo(new RoomCreation.Proceed(Optional.of((ObjectNode) JSON.readTree("{\"preset\": \"private_chat\"}"))));
        assertThat(answer(onCreateRoom, body, FailureMode.FAIL_CLOSED)).isEqualTo(FailureAnswers.UNAVAILABLE);
    }

    private static <R> void assertFailureAnswers(CallbackType<?, ?, R> callback, String body) {
        R open = answer(callback, body, FailureMode.FAIL_OPEN);
        R closed = answer(callback, body, FailureMode.FAIL_CLOSED);

        assertThat(Outcomes.isRejection(callback.resultType().outcome(open))).as("fail-open rejects").isFalse();
        assertThat(callback.resultType().outcome(closed).equals(Outcomes.DENY) || closed.equals(open))
                .as("fail-closed answer %s denies or abstains", closed).isTrue();
    }

    private static CallbackType<?, ?, ?> callback(String path) {
        return Callbacks.ALL.stream().filter(type -> type.path().equals(path)).findFirst().orElseThrow();
    }

    private static <A, R> R answer(CallbackType<?, A, R> callback, String body, FailureMode mode) {
        return FailureAnswers.answer(callback, callback.reader().apply(JsonArgs.of((ObjectNode) JSON.readTree(body))), mode);
    }

    private static String label(Object answer) {
        return switch (answer) {
            case SpamVerdict.NotSpam notSpam -> "NOT_SPAM";
            case Rejection rejection -> rejection.errcode();
            case EventAllowed allowed -> allowed.allowed() ? "allowed" : "denied";
            case InterestedUsers users -> users.equals(InterestedUsers.NONE) ? "none" : users.toString();
            case RegistrationBehaviour behaviour -> behaviour.name();
            default -> String.valueOf(answer);
        };
    }
}
