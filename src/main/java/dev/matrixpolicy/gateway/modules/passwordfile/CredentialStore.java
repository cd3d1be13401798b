package dev.matrixpolicy.gateway.modules.passwordfile;

import dev.matrixpolicy.gateway.files.ContentVerdicts;
import dev.matrixpolicy.gateway.files.FileVersion;
import dev.matrixpolicy.gateway.files.Settling;
import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.matrix.ByteOrderMark;
import dev.matrixpolicy.gateway.files.FileReadProblem;
import dev.matrixpolicy.gateway.module.ListSource;
import dev.matrixpolicy.gateway.modules.passwordfile.Credentials.InvalidCredentialsException;
import dev.matrixpolicy.gateway.outage.Outage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The current credentials of one {@code password_file} instance: the inline users plus the file's,
 * reloaded when the file changes. At most once per check interval, a login looks at the file's
 * {@link FileVersion}: its modification time, size and identity (a Kubernetes Secret update swaps the
 * file); a changed file is read again, and its content, unless it is the content loaded, is applied
 * once it has {@linkplain Settling settled}. One login does the check while the others go on with what
 * is loaded.
 *
 * <p>As {@code module.UserListFile} does: a file rewritten within the modification-time tick of its
 * last read (a bcrypt hash changed for another keeps the size) is caught by reading it at every check
 * until a read starts {@link FileVersion#AMBIGUOUS} after its modification time; a read that fails is
 * tried again at every check (permissions fixed with {@code chmod} change neither time nor size); content
 * that does not parse, is not UTF-8 or is emptied is refused, and judged again only once the content
 * changes (or after a failed read, so that what the status shows is always the last problem). Each keeps the
 * previous credentials. As every reader does, through {@link Outage}: one WARN line (and one count of
 * the {@code rejected} reloads) per broken version and problem, DEBUG while a check fails alike, and
 * one INFO line when the file reads again.
 */
final class CredentialStore implements ListSource {
    private static final Logger log = LoggerFactory.getLogger(CredentialStore.class);

    private final String instance;
    private final Optional<Path> file;
    private final Map<String, PasswordHash> inline;
    private final PasswordHash.Limits limits;
    private final Argon2Budget argon2Memory;
    private final long checkEveryNanos;
    private final LongSupplier nanoTime;
    private final ReentrantLock checking = new ReentrantLock();
    private final Counter loaded;
    private final Counter rejected;
    private final ListSource.Health health = new ListSource.Health();
    private final Clock clock;

    private volatile Loaded current;
    private volatile long nextCheck;
    /**
     * The file's content in force and the content refused, by SHA-256: refused content read again is not settled,
     * parsed or warned about again while it stays; guarded by {@link #checking}.
     */
    private final ContentVerdicts verdicts = new ContentVerdicts();
    /** The failed checks in a row, and the lines that say so. */
    private final Outage outage;

    /**
     * @param version the file's version as its read may remember it ({@link FileVersion#NONE} to read
     *                it at the next check, and when there is no file)
     */
    private record Loaded(Credentials credentials, FileVersion version) {
    }

    /** A credentials source that cannot be used; the message names the file or user, never a secret. */
    static final class UnusableCredentialsException extends Exception {
        private final String field;

        UnusableCredentialsException(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }

        /** The configuration key at fault: {@code file} or {@code users.<name>}. */
        String field() {
            return field;
        }
    }

    /**
     * Loads the credentials once; startup stops if they are unusable. For an instance a reload builds to
     * replace {@code before}, which read the same file, the read is as careful as a check's, since
     * {@code before}'s users log in until this one serves: it waits for the file to {@linkplain Settling
     * settle}, and refuses it emptied where {@code before}'s version held users (the reload is refused).
     *
     * @param argon2Memory the argon2id budget the dummy hashes are made within, here and at each reload
     * @throws UnusableCredentialsException when the file cannot be read, is emptied or still being written
     *         (on a reload), or a hash is refused
     */
    CredentialStore(String instance, Optional<Path> file, Map<String, String> inline, PasswordHash.Limits limits, Argon2Budget argon2Memory,
                    Duration checkEvery, LongSupplier nanoTime, Clock clock, MeterRegistry meters, Consumer<MeterBinder> stateMeters,
                    Optional<CredentialStore> before) throws UnusableCredentialsException {
        this.instance = instance;
        this.clock = clock;
        this.outage = new Outage(log, Level.WARN, clock);
        this.file = file;
        this.limits = limits;
        this.argon2Memory = argon2Memory;
        this.checkEveryNanos = checkEvery.toNanos();
        this.nanoTime = nanoTime;
        try {
            this.inline = Credentials.parseInline(inline, limits);
        } catch (InvalidCredentialsException refused) {
            throw new UnusableCredentialsException("users." + refused.where(), refused.problem());
        }
        try {
            if (file.isPresent()) {
                Path path = file.get();
                // a pipe, opened, would hold the startup (or a login, when the file is looked at again) until a writer came
                FileVersion version = FileVersion.ofRegularFile(path).asReadAt(clock.instant());
                Optional<CredentialStore> sameFile = before.filter(store -> store.file.equals(file));
                byte[] content = sameFile.isEmpty() ? Files.readAllBytes(path) : Settling.read(path, () -> {
                    byte[] read = Files.readAllBytes(path);
                    return Settling.settled(path, read) ? Optional.of(read) : Optional.empty();
                });
                List<String> lines = lines(content);
                if (lines.stream().allMatch(String::isBlank)) {
                    if (sameFile.filter(CredentialStore::fileHeldUsers).isPresent()) {
                        throw new UnusableCredentialsException("file", FileReadProblem.emptied(path, "user"));
                    }
                    log.warn("{} '{}': {}", PasswordFileModuleType.NAME, instance, FileReadProblem.emptyAtStartup(path, "user"));
                }
                this.current = new Loaded(read(lines, Optional.empty()), version);
                verdicts.took(Sha256.of(content));
            } else {
                this.current = new Loaded(read(List.of(), Optional.empty()), FileVersion.NONE);
            }
        } catch (IOException unreadable) {
            throw new UnusableCredentialsException("file", FileReadProblem.of(file.orElseThrow(), unreadable));
        } catch (InvalidCredentialsException refused) {
            throw new UnusableCredentialsException(file.isPresent() ? "file" : "users",
                    file.map(path -> path + " ").orElse("") + refused.getMessage());
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
            throw new UnusableCredentialsException(file.isPresent() ? "file" : "users",
                    "interrupted while making the dummy hashes unknown users are checked against; try again");
        }
        this.nextCheck = nanoTime.getAsLong() + checkEveryNanos;
        health.succeeded(clock.instant());
        this.loaded = Counter.builder("policy.module.credentials.reloads").description("Password file reloads")
                .tags("module", instance, "outcome", "loaded").register(meters);
        this.rejected = Counter.builder("policy.module.credentials.reloads").description("Password file reloads")
                .tags("module", instance, "outcome", "rejected").register(meters);
        stateMeters.accept(registry -> Gauge.builder("policy.module.credentials", this,
                        store -> store.current.credentials().users().size())
                .description("Users a password_file instance knows").tags("module", instance)
                .strongReference(true).register(registry));
    }

    /** Whether the file's version in force holds users beside the inline ones: an emptied file is then refused. */
    private boolean fileHeldUsers() {
        return current.credentials().users().size() > inline.size();
    }

    /** The credentials to check a login against, reloaded first if the file changed and a check is due. */
    Credentials current() {
        if (file.isPresent() && nanoTime.getAsLong() - nextCheck >= 0 && checking.tryLock()) {
            try {
                reloadIfChanged(file.get());
            } finally {
                nextCheck = nanoTime.getAsLong() + checkEveryNanos;
                checking.unlock();
            }
        }
        return current.credentials();
    }

    private void reloadIfChanged(Path path) {
        FileVersion version;
        try {
            version = FileVersion.ofRegularFile(path);
        } catch (IOException unreadable) {
            verdicts.readFailed();
            reject(FileVersion.NONE, FileReadProblem.of(path, unreadable)); // warned about once until it is back
            return;
        }
        if (version.equals(current.version())) {
            succeeded(path);
            return;
        }
        FileVersion seen = version.asReadAt(clock.instant());
        byte[] digest = new byte[0];
        try {
            byte[] content = Files.readAllBytes(path);
            digest = Sha256.of(content);
            if (verdicts.isInForce(digest)) {
                current = new Loaded(current.credentials(), seen); // the credentials loaded: only the attributes moved
                succeeded(path);
                return;
            }
            if (verdicts.isRefused(digest)) {
                return; // warned about when it was read; it fails still
            }
            if (!Settling.settled(path, content)) {
                return; // still being written: the next check reads it again
            }
            List<String> lines = lines(content);
            if (lines.stream().allMatch(String::isBlank) && fileHeldUsers()) {
                // truncated, or caught before its writer wrote a byte: a file meant to hold no users says so in a comment
                verdicts.refuse(digest);
                reject(version, FileReadProblem.emptied(path, "user"));
                return;
            }
            Credentials fresh = read(lines, Optional.of(current.credentials()));
            current = new Loaded(fresh, seen);
            verdicts.took(digest);
            loaded.increment();
            log.info("{} '{}': loaded {} users from {}", PasswordFileModuleType.NAME, instance, fresh.users().size(), path);
            succeeded(path);
        } catch (CharacterCodingException notUtf8) {
            verdicts.refuse(digest);
            reject(version, FileReadProblem.of(path, notUtf8));
        } catch (IOException unreadable) {
            verdicts.readFailed();
            reject(version, FileReadProblem.of(path, unreadable));
        } catch (InvalidCredentialsException refused) {
            verdicts.refuse(digest);
            reject(version, path + " " + refused.getMessage());
        } catch (InterruptedException stopped) {
            // the login stopped waiting for the argon2id budget a new cost's dummy takes: the next check reads it again
            Thread.currentThread().interrupt();
        }
    }

    /** The file holds the credentials loaded: warn again if it breaks again. */
    private void succeeded(Path path) {
        verdicts.stillInForce();
        health.succeeded(clock.instant());
        outage.worksAgain("{} '{}': {} reads again, after {} failed attempt(s) since {}", PasswordFileModuleType.NAME, instance, path);
    }

    private void reject(FileVersion version, String problem) {
        health.failed(problem);
        // a new broken version is news even with the same problem: warned about and counted once per version and problem
        Outage.Failure failure = outage.failed(version + ": " + problem);
        if (failure.news()) {
            rejected.increment();
        }
        int users = current.credentials().users().size();
        failure.loud("{} '{}': keeping the {} users loaded before; {}", PasswordFileModuleType.NAME, instance, users, problem);
        failure.quiet("{} '{}': still keeping the {} users loaded before ({} failed checks); {}", PasswordFileModuleType.NAME,
                instance, users, failure.failures(), problem);
    }

    /** Whether there is a file to watch: an instance with inline users only has none. */
    boolean watchesFile() {
        return file.isPresent();
    }

    /** The file, the users known (the inline ones included) and how its reads went; as of the last login's check. */
    @Override
    public Status status() {
        return health.status("file", "file", file.map(Path::toString).orElse(""),
                Map.of("users", (long) current.credentials().users().size()));
    }

    /** The file's lines; a file that is not UTF-8 is refused rather than read with its bad bytes replaced. */
    private static List<String> lines(byte[] content) throws CharacterCodingException {
        return ByteOrderMark.dropped(StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(content)).toString().lines().toList());
    }

    private Credentials read(List<String> fileLines, Optional<Credentials> previous) throws InvalidCredentialsException, InterruptedException {
        return Credentials.of(inline, Credentials.parseFile(fileLines, limits), previous, argon2Memory);
    }
}
