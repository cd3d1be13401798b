package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

/**
 * A job that rewrites a file in place, as {@code cat new > list.txt} or a script's loop does: the
 * file truncated, its first part written, a pause, then the rest. What a reader must never serve
 * half of.
 */
public final class InPlaceWriter {
    private InPlaceWriter() {
    }

    /**
     * Starts rewriting {@code file} with {@code first}, then, {@code pause} later, {@code rest}.
     *
     * @return once {@code first} alone is on disk: the writing, which ends when {@code rest} is written too
     */
    public static CompletableFuture<Void> rewrite(Path file, String first, Duration pause, String rest) throws InterruptedException {
        CountDownLatch halfWritten = new CountDownLatch(1);
        CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
            try (OutputStream out = Files.newOutputStream(file)) {
                out.write(first.getBytes(StandardCharsets.UTF_8));
                out.flush();
                halfWritten.countDown();
                Thread.sleep(pause);
                out.write(rest.getBytes(StandardCharsets.UTF_8));
            } catch (IOException failed) {
                throw new UncheckedIOException(failed);
            } catch (InterruptedException stopped) {
                Thread.currentThread().interrupt();
            } finally {
                halfWritten.countDown();
            }
        });
        halfWritten.await();
        return writing;
    }
}
