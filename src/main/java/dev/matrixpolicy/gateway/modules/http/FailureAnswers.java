package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.EventAllowed;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.module.FailureMode;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the module answers when the remote service cannot answer, for any callback.
 *
 * <p>Failing open abstains: the module answers what the callback's chain answers when no module
 * decides ({@code NOT_SPAM}, {@code true} for allow-checks, {@code null}, an empty set, ...), so the
 * next module decides. Failing closed answers the result type's denial where it has one; a result
 * type without a denial (a value lookup, presence routing, extra fields, a notification) abstains
 * in both modes.
 */
final class FailureAnswers {
    /** Served as 403 M_UNKNOWN, what the gateway's own fail-closed answer (503 M_UNKNOWN) means to Synapse. */
    static final Rejection UNAVAILABLE = new Rejection("M_UNKNOWN", Optional.of("A policy check is unavailable; the request was refused"));

    private static final Map<ResultType<?>, Object> DENIALS = Map.of(
            ResultTypes.SPAM_VERDICT, UNAVAILABLE,
            ResultTypes.ALLOWED_IF_TRUE, false,
            ResultTypes.SPAM_IF_TRUE, true,
            ResultTypes.REGISTRATION_BEHAVIOUR, RegistrationBehaviour.DENY,
            ResultTypes.OPTIONAL_EXPIRED, Optional.of(true),
            ResultTypes.EVENT_ALLOWED, EventAllowed.DENIED,
            ResultTypes.ROOM_CREATION, UNAVAILABLE);

    private FailureAnswers() {
    }

    static <A, R> R answer(CallbackType<?, A, R> callback, A args, FailureMode mode) {
        if (mode == FailureMode.FAIL_CLOSED && DENIALS.containsKey(callback.resultType())) {
            @SuppressWarnings("unchecked") // the table pairs each result type with an answer of that type
            R denial = (R) DENIALS.get(callback.resultType());
            return denial;
        }
        return abstention(callback, args);
    }

    /** The chain's own answer when no module is asked: the callback's rule over an empty chain. */
    private static <A, R> R abstention(CallbackType<?, A, R> callback, A args) {
        return callback.rule().evaluate(List.of(), args).result();
    }
}
