package dev.matrixpolicy.gateway.modules.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.RoomCreation;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.chain.RunAll;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendFailure;
import dev.matrixpolicy.gateway.module.BackendReply;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.client.MockClientHttpResponse;

/** The remote service's answer, read by the gateway's own contract. */
class RemoteAnswerTest {
    private static final String FORBIDDEN = "{\"errcode\": \"M_FORBIDDEN\", \"error\": \"Not here\"}";

    @Test
    void resultOfA2xxIsReadByTheResultType() {
        assertThat(read(ResultTypes.SPAM_VERDICT, 200, "{\"result\": \"NOT_SPAM\"}")).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(read(ResultTypes.ALLOWED_IF_TRUE, 200, "{\"result\": false, \"reason\": \"ignored\"}")).isEqualTo(false);
        assertThat(read(ResultTypes.OPTIONAL_STRING, 201, "{\"result\": \"carol\"}")).isEqualTo(Optional.of("carol"));
    }

    @Test
    void emptyBodyOrMissingResultReadsAsNull() {
        assertThat(read(ResultTypes.NOTHING, 204, "")).isEqualTo(RunAll.DELIVERED);
        assertThat(read(ResultTypes.OPTIONAL_STRING, 200, "{}")).isEqualTo(Optional.empty());
        assertThatThrownBy(() -> read(ResultTypes.SPAM_VERDICT, 200, "")).isInstanceOf(BackendFailure.class);
    }

    @Test
    void matrixErrorWith403IsARejectionForSpamVerdictsAndRoomCreation() {
        assertThat(read(ResultTypes.SPAM_VERDICT, 403, FORBIDDEN)).isEqualTo(new Rejection("M_FORBIDDEN", Optional.of("Not here")));
        assertThat(read(ResultTypes.ROOM_CREATION, 403, FORBIDDEN)).isEqualTo(new Rejection("M_FORBIDDEN", Optional.of("Not here")));
        assertThat(read(ResultTypes.ROOM_CREATION, 200, "{\"result\": {\"request_content\": null}}")).isEqualTo(RoomCreation.UNCHANGED);
    }

    @Test
    void aRefusalThatWouldEndTheUsersSessionIsPassedOnAsForbiddenWithItsTextShownSafely() {
        for (String sessionCode : List.of("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_USER_LOCKED", "M_USER_DEACTIVATED", "M_USER_SUSPENDED")) {
            assertThat(read(ResultTypes.SPAM_VERDICT, 403, "{\"errcode\": \"" + sessionCode + "\", \"error\": \"Go away\"}"))
                    .as(sessionCode).isEqualTo(new Rejection("M_FORBIDDEN", Optional.of("Go away")));
        }
        assertThat(read(ResultTypes.SPAM_VERDICT, 200, "{\"result\": {\"errcode\": \"M_UNKNOWN_TOKEN\"}}"))
                .isEqualTo(Rejection.of("M_FORBIDDEN"));
        assertThat(read(ResultTypes.SPAM_VERDICT, 403, "{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Slow down\"}"))
                .as("a code clients only show").isEqualTo(new Rejection("M_LIMIT_EXCEEDED", Optional.of("Slow down")));

        Rejection shown = (Rejection) read(ResultTypes.SPAM_VERDICT, 403, "{\"errcode\": \"M_FORBIDDEN\", \"error\": \""
                + "\\u202Eevil\\u0000\\u001b[31m\\nred " + "x".repeat(900_000) + "\"}");
        assertThat(shown.error().orElseThrow()).startsWith("evil[31m red xxx").hasSize(Rejection.LONGEST_ERROR_SHOWN + 1).endsWith("x…");
    }

    @Test
    void aResultHoldingHalfACharacterIsUnusableWhileARefusalsTextIsShownWithTheReplacementCharacter() {
        assertThat(failure(ResultTypes.OPTIONAL_STRING, 200, "{\"result\": \"carol\\ud800\"}").getMessage())
                .isEqualTo("unusable answer: a string in the result holds half a character (a lone surrogate), which has no UTF-8 form");
        assertThat(failure(ResultTypes.ROOM_CREATION, 200, "{\"result\": {\"request_content\": {\"name\\udc00\": \"x\"}}}"))
                .as("in a name too").isInstanceOf(BackendFailure.class);
        assertThat(read(ResultTypes.OPTIONAL_STRING, 200, "{\"result\": \"carol \\ud83d\\ude00\"}")).as("a whole pair")
                .isEqualTo(Optional.of("carol \uD83D\uDE00"));
        assertThat(read(ResultTypes.SPAM_VERDICT, 200, "{\"result\": {\"errcode\": \"M_FORBIDDEN\", \"error\": \"no\\ud800\"}}"))
                .isEqualTo(new Rejection("M_FORBIDDEN", Optional.of("no\uFFFD")));
        assertThat(read(ResultTypes.SPAM_VERDICT, 403, "{\"errcode\": \"M_FORBIDDEN\", \"error\": \"no\\ud800\"}"))
                .isEqualTo(new Rejection("M_FORBIDDEN", Optional.of("no\uFFFD")));
    }

