package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.Outcomes;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.chain.ModuleFailedException;
import dev.matrixpolicy.gateway.chain.Reply;
import dev.matrixpolicy.gateway.chain.ShadowAnswer;
import dev.matrixpolicy.gateway.decisions.DecisionRecorder;
import dev.matrixpolicy.gateway.decisions.Refusal;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import jakarta.servlet.http.HttpServletResponse;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import tools.jackson.databind.node.ObjectNode;

/**
 * Asks a callback's chain and hands the {@link DecisionRecorder} what it refused, what failed, and
 * what a shadow entry would have refused, with the status the caller is answered. The one way both
 * the policy API and the policy server decide, so their refusals read alike in the decision log.
 */
final class RecordedDecisions {
    private final DecisionRecorder decisions;
    /** The message a refusal without one of its own is answered with, so that the log says what the caller was told. */
    private final String unexplained;

    /** For the policy API, which answers a refusal without a message with {@link Rejection#DEFAULT_ERROR}. */
    RecordedDecisions(DecisionRecorder decisions) {
        this(decisions, Rejection.DEFAULT_ERROR);
    }

    /** @param unexplained the message this surface answers a refusal without one of its own with */
    RecordedDecisions(DecisionRecorder decisions, String unexplained) {
        this.decisions = decisions;
        this.unexplained = unexplained;
    }

    /**
     * The chain's decision.
     *
     * @param body         the request's JSON, from which the log takes the IDs involved; asked for only when
     *                     something is recorded, so an allowed request never builds a tree it does not need;
     *                     its top-level fields and their objects' own scalars are enough (a body's outline)
     * @param statusOf     the status a result is answered with, for the log
     * @throws ModuleFailedException when the chain failed closed; recorded as a failure answered 503
     */
    <A, R> Decision<R> decide(CallbackEndpoint<A, R> endpoint, A args, Supplier<ObjectNode> body, ToIntFunction<R> statusOf) {
        Decision<R> decision;
        try {
            decision = endpoint.decide(args);
        } catch (ModuleFailedException failed) {
            MatrixErrors.MatrixError error = MatrixErrors.describe(failed);
            decisions.record(refusal(endpoint, Optional.of(failed.module()), Refusal.Mode.ENFORCE, Refusal.Outcome.FAILED,
                    Outcomes.ERROR, Optional.of(error.errcode()), Optional.ofNullable(failed.getMessage()),
                    error.status().value()), body.get());
            @SuppressWarnings("unchecked") // this endpoint's chain threw it: its shadow entries answered its result type
            List<ShadowAnswer<R>> asked = (List<ShadowAnswer<R>>) (List<?>) failed.shadowAnswers();
            recordShadows(endpoint, asked, statusOf, body);
            throw failed;
        }
        record(endpoint, Refusal.Mode.ENFORCE, decision.decidedBy(), decision.result(), statusOf, body);
        recordShadows(endpoint, decision.shadowAnswers(), statusOf, body);
        return decision;
    }

    /** Hands the decision log what shadow entries would have refused, or failed on. */
    private <R> void recordShadows(CallbackEndpoint<?, R> endpoint, List<ShadowAnswer<R>> shadows, ToIntFunction<R> statusOf,
                                   Supplier<ObjectNode> body) {
        for (ShadowAnswer<R> shadow : shadows) {
            switch (shadow.reply()) {
                case Reply.Answered<R> answered -> record(endpoint, Refusal.Mode.SHADOW, Optional.of(shadow.module()),
                        answered.answer(), statusOf, body);
                case Reply.Failed<R> failed -> decisions.record(refusal(endpoint, Optional.of(shadow.module()), Refusal.Mode.SHADOW,
                        Refusal.Outcome.FAILED, Outcomes.ERROR, Optional.of("M_UNKNOWN"), Optional.of(failed.failure()),
                        HttpServletResponse.SC_SERVICE_UNAVAILABLE), body.get());
            }
        }
    }

    /** Hands a refusal to the decision log; an allowed result costs one label check. */
    private <R> void record(CallbackEndpoint<?, R> endpoint, Refusal.Mode mode, Optional<String> entry, R result,
                            ToIntFunction<R> statusOf, Supplier<ObjectNode> body) {
        String verdict = endpoint.resultType().outcome(result);
        if (Outcomes.isRejection(verdict)) {
            Optional<Rejection> rejection = result instanceof Rejection refused ? Optional.of(refused) : Optional.empty();
            decisions.record(refusal(endpoint, entry, mode, Refusal.Outcome.REFUSED, verdict,
                    rejection.map(Rejection::errcode), rejection.map(refused -> refused.error().orElse(unexplained)),
                    statusOf.applyAsInt(result)), body.get());
        }
    }

    private static Refusal refusal(CallbackEndpoint<?, ?> endpoint, Optional<String> entry, Refusal.Mode mode,
                                   Refusal.Outcome outcome, String verdict, Optional<String> errcode, Optional<String> reason,
                                   int status) {
        return new Refusal(endpoint.category().wireName(), endpoint.name(), entry, mode, outcome, verdict,
                errcode, reason, status);
    }
}
