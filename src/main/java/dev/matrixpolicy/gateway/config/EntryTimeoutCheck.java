package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.WorstCase;
import dev.matrixpolicy.gateway.replies.Durations;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns at startup about an entry whose {@code timeout} is shorter than its module's
 * {@linkplain dev.matrixpolicy.gateway.module.PolicyModule#worstCase() worst case for one call}.
 * With a slow backend the chain would stop waiting before the module gives up on its own, so users
 * get the entry's {@code on-failure} (503 under {@code fail-closed}) where the module's own failure
 * handling was meant to answer. A warning, not a startup failure: the configuration works, only not
 * as intended, and an administrator may prefer the short deadline.
 */
final class EntryTimeoutCheck {
    private static final Logger log = LoggerFactory.getLogger(EntryTimeoutCheck.class);

    private EntryTimeoutCheck() {
    }

    /** Logs the entry's warning, if it has one. */
    static void warnIfTooShort(ModuleInstance instance, boolean defaultTimeout) {
        warning(instance, defaultTimeout).ifPresent(log::warn);
    }

    /**
     * The warning for one entry: empty when the module is called without a deadline (it does not
     * block), does not know its worst case, or gets at least that long.
     *
     * @param defaultTimeout whether the entry's timeout is {@code policy-gateway.defaults.timeout}
     */
    static Optional<String> warning(ModuleInstance instance, boolean defaultTimeout) {
        if (!instance.module().mayBlock()) {
            return Optional.empty();
        }
        return instance.module().worstCase()
                .filter(worst -> instance.timeout().compareTo(worst.time()) < 0)
                .map(worst -> message(instance, defaultTimeout, worst));
    }

    /** What a call cut short at the deadline comes to. */
    private static String consequence(ModuleInstance instance) {
        if (instance.mode() == Link.Mode.SHADOW) {
            return "the shadow entry records a timeout";
        }
        return "on-failure answers (" + (instance.onFailure() == FailurePolicy.FAIL_CLOSED
                ? "fail-closed: 503 M_UNKNOWN" : "fail-open: the module is skipped") + ")";
    }

    private static String message(ModuleInstance instance, boolean defaultTimeout, WorstCase worst) {
        return "policy-gateway." + instance.describe() + ": timeout " + Durations.format(instance.timeout())
                + (defaultTimeout ? " (policy-gateway.defaults.timeout)" : "")
                + " is shorter than the module's worst case for one call, " + Durations.format(worst.time())
                + " (" + worst.computation() + "): with a slow backend the chain stops waiting first and "
                + consequence(instance) + " instead of the module's own answer. Set policy-gateway.modules[" + instance.position() + "].timeout to at least "
                + Durations.format(worst.time()) + ", or lower the module's own timeouts or retries.";
    }
}
