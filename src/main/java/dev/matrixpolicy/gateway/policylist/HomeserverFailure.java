package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.replies.Durations;
import dev.matrixpolicy.gateway.replies.FailureCauses;
import java.time.Duration;
import java.util.Optional;

/**
 * A call to the homeserver's client-server API that gave no usable answer: an expected condition a
 * {@link RoomSource} waits out, never a bug. Its message is one line with no sync token and no timing
 * of ours; its {@link #condition()}, the message without the homeserver's own error text, stays the
 * same while the condition lasts, so that the source tells a new failure from the same one again. It
 * never quotes the access token. No stack trace.
 */
final class HomeserverFailure extends Exception {

    /** What the source does next. */
    enum Next {
        /** Try the same step again: the homeserver was unreachable, slow, in trouble or garbled. */
        RETRY,
        /** Start again from who the bot is: the homeserver refused the request, so something changed. */
        RECONNECT,
        /** Start again, slowly: the access token is refused, which only an admin can fix. */
        RECONNECT_SLOWLY
    }

    private final Next next;
    private final int status;
    private final Optional<Duration> retryAfter;
    /** What happened without a judgement, e.g. {@code POST /join/{room} answered 403 M_FORBIDDEN: ...}, for {@link #explained}. */
    private final String detail;
    /** Whether the homeserver answered, but with nothing usable: too large, or not the JSON expected. */
    private final boolean unusableAnswer;
    /** The Matrix error's {@code errcode}, when the answer was one. */
    private final Optional<String> errcode;
    /**
     * The message without the homeserver's own error text, and {@link #detail} likewise: what tells
     * one failure from another. A homeserver (or proxy) that puts a counter or the time in its
     * {@code error} would otherwise make each attempt news.
     */
    private final String condition;
    private final String conditionDetail;

    private HomeserverFailure(String message, String detail, Next next, int status, Optional<Duration> retryAfter,
                              boolean unusableAnswer, Optional<String> errcode) {
        this(message, detail, message, detail, next, status, retryAfter, unusableAnswer, errcode);
    }

    private HomeserverFailure(String message, String detail, String condition, String conditionDetail, Next next, int status,
                              Optional<Duration> retryAfter, boolean unusableAnswer, Optional<String> errcode) {
        super(message, null, false, false);
        this.detail = detail;
        this.condition = condition;
        this.conditionDetail = conditionDetail;
        this.next = next;
        this.status = status;
        this.retryAfter = retryAfter;
        this.unusableAnswer = unusableAnswer;
        this.errcode = errcode;
    }

    private HomeserverFailure(String message, String detail, Next next, int status, Optional<Duration> retryAfter) {
        this(message, detail, next, status, retryAfter, false, Optional.empty());
    }

    private HomeserverFailure(String message, Next next) {
        this(message, message, next, 0, Optional.empty());
    }

    /** A failure tried again, whose {@code message} shows what {@code condition}, the same while it lasts, leaves out. */
    private static HomeserverFailure retried(String message, String condition) {
        return new HomeserverFailure(message, message, condition, condition, Next.RETRY, 0, Optional.empty(), false, Optional.empty());
    }

    /**
     * No connection, or it broke. What the JDK says of it is shown but is no new condition: a proxy
     * with no homeserver behind it accepts each connection and closes it, and the JDK's client says
     * {@code Broken pipe} or {@code header parser received no bytes} by how far the request got, so
     * that every retry of one outage would otherwise be news.
     */
    static HomeserverFailure unreachable(String call, Exception cause) {
        String detail = cause.getMessage() == null ? FailureCauses.of(cause)
                : cause.getClass().getSimpleName() + ": " + oneLine(cause.getMessage());
        String message = "cannot reach the homeserver (" + call + ": " + detail + ")";
        String condition = "cannot reach the homeserver (" + call + ")";
        return retried(message, condition);
    }

    /**
     * An answer that began, then broke off before its end: the connection closed short of its
     * {@code Content-Length} or its last chunk, or was reset. The homeserver was reached; what the
     * JDK says of the break (how many bytes came) is shown, but is no new condition.
     */
    static HomeserverFailure brokenOff(String call, Exception cause) {
        String condition = "the homeserver's answer to " + call + " broke off before its end";
        StringBuilder causes = new StringBuilder();
        for (Throwable link = cause; link != null; link = link.getCause()) {
            if (link.getMessage() != null) {
                causes.append(causes.isEmpty() ? "" : ": ").append(link.getMessage());
            }
        }
        String message = causes.isEmpty() ? condition : condition + " (" + oneLine(causes.toString()) + ")";
        return retried(message, condition);
    }