    @Test
    void matrixErrorWithAnyOtherStatusIsAFailureOfTheServiceNotARefusal() {
        // what a gateway behind this one answers when it fails closed, caps a body, or is rate-limited by a proxy
        BackendFailure failedClosed = failure(ResultTypes.SPAM_VERDICT, 503, "{\"errcode\": \"M_UNKNOWN\"}");
        assertThat(failedClosed.getMessage()).isEqualTo("HTTP 503");
        assertThat(failedClosed.retryable()).isTrue();
        assertThat(failure(ResultTypes.SPAM_VERDICT, 429, "{\"errcode\": \"M_LIMIT_EXCEEDED\"}").retryable()).isTrue();
        assertThat(failure(ResultTypes.SPAM_VERDICT, 413, "{\"errcode\": \"M_TOO_LARGE\"}").getMessage()).isEqualTo("HTTP 413");
        assertThat(failure(ResultTypes.ROOM_CREATION, 400, FORBIDDEN).getMessage()).isEqualTo("HTTP 400");
    }

    @Test
    void matrixErrorForAResultTypeWithoutRejectionsIsAFailureNotAnAnswer() {
        assertThatThrownBy(() -> read(ResultTypes.UNSIGNED_FIELDS, 403, FORBIDDEN)).isInstanceOf(BackendFailure.class)
                .hasMessage("HTTP 403");
        assertThatThrownBy(() -> read(ResultTypes.ALLOWED_IF_TRUE, 403, FORBIDDEN)).isInstanceOf(BackendFailure.class);
    }

    @Test
    void serverErrorsRequestTimeoutAndTooManyRequestsAreWorthRetryingOtherFailuresAreNot() {
        assertThat(failure(ResultTypes.SPAM_VERDICT, 502, "Bad gateway").retryable()).isTrue();
        assertThat(failure(ResultTypes.SPAM_VERDICT, 408, "").retryable()).isTrue();
        assertThat(failure(ResultTypes.SPAM_VERDICT, 429, "").retryable()).isTrue();
        assertThat(failure(ResultTypes.SPAM_VERDICT, 404, "{\"error\": \"no such path\"}").retryable()).isFalse();
        assertThat(failure(ResultTypes.SPAM_VERDICT, 999, "").retryable()).as("no standard status").isFalse();
        assertThat(failure(ResultTypes.SPAM_VERDICT, 200, "<html>").retryable()).isFalse();
        assertThat(failure(ResultTypes.SPAM_VERDICT, 200, "[\"NOT_SPAM\"]").retryable()).isFalse();
        assertThat(failure(ResultTypes.ALLOWED_IF_TRUE, 200, "{\"result\": \"yes\"}").getMessage())
                .isEqualTo("unusable answer: expected true or false, got \"yes\"");
    }

    @Test
    void aRefusalWhoseErrcodeRunsToMegabytesIsAFailureNotARefusalTheGatewayWouldLogKeepAndPassOn() {
        // upper-case words joined by '_', as an errcode is written, but not one: kept, it would be logged whole on
        // every refusal, held by the decision log thousands of times over and handed to the homeserver
        String huge = "M_" + "A".repeat(900_000);

        assertThat(failure(ResultTypes.SPAM_VERDICT, 403, "{\"errcode\": \"" + huge + "\"}").getMessage()).isEqualTo("HTTP 403");
        assertThat(failure(ResultTypes.SPAM_VERDICT, 200, "{\"result\": {\"errcode\": \"" + huge + "\"}}").getMessage())
                .startsWith("unusable answer: not a Matrix error code: \"M_AAA").hasSizeLessThan(1_000);
        String longest = "M_" + "A".repeat(Rejection.LONGEST_ERRCODE - 2);
        assertThat(read(ResultTypes.SPAM_VERDICT, 403, "{\"errcode\": \"" + longest + "\"}")).isEqualTo(Rejection.of(longest));
    }

    @Test
    void aResultOfTheWrongShapeNestedDeeperThanJacksonWritesIsUnusableNotABugOfTheModule() {
        // deeper than Jackson's default write limit (500), well within what a reply is read at
        String deep = "[".repeat(600) + "]".repeat(600);

        assertThat(failure(ResultTypes.SPAM_VERDICT, 200, "{\"result\": " + deep + "}").getMessage())
                .startsWith("unusable answer: expected ").contains(", got [[[");
        assertThat(failure(ResultTypes.SPAM_VERDICT, 403, deep).getMessage()).as("a refusal that is no Matrix error")
                .isEqualTo("HTTP 403");
    }

    private static <R> R read(ResultType<R> type, int status, String body) {
        try {
            return RemoteAnswer.read(type, new BackendReply(new MockClientHttpResponse(body.getBytes(StandardCharsets.UTF_8), status),
                    Backend.DEFAULT_MAX_REPLY_SIZE));
        } catch (IOException unexpected) {
            throw new UncheckedIOException(unexpected);
        }
    }

    private static BackendFailure failure(ResultType<?> type, int status, String body) {
        try {
            read(type, status, body);
        } catch (BackendFailure failure) {
            return failure;
        }
        throw new AssertionError("expected a backend failure for HTTP " + status + " " + body);
    }
}
