package dev.matrixpolicy.gateway.modules.contentrules;

import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckMediaFileForSpam;
import dev.matrixpolicy.gateway.files.FileVersion;
import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.matrix.ByteOrderMark;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendFailure;
import dev.matrixpolicy.gateway.module.BackendRequest;
import dev.matrixpolicy.gateway.module.FileReadProblem;
import dev.matrixpolicy.gateway.module.ListSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A denylist of SHA-256 hashes of media files, from a file or a URL, read again every
 * {@code reload-interval} on a thread of its own: a request only looks the hash up in the set in
 * force. The format is one hex hash per line (upper or lower case), optionally followed by white
 * space and a comment; blank lines and lines starting with {@code #} are skipped. A file is read again
 * when its {@link FileVersion} changed: its modification time, size or identity. A read or a line
 * that fails keeps the hashes in force and logs one WARN line; at startup, a file that cannot be used
 * stops startup, while a URL that cannot be read yet leaves the list empty until it can.
 */
final class MediaHashes implements ListSource, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MediaHashes.class);

    /** Reads the list's current text, or null when it has not changed since the last read. */
    @FunctionalInterface
    interface Reader {
        String readIfChanged() throws IOException;
    }

    private final String instance;
    private final String field;
    private final String kind;
    private final String location;
    private final String description;
    private final Reader reader;
    private final ScheduledExecutorService poller;
    private final ListSource.Health health = new ListSource.Health();
    private volatile Set<String> hashes = Set.of();

    private MediaHashes(String instance, String field, String kind, String location, String description, Reader reader, Duration interval) {
        this.instance = instance;
        this.field = field;
        this.kind = kind;
        this.location = location;
        this.description = description;
        this.reader = reader;
        this.poller = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("content-rules-media-" + instance).factory());
        poller.scheduleWithFixedDelay(this::reload, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * The hashes of a file, read now.
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException naming the first line that is not a hash
     */
    static MediaHashes file(String instance, String field, Path file, Duration interval) throws IOException {
        Reader reader = new FileReader(file);
        Set<String> read = parse(reader.readIfChanged()); // before the list's thread starts: a file refused leaves none behind
        MediaHashes list = new MediaHashes(instance, field, "file", file.toString(), file.toString(), reader, interval);
        list.hashes = read;
        list.health.succeeded(Instant.now());
        return list;
    }

    /**
     * The hashes served at a URL, asked for at once on the list's thread, then every interval; a
     * reply with the bytes of the list in force is not parsed again.
     */
    static MediaHashes url(String instance, String field, URI url, Duration timeout, Duration interval, Backend backend) {
        Reader reader = new Reader() {
            private byte[] digest;

            @Override
            public String readIfChanged() throws IOException {
                byte[] body = backend.call(BackendRequest.get(CheckMediaFileForSpam.TYPE.name(), url, timeout), reply -> {
                    if (!reply.isSuccessful()) {
                        throw BackendFailure.status(reply.status());
                    }
                    return reply.body();
                });
                byte[] current = Sha256.of(body);
                if (Arrays.equals(current, digest)) {
                    return null;
                }
                digest = current;
                return new String(body, StandardCharsets.UTF_8);
            }
        };
        MediaHashes list = new MediaHashes(instance, field, "url", url.toString(), "the hashes URL", reader, interval);
        list.poller.execute(list::reload);
        return list;
    }

    boolean contains(String sha256) {
        return hashes.contains(sha256);
    }

    int size() {
        return hashes.size();
    }

    /** Reads the list again if it changed; synchronized, as a test may call it while the list's thread does. */
    synchronized void reload() {
        try {
            String text = reader.readIfChanged();
            if (text != null) {
                hashes = parse(text);
                log.info("{}: {} media hashes loaded from {}", instance, hashes.size(), description);
            }
            health.succeeded(Instant.now());
        } catch (IOException | UncheckedIOException | IllegalArgumentException | BackendFailure failed) {
            String problem = failed instanceof IOException unreadable && kind.equals("file")
                    ? FileReadProblem.of(Path.of(location), unreadable) : description + ": " + failed.getMessage();
            health.failed(problem);
            log.warn("{}: keeping the {} media hashes loaded before; {}", instance, hashes.size(), problem);
        }
    }

    /** @throws IllegalArgumentException naming the first line that is not a hash */
    static Set<String> parse(String text) {
        Set<String> parsed = new HashSet<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String hash = line.split("\\s", 2)[0].toLowerCase(Locale.ROOT);
            if (hash.length() != 64 || !hash.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                throw new IllegalArgumentException("line " + (i + 1) + " is not a SHA-256 hash in hex");
            }
            parsed.add(hash);
        }
        return Set.copyOf(parsed);
    }

    /** The file or URL, the hashes in force and how its reads went. */
    @Override
    public Status status() {
        return health.status(field, kind, location, Map.of("hashes", (long) hashes.size()));
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }

    /** A file, read when its version changed. */
    private static final class FileReader implements Reader {
        private final Path file;
        private FileVersion version = FileVersion.NONE;

        FileReader(Path file) {
            this.file = file;
        }

        @Override
        public String readIfChanged() throws IOException {
            FileVersion current = FileVersion.of(file);
            if (current.equals(version)) {
                return null;
            }
            String text = ByteOrderMark.dropped(Files.readString(file, StandardCharsets.UTF_8));
            version = current;
            return text;
        }
    }
}
