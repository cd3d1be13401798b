package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;

/**
 * A named pipe where a list file is expected: opening it to read blocks until a writer comes, and
 * then reads whatever the writer sends. {@link #close()} comes as a writer and leaves at once, so a
 * reader the code under test left blocked in {@code open} reads nothing and goes on.
 */
public final class NamedPipe implements AutoCloseable {
    private final Path path;

    private NamedPipe(Path path) {
        this.path = path;
    }

    /** Makes the pipe at {@code path} ({@code mkfifo}). */
    public static NamedPipe at(Path path) {
        Commands.run("mkfifo", path.toString());
        return new NamedPipe(path);
    }

    public Path path() {
        return path;
    }

    /** Opens the pipe to read and write, which Linux does without waiting for the other end, and closes it. */
    @Override
    public void close() throws IOException {
        new RandomAccessFile(path.toFile(), "rw").close();
    }
}
