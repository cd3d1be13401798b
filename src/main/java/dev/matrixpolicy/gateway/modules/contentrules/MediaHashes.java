package dev.matrixpolicy.gateway.modules.contentrules;

import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckMediaFileForSpam;
import dev.matrixpolicy.gateway.files.ContentVerdicts;
import dev.matrixpolicy.gateway.files.FileVersion;
import dev.matrixpolicy.gateway.files.PeriodicCheck;
import dev.matrixpolicy.gateway.files.Settling;
import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.matrix.ByteOrderMark;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendFailure;
import dev.matrixpolicy.gateway.module.BackendRequest;
import dev.matrixpolicy.gateway.files.FileReadProblem;
import dev.matrixpolicy.gateway.module.ListSource;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.outage.Outage;
import dev.matrixpolicy.gateway.policylist.UrlSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A denylist of SHA-256 hashes of media files, from a file or a URL, read again every
 * {@code reload-interval} on a thread of its own: a request only looks the hash up in the set in
 * force. The format is one hex hash per line (upper or lower case), optionally followed by white
 * space and a comment; blank lines and lines starting with {@code #} are skipped.
 *
 * <p>Content the same as the list in force (by its SHA-256) is not parsed again. A read that fails,
 * a line that is not a hash, or content with nothing in it, not even a comment, where hashes are in
 * force (a file truncated, or caught as it is rewritten; a server's mistake) keeps the hashes in
 * force and is reported by {@link #status()} until the content changes. As every reader does, through
 * {@link Outage}: one WARN line when reading starts to fail or fails differently, DEBUG while it fails
 * alike, and one INFO line when the list reads again. A read cut short by {@link #close()} is neither
 * a failure nor a line. At startup, a file that cannot be used stops startup, while a URL that cannot
 * be read yet leaves the list empty until it can.
 *
 * <p>A file is read again when its {@link FileVersion} changed: its modification time, size or
 * identity. As {@code module.UserListFile} does, changed content is applied only once it has
 * {@linkplain Settling settled}, a read that failed is tried again at every check, and a file
 * rewritten within the modification-time tick of its last read, at the same size, is caught by
 * reading it on every check until a read starts {@link FileVersion#AMBIGUOUS} after its
 * modification time.
 */
final class MediaHashes implements ListSource, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MediaHashes.class);

    /** Where the list is read from. */
    interface Reader {
        /**
         * The list's bytes, or empty when they are still those last {@linkplain #took taken}.
         *
         * @throws IOException when the list cannot be read
         */
        Optional<byte[]> read() throws IOException;

        /**
         * Whether {@code content}, just read, is the list's content still once it had the time to
         * {@linkplain Settling settle}; false leaves it to the next check.
         */
        default boolean settled(byte[] content) throws IOException {
            return true; // a reply arrives whole
        }

        /** The content last read is in force: what tells the next read whether it changed may be kept. */
        default void took() {
        }
    }

    private final String instance;
    private final String field;
    private final String kind;
    /** The file's path, or the URL as status pages show it ({@link UrlSource#shown}). */
    private final String location;
    private final String description;
    private final Reader reader;
    private final Clock clock;
    private final PeriodicCheck checks;
    private final ListSource.Health health = new ListSource.Health();
    /** The failed reads in a row, and the lines that say so. */
    private final Outage outage;
    private volatile Set<String> hashes = Set.of();
    /** The content in force and the content refused, by SHA-256; used on the list's thread (or under its lock). */
    private final ContentVerdicts verdicts = new ContentVerdicts();

    private MediaHashes(String instance, String field, String kind, String location, String description, Reader reader,
                        Duration firstDelay, Duration interval, Clock clock) {
        this.instance = instance;
        this.field = field;
        this.kind = kind;
        this.location = location;
        this.description = description;
        this.reader = reader;
        this.clock = clock;
        this.outage = new Outage(log, Level.WARN, clock);
        this.checks = new PeriodicCheck("content-rules-media-" + instance, firstDelay, interval);
    }

    /**
     * The hashes of a file, read now.
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException naming the first line that is not a hash
     */
    static MediaHashes file(String instance, String field, Path file, Duration interval) throws IOException {
        return file(instance, field, file, interval, List.of(), Clock.systemUTC());
    }

    /**
     * The hashes of a file, read now, for an instance a reload builds to replace one that read the
     * {@code lists before}: when one of them read the same file, the read is as careful as a check's,
     * since its hashes are in force until this list serves. It waits for the content to
     * {@linkplain Settling settle} (a file being rewritten in place is read again until it holds still),
     * and refuses a file emptied where that list held hashes, in the words a check uses.
     *
     * @throws IOException                  also when the file is still being written after {@link Settling#ATTEMPTS} reads
     * @throws IllegalArgumentException     naming the first line that is not a hash
     * @throws ModuleConfigurationException naming {@code field}, for a file emptied
     */
    static MediaHashes file(String instance, String field, Path file, Duration interval, List<MediaHashes> listsBefore)
            throws IOException {
        return file(instance, field, file, interval, listsBefore, Clock.systemUTC());
    }

    static MediaHashes file(String instance, String field, Path file, Duration interval, List<MediaHashes> listsBefore,
                            Clock clock) throws IOException {
        Reader reader = new FileReader(file, clock);
        MediaHashes list = new MediaHashes(instance, field, "file", file.toString(), file.toString(), reader, interval, interval, clock);
        Optional<Set<String>> before = listsBefore.stream()
                .filter(other -> other.kind.equals("file") && other.location.equals(list.location)).findFirst().map(other -> other.hashes);
        if (before.isPresent()) {
            list.hashes = before.get(); // what an emptied file is refused against, as a check refuses it
            try {
                Settling.read(file, () -> list.take(reader.read().orElseThrow()) ? Optional.of(true) : Optional.empty());
            } catch (EmptiedException emptied) {
                throw new ModuleConfigurationException(field, FileReadProblem.emptied(file, "hash"));
            }
        } else {
            byte[] content = reader.read().orElseThrow();
            // parsed before the list's thread starts: a file refused leaves none behind; at startup nothing is in force to keep
            Parsed read = parse(fileText(content));
            if (read.blank()) {
                log.warn("{}: {}", instance, FileReadProblem.emptyAtStartup(file, "hash"));
            }
            list.hashes = read.hashes();
            list.verdicts.took(Sha256.of(content));
            reader.took();
        }
        list.health.succeeded(clock.instant());
        list.checks.start(list::reload);
        return list;
    }

    /** The hashes served at a URL, asked for at once on the list's thread, then every interval. */
    static MediaHashes url(String instance, String field, URI url, Duration timeout, Duration interval, Backend backend) {
        Reader reader = () -> Optional.of(backend.call(BackendRequest.get(CheckMediaFileForSpam.TYPE.name(), url, timeout), reply -> {
            if (!reply.isSuccessful()) {
                throw BackendFailure.status(reply.status());
            }
            return reply.body();
        }));
        // shown as a policy list's URL is: the query, where a list behind a token takes it, only as ?…
        MediaHashes list = new MediaHashes(instance, field, "url", UrlSource.shown(url), "the hashes URL", reader, Duration.ZERO,
                interval, Clock.systemUTC());
        list.checks.start(list::reload);
        return list;
    }

    boolean contains(String sha256) {
        return hashes.contains(sha256);
    }

    int size() {
        return hashes.size();
    }

    /** Reads the list again and applies a changed, good version; synchronized, as a test may call it while the list's thread does. */
    synchronized void reload() {
        try {
            Optional<byte[]> content;
            try {
                content = reader.read();
            } catch (IOException | UncheckedIOException | BackendFailure unreadable) {
                verdicts.readFailed();
                throw unreadable;
            }
            if (content.isEmpty()) {
                verdicts.stillInForce();
            } else if (!take(content.get())) {
                return; // still being written, or closed meanwhile: neither a good read nor a failed one
            }
            if (checks.closing()) {
                return; // closed meanwhile: the list serves no more, and says nothing more
            }
            if (!verdicts.refusing()) { // else what is read is the content refused, warned about when it was read
                health.succeeded(clock.instant());
                outage.worksAgain("{}: {} reads again, after {} failed attempt(s) since {}", instance, description);
            }
        } catch (IOException | UncheckedIOException | IllegalArgumentException | BackendFailure | EmptiedException failed) {
            if (checks.closing()) { // cut short by close(): a fetch ends "interrupted", a file's settle wait early
                return;
            }
            String problem = switch (failed) {
                case EmptiedException emptied -> kind.equals("file") ? FileReadProblem.emptied(Path.of(location), "hash")
                        : description + " replied with an empty list; to remove every hash, serve a comment line";
                case IOException unreadable when kind.equals("file") -> FileReadProblem.of(Path.of(location), unreadable);
                default -> description + ": " + failed.getMessage();
            };
            health.failed(problem);
            Outage.Failure failure = outage.failed(problem);
            failure.loud("{}: keeping the {} media hashes loaded before; {}", instance, hashes.size(), problem);
            failure.quiet("{}: still keeping the {} media hashes loaded before ({} failed reads); {}", instance, hashes.size(),
                    failure.failures(), problem);
        }
    }

    /**
     * Applies {@code content} unless it is the content in force or refused already.
     *
     * @return false when the content is still changing, or the list was closed meanwhile, and nothing was taken
     * @throws IllegalArgumentException naming the first line that is not a hash
     * @throws EmptiedException         for content with nothing in it where hashes are in force
     */
    private boolean take(byte[] content) throws IOException {
        byte[] digest = Sha256.of(content);
        if (verdicts.isInForce(digest)) { // only the file's attributes moved, or the list was put back
            reader.took();
            return true;
        }
        if (verdicts.isRefused(digest)) {
            return true;
        }
        if (!reader.settled(content)) {
            return false;
        }
        Parsed parsed;
        try {
            parsed = parse(text(content));
            if (parsed.blank() && !hashes.isEmpty()) {
                throw new EmptiedException(); // truncated, or caught before its writer wrote a byte
            }
        } catch (IllegalArgumentException | EmptiedException | CharacterCodingException refused) {
            verdicts.refuse(digest);
            throw refused;
        }
        if (checks.closing()) {
            return false; // a read or a parse that outlasted close(): the list serves no more, and says nothing more
        }
        hashes = parsed.hashes();
        verdicts.took(digest);
        reader.took();
        log.info("{}: {} media hashes loaded from {}", instance, hashes.size(), description);
        return true;
    }

    /**
     * The hashes of a list, and whether it holds nothing but white space, not even a comment: a list
     * meant to hold no hash says so in a comment.
     */
    record Parsed(Set<String> hashes, boolean blank) {
    }

    /** @throws IllegalArgumentException naming the first line that is not a hash */
    static Parsed parse(String text) {
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
        return new Parsed(Set.copyOf(parsed), text.isBlank());
    }

    private String text(byte[] content) throws CharacterCodingException {
        return kind.equals("file") ? fileText(content) : new String(content, StandardCharsets.UTF_8);
    }

    /** A file's text; one that is not UTF-8 is refused rather than read with its bad bytes replaced. */
    private static String fileText(byte[] content) throws CharacterCodingException {
        return ByteOrderMark.dropped(StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(content)).toString());
    }

    /** The file or URL, the hashes in force and how its reads went. */
    @Override
    public Status status() {
        return health.status(field, kind, location, Map.of("hashes", (long) hashes.size()));
    }

    /** Stops reading; a read in progress is interrupted, and waited for so that nothing is logged after. */
    @Override
    public void close() {
        checks.close();
    }

    /** Content with nothing in it where hashes are in force. */
    private static final class EmptiedException extends RuntimeException {
        EmptiedException() {
            super("emptied", null, false, false);
        }
    }

    /** A file, read when its version changed, or when the last read may have missed a rewrite within its tick. */
    private static final class FileReader implements Reader {
        private final Path file;
        private final Clock clock;
        /** The version of the file when its content was last taken; {@link FileVersion#NONE} to read it at the next check. */
        private FileVersion lastSeen = FileVersion.NONE;
        /** What the read in hand may remember: kept as {@link #lastSeen} once its content is taken. */
        private FileVersion seen = FileVersion.NONE;

        FileReader(Path file, Clock clock) {
            this.file = file;
            this.clock = clock;
        }

        @Override
        public Optional<byte[]> read() throws IOException {
            FileVersion version = FileVersion.ofRegularFile(file);
            if (version.equals(lastSeen)) {
                return Optional.empty();
            }
            seen = version.asReadAt(clock.instant());
            return Optional.of(Files.readAllBytes(file));
        }

        @Override
        public boolean settled(byte[] content) throws IOException {
            return Settling.settled(file, content);
        }

        @Override
        public void took() {
            lastSeen = seen;
        }
    }
}
