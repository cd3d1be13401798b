package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The one way the tests run a short command of the machine ({@code openssl}, {@code redis-cli},
 * {@code kill}, {@code mkfifo}): to its end, within a limit, its output and errors read together.
 * Long installs have their own runner ({@link DebianPackages}), which logs to a file.
 */
public final class Commands {
    private static final Duration LIMIT = Duration.ofSeconds(10);

    private Commands() {
    }

    /**
     * Runs {@code command} in {@code directory} (null: the working directory) and returns what it
     * printed, standard output and error together.
     *
     * @throws IllegalStateException naming the command and what it printed, when it ends with another
     *                               status than 0 or is still running after ten seconds
     */
    public static String run(Path directory, List<String> command) {
        try {
            Process process = new ProcessBuilder(command).directory(directory == null ? null : directory.toFile())
                    .redirectErrorStream(true).start();
            process.getOutputStream().close();
            String said = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " still ran after " + LIMIT.toSeconds() + " s: " + said);
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (exit status " + process.exitValue() + "): " + said);
            }
            return said;
        } catch (IOException cannotRun) {
            throw new UncheckedIOException(cannotRun);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(interrupted);
        }
    }

    /** {@link #run(Path, List)} in the working directory. */
    public static String run(String... command) {
        return run(null, List.of(command));
    }
}
