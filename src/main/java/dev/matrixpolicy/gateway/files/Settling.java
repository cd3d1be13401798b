package dev.matrixpolicy.gateway.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

/**
 * Changed content is applied only once it has stayed as read for {@link #SETTLE}. A file rewritten
 * in place is empty, then half written, for a moment; read in that moment, it would replace a whole
 * list with none or some of it. So a reader reads the changed file, {@linkplain #waited waits}, reads
 * it again, and applies it only when both reads agree; a file still changing is left to the next
 * check, unless its writer pauses for longer. How a reader compares is its own: bytes, a digest, a
 * fingerprint. Writing a new file and renaming it over the old one is what never shows a reader half
 * a file.
 */
public final class Settling {
    /** How long changed content must stay as read before it is applied. */
    public static final Duration SETTLE = Duration.ofMillis(100);

    /**
     * How many times a reader that must not serve a file half written reads it before giving up: a
     * reload rebuilding a reader, whose predecessor's list serves until it is read (about a second).
     */
    public static final int ATTEMPTS = 10;

    private Settling() {
    }

    /** One read of a changed file, applied only once settled. */
    @FunctionalInterface
    public interface Attempt<T> {
        /** @return what the file holds, settled; empty when it changed while it was read */
        Optional<T> read() throws IOException;
    }

    /**
     * What {@code file} holds once it has settled, read again while it is being written, up to
     * {@link #ATTEMPTS} times: for a reader that has no next check to leave a file still changing to.
     *
     * @throws StillChanging when every attempt found the file changing
     */
    public static <T> T read(Path file, Attempt<T> attempt) throws IOException {
        for (int attempts = 0; attempts < ATTEMPTS; attempts++) {
            Optional<T> read = attempt.read();
            if (read.isPresent()) {
                return read.get();
            }
        }
        throw new StillChanging(file);
    }

    /**
     * Waits {@link #SETTLE}, before the second read.
     *
     * @return false when the thread was interrupted (it is stopping): nothing read should be applied,
     *         and the interruption is kept for the thread's loop to see
     */
    public static boolean waited() {
        try {
            Thread.sleep(SETTLE);
            return true;
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Whether {@code file} still holds {@code bytes}, read from it a moment ago: {@linkplain #waited
     * waits}, then reads the file again and compares.
     *
     * @return false when the file changed meanwhile (it is being written: leave it to the next check),
     *         or when the thread was interrupted
     */
    public static boolean settled(Path file, byte[] bytes) throws IOException {
        if (!waited()) {
            return false;
        }
        // compared a chunk at a time: a second copy of a file of some megabytes would be garbage at once
        try (InputStream again = Files.newInputStream(file)) {
            byte[] chunk = new byte[64 * 1024];
            int at = 0;
            for (int read; (read = again.readNBytes(chunk, 0, chunk.length)) > 0; at += read) {
                if (read > bytes.length - at || !Arrays.equals(chunk, 0, read, bytes, at, at + read)) {
                    return false;
                }
            }
            return at == bytes.length;
        }
    }

    /** A file that changed at every read: its writer is still at it, or rewrites it without a pause. */
    public static final class StillChanging extends IOException {
        public StillChanging(Path file) {
            super(file + " kept changing while it was read");
        }
    }
}
