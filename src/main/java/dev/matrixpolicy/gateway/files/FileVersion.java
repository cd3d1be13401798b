package dev.matrixpolicy.gateway.files;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What tells one version of a file from the next without reading it: its modification time, its
 * size and its identity, the file system's key for it (a Kubernetes ConfigMap or Secret update swaps
 * a symlink, which changes the file it leads to, often at the same size).
 *
 * <p>Some file systems keep modification times to the second, so a file rewritten within the tick
 * of a read, at the same size, keeps its version. A read that started less than {@link #AMBIGUOUS}
 * after the modification time it saw may have missed such a rewrite: {@link #asReadAt} has its
 * reader remember {@link #NONE} for it, so the file is read again on every check until a read starts
 * late enough. What counts is when the read started, so how late a check runs (a busy machine)
 * changes nothing.
 *
 * @param identity the file system's key for the file, or {@code ""} where it keeps none
 */
public record FileVersion(FileTime modified, long size, Object identity) {
    /** Longer than the coarsest modification-time tick of the file systems in use (one second). */
    public static final Duration AMBIGUOUS = Duration.ofSeconds(2);

    /**
     * The version of no file (its size is -1), so a file compared with it has changed: what a reader
     * remembers to read the file at its next check, or the version of a file that cannot be looked at.
     */
    public static final FileVersion NONE = new FileVersion(FileTime.fromMillis(0), -1, "none");

    public FileVersion {
        Objects.requireNonNull(modified, "modified");
        Objects.requireNonNull(identity, "identity");
    }

    /**
     * The file's version now, through symbolic links.
     *
     * @throws IOException as {@link Files#readAttributes} throws it, e.g. {@link java.nio.file.NoSuchFileException}
     */
    public static FileVersion of(Path file) throws IOException {
        return of(Files.readAttributes(file, BasicFileAttributes.class));
    }

    /**
     * The version of a file that must be a regular file: a directory, a named pipe or a device is
     * refused before it is opened (reading a pipe may never end).
     *
     * @throws NotARegularFile for a directory, a named pipe or a device; otherwise as {@link #of} throws
     */
    public static FileVersion ofRegularFile(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        if (!attributes.isRegularFile()) {
            throw new NotARegularFile();
        }
        return of(attributes);
    }

    /** A path that leads to something other than a regular file, refused before it is opened. */
    public static final class NotARegularFile extends IOException {
        NotARegularFile() {
            super("is not a regular file");
        }
    }

    private static FileVersion of(BasicFileAttributes attributes) {
        return new FileVersion(attributes.lastModifiedTime(), attributes.size(),
                Objects.requireNonNullElse(attributes.fileKey(), ""));
    }

    /**
     * What the reader of this version may remember, its read having started at {@code readStarted}:
     * this version, or {@link #NONE} when the read started less than {@link #AMBIGUOUS} after the
     * modification time and so may have missed a rewrite within the same tick.
     */
    public FileVersion asReadAt(Instant readStarted) {
        return Duration.between(modified.toInstant(), readStarted).compareTo(AMBIGUOUS) >= 0 ? this : NONE;
    }
}
