package dev.matrixpolicy.gateway.state;

import java.time.Duration;
import java.util.Objects;

/** The answer of {@link SharedState#take}: a token was taken, or the bucket is empty. */
public sealed interface Take permits Take.Allowed, Take.Refused {

    Take ALLOWED = Allowed.INSTANCE;

    /** A token was taken: the action may go ahead. */
    enum Allowed implements Take { INSTANCE }

    /**
     * The bucket is empty: refuse the action.
     *
     * @param retryAfter how long until the bucket holds a token again, at least 1 ms
     */
    record Refused(Duration retryAfter) implements Take {
        public Refused {
            Objects.requireNonNull(retryAfter, "retryAfter");
        }
    }
}
