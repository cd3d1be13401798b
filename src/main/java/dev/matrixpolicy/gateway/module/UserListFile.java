package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.files.ContentVerdicts;
import dev.matrixpolicy.gateway.files.FileReadProblem;
import dev.matrixpolicy.gateway.files.FileVersion;
import dev.matrixpolicy.gateway.files.PeriodicCheck;
import dev.matrixpolicy.gateway.files.Settling;
import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.matrix.ByteOrderMark;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.outage.Outage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A list of user IDs and globs in a file, for lists too long for the configuration (a million
 * entries), looked at again every check interval on a thread of its own; a request only reads the
 * matcher in force.
 *
 * <p>The format: one entry per line, an exact user ID or a glob as {@link UserIdMatcher#problemWith}
 * accepts it, optionally followed by white space and a {@code #} comment; blank lines and lines
 * starting with {@code #} are skipped. The file is streamed into the matcher, never held whole.
 *
 * <p>A check reads the file only when its {@link FileVersion} changed: its modification time, size or
 * identity (a Kubernetes ConfigMap swaps a symlink). It parses it only when its SHA-256 differs from
 * the content in force and stays the same for {@link Settling#SETTLE}, so a file being written is not
 * read half written. As {@code policylist.FileSource} does, a file rewritten within the
 * modification-time tick of its last read, at the same size, is caught by digesting it on every check
 * until a read starts {@link FileVersion#AMBIGUOUS} after its modification time. A version that cannot
 * be read or has a bad line keeps the list in force; a version with a bad line is not parsed again
 * until its content changes. As every reader does, through {@link Outage}: one WARN line naming the
 * file (and the line) when reading starts to fail or fails differently, DEBUG while it fails alike,
 * and one INFO line when the file reads again. A check cut short by {@link #close()} reports nothing:
 * neither a failure, nor a good read, nor a line.
 */
public final class UserListFile implements ListSource, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UserListFile.class);

    private final String instance;
    private final String field;
    private final Path file;
    private final List<String> alsoListed;
    private final Clock clock;
    private final PeriodicCheck checks;
    private volatile UserIdMatcher current;
    /** The version of the file last found to hold the content in force; {@link FileVersion#NONE} to read it at the next check. */
    private FileVersion lastSeen = FileVersion.NONE;
    /** The content in force and the content refused, by SHA-256: a refusal is warned about once, not on every check. */
    private final ContentVerdicts verdicts = new ContentVerdicts();
    /** How many entries the file's version in force holds (those of the configuration aside). */
    private int fileEntriesInForce;
    private long parses;
    private final ListSource.Health health = new ListSource.Health();
    /** The failed checks in a row, and the lines that say so. */
    private final Outage outage;

    private UserListFile(String instance, String field, Path file, List<String> alsoListed, Duration interval, Clock clock) {
        this.instance = instance;
        this.field = field;
        this.file = file;
        this.alsoListed = List.copyOf(alsoListed);
        this.clock = clock;
        this.outage = new Outage(log, Level.WARN, clock);
        this.checks = new PeriodicCheck("user-list-file-" + instance, interval, interval);
    }

    /**
     * The file's list, read now, together with {@code alsoListed} (entries from the configuration,
     * already checked); then checked again every {@code interval}.
     *
     * @param field the file's field, e.g. {@code users-file}
     * @throws ModuleConfigurationException naming the field, the file and, for a bad entry, its line,
     *         e.g. {@code users-file: /etc/gateway/denylist.txt line 3: 'evil.example' is not a valid Matrix user ID ...}
     */
    public static UserListFile watch(String instance, String field, Path file, List<String> alsoListed, Duration interval) {
        return watch(instance, field, file, alsoListed, interval, Optional.empty(), Clock.systemUTC());
    }

    /**
     * As {@link #watch(String, String, Path, List, Duration)}, for an instance a reload builds to
     * replace one that read a list file: when {@code predecessor} read the same file, the first read is
     * as careful as a check's, since the predecessor's list is in force until this one serves. It waits
     * for the content to {@linkplain Settling settle} (a file being rewritten in place is read again
     * until it holds still), and refuses a file emptied where the predecessor's version of it held
     * entries, in the words a check uses: the reload is refused, and the predecessor's bans stay.
     *
     * @throws ModuleConfigurationException also when the file is emptied, or still being written after
     *         {@link Settling#ATTEMPTS} reads
     */
    public static UserListFile watch(String instance, String field, Path file, List<String> alsoListed, Duration interval,
                                     Optional<UserListFile> predecessor) {
        return watch(instance, field, file, alsoListed, interval, predecessor, Clock.systemUTC());
    }

    static UserListFile watch(String instance, String field, Path file, List<String> alsoListed, Duration interval,
                              Optional<UserListFile> predecessor, Clock clock) {
        UserListFile list = new UserListFile(instance, field, file, alsoListed, interval, clock);
        try {
            Optional<Integer> entriesBefore = predecessor.filter(before -> before.file.equals(file)).map(UserListFile::fileEntries);
            if (entriesBefore.isPresent()) {
                list.readInstead(entriesBefore.get());
            } else {
                list.readFirst();
            }
        } catch (IOException | BadEntryException | EmptiedFileException failed) {
            list.close();
            throw new ModuleConfigurationException(field, message(file, failed), failed);
        }
        list.checks.start(list::reload);
        return list;
    }

    /** The list in force. */
    public UserIdMatcher current() {
        return current;
    }

    /** Looks at the file again and applies a changed, good version; synchronized, as a test may call it while the list's thread does. */
    public synchronized void reload() {
        try {
            Optional<UserIdMatcher> changed;
            try {
                changed = readIfChanged();
            } catch (StillWritten changing) {
                return; // neither a good read nor a failed one: the next check reads it again
            }
            if (checks.closing()) {
                return; // cut short by close(): the settle wait was interrupted, and what was read is served no more
            }
            changed.ifPresent(read -> {
                current = read;
                log.info("{}: {} exact user IDs and {} globs loaded from {}", instance, read.exactCount(), read.globCount(), file);
            });
            if (!verdicts.refusing()) { // else the file still holds the version refused
                health.succeeded(clock.instant());
                outage.worksAgain("{}: {} reads again, after {} failed attempt(s) since {}", instance, file);
            }
        } catch (IOException | UncheckedIOException | BadEntryException | EmptiedFileException failed) {
            if (checks.closing()) {
                return; // cut short by close(): the interruption, not the file
            }
            if ((failed instanceof IOException && !(failed instanceof CharacterCodingException)) || failed instanceof UncheckedIOException) {
                verdicts.readFailed();
            }
            String problem = message(file, failed);
            health.failed(problem);
            Outage.Failure failure = outage.failed(problem);
            failure.loud("{}: keeping the {} exact user IDs and {} globs loaded before; {}", instance, current.exactCount(),
                    current.globCount(), problem);
            failure.quiet("{}: still keeping the {} exact user IDs and {} globs loaded before ({} failed checks); {}", instance,
                    current.exactCount(), current.globCount(), failure.failures(), problem);
        }
    }

    /** The file, the entries in force (those of the configuration included) and how its reads went. */
    @Override
    public Status status() {
        UserIdMatcher list = current;
        return health.status(field, "file", file.toString(), Map.of("exact", (long) list.exactCount(), "glob", (long) list.globCount()));
    }

    /** How many times the file was parsed, for the tests of what is not parsed again. */
    long parses() {
        return parses;
    }

    /** Stops looking at the file; a read in progress is interrupted, and waited for so that nothing is logged after. */
    @Override
    public void close() {
        checks.close();
    }

    /** At startup: the file as it is now, parsed at once (nothing is in force to keep). */
    private synchronized void readFirst() throws IOException {
        FileVersion seen = FileVersion.ofRegularFile(file).asReadAt(clock.instant());
        long started = System.nanoTime();
        Parsed parsed = parse();
        current = parsed.matcher();
        fileEntriesInForce = parsed.fileEntries();
        log.info("{}: {} exact user IDs and {} globs loaded from {} in {} ms", instance, current.exactCount(),
                current.globCount(), file, (System.nanoTime() - started) / 1_000_000);
        if (parsed.blank()) {
            log.warn("{}: {}", instance, FileReadProblem.emptyAtStartup(file, "entry"));
        }
        lastSeen = seen;
        verdicts.took(parsed.digest());
        health.succeeded(clock.instant());
    }

    /**
     * On a reload, in place of an instance whose version of the file held {@code entriesBefore}
     * entries: the file read as a check reads it, again while it is being written.
     *
     * @throws IOException also when the file is still being written after {@link Settling#ATTEMPTS} reads
     */
    private synchronized void readInstead(int entriesBefore) throws IOException {
        fileEntriesInForce = entriesBefore; // what an emptied file is refused against
        long started = System.nanoTime();
        current = Settling.read(file, () -> {
            try {
                return readIfChanged();
            } catch (StillWritten changing) {
                return Optional.empty();
            }
        });
        log.info("{}: {} exact user IDs and {} globs loaded from {} in {} ms", instance, current.exactCount(),
                current.globCount(), file, (System.nanoTime() - started) / 1_000_000);
        health.succeeded(clock.instant());
    }

    /** How many entries the file's version in force holds. */
    private synchronized int fileEntries() {
        return fileEntriesInForce;
    }

    /**
     * @return the list the file holds now, or empty when it holds the list in force or content refused already
     * @throws StillWritten when the file changed while it was read
     */
    private Optional<UserIdMatcher> readIfChanged() throws IOException, StillWritten {
        FileVersion version = FileVersion.ofRegularFile(file);
        if (version.equals(lastSeen)) {
            verdicts.stillInForce(); // the version of the list in force, back (a backup restored with its time)
            return Optional.empty();
        }
        FileVersion seen = version.asReadAt(clock.instant());
        byte[] digest = digest();
        if (verdicts.isInForce(digest)) {
            lastSeen = seen; // the list in force already: only the attributes moved, or a refused version was undone
            return Optional.empty();
        }
        if (verdicts.isRefused(digest) || !Settling.waited()) {
            return Optional.empty(); // a version refused already was warned about when it was read
        }
        Parsed parsed;
        try {
            parsed = parse();
        } catch (BadEntryException | CharacterCodingException bad) {
            verdicts.refuse(digest);
            throw bad;
        }
        if (!Arrays.equals(parsed.digest(), digest)) {
            throw new StillWritten();
        }
        if (parsed.blank() && fileEntriesInForce > 0) {
            // truncated, or caught before its writer wrote a byte: a list meant to be empty says so in a comment
            verdicts.refuse(digest);
            throw new EmptiedFileException();
        }
        fileEntriesInForce = parsed.fileEntries();
        lastSeen = seen; // only once the content was good: a bad file is read again on the next check
        verdicts.took(digest);
        return Optional.of(parsed.matcher());
    }

    private byte[] digest() throws IOException {
        MessageDigest digest = Sha256.digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, read);
            }
        }
        return digest.digest();
    }

    /**
     * @param fileEntries the file's own entries
     * @param blank       whether the file holds nothing but white space, not even a comment
     */
    private record Parsed(UserIdMatcher matcher, byte[] digest, int fileEntries, boolean blank) {
    }

    /** Streams the file into a matcher, digesting the bytes it parses so that a rewrite while parsing shows. */
    private Parsed parse() throws IOException {
        parses++;
        // every line holds its entry and a line break, as much room as the entry and its length take
        long room = Files.size(file) + alsoListed.stream().mapToLong(entry -> entry.length() + 3L).sum();
        UserIdMatcher.Builder builder = new UserIdMatcher.Builder(room);
        alsoListed.forEach(builder::add);
        MessageDigest digest = Sha256.digest();
        int entries = 0;
        boolean blank = true;
        // strict: a file saved in another encoding is refused, as every list file is, not read with U+FFFD in its IDs
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(
                new DigestInputStream(Files.newInputStream(file), digest), StandardCharsets.UTF_8.newDecoder()), 1 << 16)) {
            int number = 0;
            for (String line; (line = lines.readLine()) != null; ) {
                number++;
                String text = number == 1 ? ByteOrderMark.dropped(line) : line;
                blank &= text.isBlank();
                Optional<String> entry = entry(text, number);
                if (entry.isPresent()) {
                    builder.add(entry.get());
                    entries++;
                }
            }
        }
        return new Parsed(builder.build(), digest.digest(), entries, blank);
    }

    /** The entry of a line, or empty for a blank or comment line. */
    private static Optional<String> entry(String line, int number) {
        int start = 0;
        int end = line.length();
        while (start < end && Character.isWhitespace(line.charAt(start))) {
            start++;
        }
        if (start == end || line.charAt(start) == '#') {
            return Optional.empty();
        }
        int entryEnd = start;
        while (entryEnd < end && !Character.isWhitespace(line.charAt(entryEnd))) {
            entryEnd++;
        }
        String entry = line.substring(start, entryEnd);
        int rest = entryEnd;
        while (rest < end && Character.isWhitespace(line.charAt(rest))) {
            rest++;
        }
        if (rest < end && line.charAt(rest) != '#') {
            throw new BadEntryException(number, LogText.quoted(line.strip()) + " holds more than one entry: one entry a line, and a comment "
                    + "after an entry starts with '#'");
        }
        Optional<String> problem = UserIdMatcher.problemWith(entry);
        if (problem.isPresent()) {
            // the line as written, control characters escaped: the message reaches the operator's terminal
            throw new BadEntryException(number, problem.get().startsWith("'") ? problem.get() : LogText.quoted(entry) + ": " + problem.get());
        }
        return Optional.of(entry);
    }

    private static String message(Path file, Exception failed) {
        return switch (failed) {
            case BadEntryException bad -> file + " line " + bad.line + ": " + bad.getMessage() + "; correct the line or remove it";
            case EmptiedFileException emptied -> FileReadProblem.emptied(file, "entry");
            case IOException unreadable -> FileReadProblem.of(file, unreadable);
            default -> file + " cannot be read (" + failed.getMessage() + "): check the path and the file's permissions";
        };
    }

    /** A file that changed between its digest and its parse: still being written. */
    private static final class StillWritten extends Exception {
        StillWritten() {
            super("still being written", null, false, false);
        }
    }

    /** A file emptied where the version in force held entries. */
    private static final class EmptiedFileException extends RuntimeException {
        EmptiedFileException() {
            super("emptied", null, false, false);
        }
    }

    /** A line that is not an entry, a blank or a comment. */
    private static final class BadEntryException extends RuntimeException {
        private final int line;

        BadEntryException(int line, String problem) {
            super(problem, null, false, false);
            this.line = line;
        }
    }
}
