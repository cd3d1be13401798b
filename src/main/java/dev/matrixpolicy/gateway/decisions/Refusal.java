package dev.matrixpolicy.gateway.decisions;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.matrixpolicy.gateway.matrix.LogText;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One answer that refused what the homeserver asked, or a question the chain could not answer, as
 * answered to the homeserver.
 *
 * @param category the callback's category, e.g. {@code spam_checker}
 * @param callback the callback, e.g. {@code user_may_invite}
 * @param entry    the module instance that decided (or failed); empty when no single one did
 * @param mode     whether the answer was enforced
 * @param outcome  refused or failed
 * @param verdict  the outcome label of the metrics: {@code deny}, {@code shadow_ban} or {@code error}
 * @param errcode  the Matrix error code answered, if the answer had one
 * @param reason   the error message answered, or for a failure what went wrong; cut to its first
 *                 {@value #LONGEST_REASON} characters, so that a backend answering megabytes of
 *                 message cannot fill the heap through the decision log, which keeps thousands
 * @param status   the HTTP status answered
 */
public record Refusal(String category, String callback, Optional<String> entry, Mode mode, Outcome outcome,
                      String verdict, Optional<String> errcode, Optional<String> reason, int status) {

    public Refusal {
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(callback, "callback");
        Objects.requireNonNull(entry, "entry");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(errcode, "errcode");
        Objects.requireNonNull(reason, "reason");
        reason = reason.map(Refusal::cut);
    }

    /** The most of a reason kept. */
    public static final int LONGEST_REASON = 1_000;

    private static String cut(String reason) {
        if (reason.length() <= LONGEST_REASON) {
            return reason;
        }
        return LogText.head(reason, LONGEST_REASON) + "... (" + reason.length() + " characters)";
    }

    /** Whether the answer took effect. */
    public enum Mode {
        /** The answer the homeserver received. */
        ENFORCE,
        /** What an entry in {@code mode: shadow} would have answered; the chain went on without it. */
        SHADOW;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Outcome {
        /** The chain's answer refused the request. */
        REFUSED,
        /** A module failed closed: the request was refused without an answer. */
        FAILED;

        @JsonValue
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
