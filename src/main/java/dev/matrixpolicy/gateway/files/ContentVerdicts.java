package dev.matrixpolicy.gateway.files;

import java.util.Arrays;

/**
 * What a reader of a list made of the content it read, by the content's SHA-256: the content in force
 * (its entries serve), and the content refused (it did not parse, or it was emptied), which is not
 * parsed, warned about or counted again while it is what the reader finds. The one rule of every list
 * reader (policy list files and URLs, user list files, {@code content_rules}' media hashes,
 * {@code password_file}):
 * <ul>
 * <li>the content in force found again ends a refusal: the list was put back;</li>
 * <li>a read that fails forgets the refusal, so that content refused before is judged, and reported,
 *     again once the list reads: what the reader's status shows is always its last problem;</li>
 * <li>content taken ends a refusal too.</li>
 * </ul>
 * Not thread-safe: each reader uses its own from the one thread (or under the one lock) that reads.
 */
public final class ContentVerdicts {
    private static final byte[] NONE = {};

    private byte[] inForce = NONE;
    private byte[] refused = NONE;

    /** Whether {@code digest} is the content in force; if it is, a refusal is over. */
    public boolean isInForce(byte[] digest) {
        if (inForce.length == 0 || !Arrays.equals(digest, inForce)) {
            return false;
        }
        refused = NONE;
        return true;
    }

    /** The content in force is what the reader finds, known without its digest (nothing changed since it was taken). */
    public void stillInForce() {
        refused = NONE;
    }

    /** Whether {@code digest} is the content refused already. */
    public boolean isRefused(byte[] digest) {
        return refused.length != 0 && Arrays.equals(digest, refused);
    }

    /** Whether the content last judged was refused, and nothing has been read since that is not. */
    public boolean refusing() {
        return refused.length != 0;
    }

    /** The content of {@code digest} was refused. */
    public void refuse(byte[] digest) {
        refused = digest;
    }

    /** The content of {@code digest} is in force now. */
    public void took(byte[] digest) {
        inForce = digest;
        refused = NONE;
    }

    /** A read failed: the content refused before will be judged again. */
    public void readFailed() {
        refused = NONE;
    }

    /** Forgets both: the next content read is judged, and taken, whatever it is. */
    public void forget() {
        inForce = NONE;
        refused = NONE;
    }
}
