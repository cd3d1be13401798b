package dev.matrixpolicy.gateway.callbacks;

/**
 * The answer of a spam-checker callback: {@code NOT_SPAM}, or a {@link Rejection} with an error code.
 */
public sealed interface SpamVerdict permits SpamVerdict.NotSpam, Rejection {

    SpamVerdict NOT_SPAM = NotSpam.INSTANCE;

    /** Synapse's {@code synapse.module_api.NOT_SPAM}: allow, and let the next module decide. */
    enum NotSpam implements SpamVerdict { INSTANCE }
}
