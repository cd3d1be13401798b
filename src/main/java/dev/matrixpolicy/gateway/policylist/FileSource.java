package dev.matrixpolicy.gateway.policylist;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * A policy list in a file ({@link RuleText}'s formats), read again when it changes: its modification
 * time, size or identity (a Kubernetes ConfigMap swaps a symlink, which changes the file it leads to).
 *
 * <p>Some file systems keep modification times to the second, so a file rewritten within the tick
 * of its last read, at the same size, looks unchanged. A read that started less than
 * {@link #AMBIGUOUS} after the modification time it saw may have missed such a rewrite: until a
 * read starts that long after it, the file is read on every check (and parsed only when its content
 * differs from the last good content's). How late a check runs (a busy machine) changes nothing.
 * Changed content is applied only once it has stayed the same for {@link #SETTLE}, so a file is not
 * read while it is written, unless its writer pauses for longer; an empty file, which is what a
 * rewrite in place leaves for a moment, is a failed read. Writing a new file and renaming it over
 * the old one is what never shows a reader half a list.
 */
public final class FileSource extends PollingSource {
    /** Longer than the coarsest modification-time tick of the file systems in use (one second). */
    private static final Duration AMBIGUOUS = Duration.ofSeconds(2);
    /** How long changed content must stay as read before it is applied, as for the configuration files. */
    private static final Duration SETTLE = Duration.ofMillis(100);

    private final Path file;
    private final Clock clock;
    /** The modification time, size and identity of the file when its content was last taken. */
    private List<Object> lastSeen = List.of();
    /** Whether the last taken read started late enough after its modification time to rule out a same-tick rewrite. */
    private boolean settled;
    /** What the read in hand saw: kept as {@link #lastSeen} and {@link #settled} once its content is taken. */
    private List<Object> seen = List.of();
    private boolean settles;

    public FileSource(String name, Path file, Duration checkInterval, Clock clock) {
        super(name, checkInterval, clock);
        this.file = file;
        this.clock = clock;
    }

    @Override
    Read readIfChanged() throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException missing) {
            throw new IOException("no such file");
        }
        Object identity = attributes.fileKey() == null ? "" : attributes.fileKey();
        seen = List.of(attributes.lastModifiedTime(), attributes.size(), identity);
        if (seen.equals(lastSeen) && settled) {
            return Read.UNCHANGED;
        }
        Instant readStarted = clock.instant();
        byte[] bytes = Files.readAllBytes(file);
        settles = Duration.between(attributes.lastModifiedTime().toInstant(), readStarted).compareTo(AMBIGUOUS) >= 0;
        if (!unchangedAfterSettling(bytes)) {
            return Read.CHANGING; // still being written: the next check reads it again
        }
        return new Read.Content(bytes);
    }

    @Override
    void took() {
        lastSeen = seen;
        settled = settles;
    }

    @Override
    void forget() {
        lastSeen = List.of();
        settled = false;
    }

    /**
     * Whether the file still holds {@code bytes} {@link #SETTLE} later. A file rewritten in place is
     * empty, then half written, for a moment; read in that moment, it would replace every rule with
     * none or some, until the next check.
     */
    private boolean unchangedAfterSettling(byte[] bytes) throws IOException {
        try {
            Thread.sleep(SETTLE);
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
            return false;
        }
        // compared a chunk at a time: a second copy of a list of some megabytes would be garbage at once
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

    @Override
    String location() {
        return file.toString();
    }
}
