package dev.matrixpolicy.gateway.policylist;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A policy list in a file ({@link RuleText}'s formats), read again when it changes: its modification
 * time, size or identity (a Kubernetes ConfigMap swaps a symlink, which changes the file it leads to).
 *
 * <p>Some file systems keep modification times to the second, so a file rewritten within the tick
 * of its last read, at the same size, looks unchanged. A read that started less than
 * {@link #AMBIGUOUS} after the modification time it saw may have missed such a rewrite: until a
 * read starts that long after it, the file is read on every check, and parsed only when its SHA-256
 * differs from the last good content's. How late a check runs (a busy machine) changes nothing.
 * Changed content is applied only once it has stayed the same for {@link #SETTLE}: a file is never
 * read half written.
 */
public final class FileSource extends PollingSource {
    /** Longer than the coarsest modification-time tick of the file systems in use (one second). */
    private static final Duration AMBIGUOUS = Duration.ofSeconds(2);
    /** How long changed content must stay as read before it is applied, as for the configuration files. */
    private static final Duration SETTLE = Duration.ofMillis(100);

    private final Path file;
    private final Clock clock;
    private List<Object> lastSeen = List.of();
    private byte[] lastGoodDigest = new byte[0];
    /** Whether the last good read started late enough after its modification time to rule out a same-tick rewrite. */
    private boolean settled;

    public FileSource(String name, Path file, Duration checkInterval, Clock clock) {
        super(name, checkInterval, clock);
        this.file = file;
        this.clock = clock;
    }

    @Override
    Optional<RuleText.Parsed> readIfChanged() throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException missing) {
            throw new IOException("no such file");
        }
        Object identity = attributes.fileKey() == null ? "" : attributes.fileKey();
        List<Object> seen = List.of(attributes.lastModifiedTime(), attributes.size(), identity);
        if (seen.equals(lastSeen) && settled) {
            return Optional.empty();
        }
        Instant readStarted = clock.instant();
        byte[] bytes = Files.readAllBytes(file);
        byte[] digest = sha256(bytes);
        boolean settles = Duration.between(attributes.lastModifiedTime().toInstant(), readStarted).compareTo(AMBIGUOUS) >= 0;
        if (Arrays.equals(digest, lastGoodDigest)) {
            // the rules in force already: only the attributes moved (a modification time set back, a
            // file rewritten with the same bytes, a symlink swapped to an identical copy)
            lastSeen = seen;
            settled = settles;
            return Optional.empty();
        }
        if (!unchangedAfterSettling(bytes)) {
            return Optional.empty(); // still being written: the next check reads it again
        }
        RuleText.Parsed parsed = RuleText.parse(bytes, name());
        lastSeen = seen; // only once the content was good: a bad file is read again on the next check
        lastGoodDigest = digest;
        settled = settles;
        return Optional.of(parsed);
    }

    @Override
    void forget() {
        lastSeen = List.of();
        lastGoodDigest = new byte[0];
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

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException("every Java runtime has SHA-256", impossible);
        }
    }

    @Override
    String location() {
        return file.toString();
    }
}