    /** No answer within {@code timeout}. */
    static HomeserverFailure timeout(String call, Duration timeout) {
        return new HomeserverFailure("no answer from the homeserver to " + call + " within " + Durations.format(timeout), Next.RETRY);
    }

    /** An answer that began, then stopped coming for {@code timeout}. */
    static HomeserverFailure stalled(String call, Duration timeout) {
        return new HomeserverFailure("the homeserver's answer to " + call + " stopped coming for " + Durations.format(timeout), Next.RETRY);
    }

    /** An answer that kept coming, but had not ended by {@code deadline}. */
    static HomeserverFailure overdue(String call, Duration deadline) {
        return new HomeserverFailure("the homeserver's answer to " + call + " took longer than " + Durations.format(deadline), Next.RETRY);
    }

    /** An answer that is not the JSON the call expects. */
    static HomeserverFailure malformed(String call, String problem) {
        String message = "the homeserver's answer to " + call + " is unusable: " + oneLine(problem);
        return new HomeserverFailure(message, message, Next.RETRY, 0, Optional.empty(), true, Optional.empty());
    }

    /**
     * An error status, with the Matrix error's {@code errcode} and {@code error} when the body has them.
     * 401 is the access token; 429 is retried after the homeserver's {@code retry_after_ms}; 5xx is
     * retried as it is; any other status starts again from who the bot is.
     */
    static HomeserverFailure status(String call, int status, Optional<String> errcode, Optional<String> error,
                                    Optional<Duration> retryAfter) {
        String kind = call + " answered " + status + errcode.map(code -> " " + oneLine(code)).orElse("");
        String answer = kind + error.map(text -> ": " + oneLine(text)).orElse("");
        String judgement;
        Next next;
        if (status == 401) {
            judgement = "the homeserver rejects the access token, which is wrong, has expired or was revoked, or whose account is locked";
            next = Next.RECONNECT_SLOWLY;
        } else if (status == 429) {
            judgement = "the homeserver rate-limits the bot";
            next = Next.RETRY;
        } else if (status >= 500) {
            judgement = "the homeserver fails";
            next = Next.RETRY;
        } else {
            judgement = "the homeserver refuses a call";
            next = Next.RECONNECT;
        }
        return new HomeserverFailure(judgement + " (" + answer + ")", answer, judgement + " (" + kind + ")", kind, next, status,
                status == 429 ? retryAfter : Optional.empty(), false, errcode);
    }

    /** A failure that needs its own words, e.g. that the bot was removed from the room; starts again from whoami. */
    static HomeserverFailure reconnect(String message) {
        return new HomeserverFailure(message, Next.RECONNECT);
    }

    /** The same failure, to be met by starting again from whoami, with {@code more} said of it. */
    HomeserverFailure reconnecting(String more) {
        return new HomeserverFailure(getMessage() + more, detail + more, condition + more, conditionDetail + more, Next.RECONNECT,
                status, retryAfter, unusableAnswer, errcode);
    }

    /** The same failure in the words of what it stopped, e.g. that the bot may not join the room. */
    HomeserverFailure explained(String message) {
        return new HomeserverFailure(message + " (" + detail + ")", detail, message + " (" + conditionDetail + ")", conditionDetail,
                next, status, retryAfter, unusableAnswer, errcode);
    }

    /** The message without the homeserver's own error text: the same while the same kind of failure lasts. */
    String condition() {
        return condition;
    }

    Next next() {
        return next;
    }

    /** Whether the homeserver answered with nothing usable (too large, not the JSON expected), which the same request would get again. */
    boolean unusableAnswer() {
        return unusableAnswer;
    }

    /** The Matrix error's {@code errcode}, as the homeserver wrote it; empty when the answer was none. */
    Optional<String> errcode() {
        return errcode;
    }

    /** The HTTP status, or 0 when there was no answer. */
    int status() {
        return status;
    }

    /**
     * Whether the homeserver itself answered this Matrix error: the status and its {@code errcode}. A
     * proxy's bare 403 or 404 in front of it says nothing of the room or the event.
     */
    boolean says(int status, String errcode) {
        return this.status == status && this.errcode.filter(errcode::equals).isPresent();
    }

    /** How long the homeserver asked the bot to wait (429's {@code retry_after_ms}). */
    Optional<Duration> retryAfter() {
        return retryAfter;
    }

    /** A homeserver's text on one line, escaped and cut as any text from outside is. */
    private static String oneLine(String text) {
        return LogText.escaped(text.replaceAll("\\s+", " ").strip());
    }
}
