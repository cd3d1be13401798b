package dev.matrixpolicy.gateway.modules.passwordfile;

import dev.matrixpolicy.gateway.files.FileVersion;
import dev.matrixpolicy.gateway.matrix.ByteOrderMark;
import dev.matrixpolicy.gateway.module.FileReadProblem;
import dev.matrixpolicy.gateway.module.ListSource;
import dev.matrixpolicy.gateway.modules.passwordfile.Credentials.InvalidCredentialsException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current credentials of one {@code password_file} instance: the inline users plus the file's,
 * reloaded when the file changes. At most once per check interval, a login looks at the file's
 * {@link FileVersion}: its modification time, size and identity (a Kubernetes Secret update swaps the
 * file); a changed file is read again. A file that no longer reads or parses, or that is emptied,
 * keeps the previous credentials and logs one WARN line, once per broken version. One login does the
 * check while the others go on with what is loaded.
 */
final class CredentialStore implements ListSource {
    private static final Logger log = LoggerFactory.getLogger(CredentialStore.class);

    private final String instance;
    private final Optional<Path> file;
    private final Map<String, PasswordHash> inline;
    private final PasswordHash.Limits limits;
    private final long checkEveryNanos;
    private final LongSupplier nanoTime;
    private final ReentrantLock checking = new ReentrantLock();
    private final Counter loaded;
    private final Counter rejected;
    private final ListSource.Health health = new ListSource.Health();

    private volatile Loaded current;
    private volatile long nextCheck;
    /** The broken file version already warned about; guarded by {@link #checking}. */
    private FileVersion rejectedVersion;

    private record Loaded(Credentials credentials, Optional<FileVersion> version) {
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
     * Loads the credentials once; startup stops if they are unusable.
     *
     * @throws UnusableCredentialsException when the file cannot be read or a hash is refused
     */
    CredentialStore(String instance, Optional<Path> file, Map<String, String> inline, PasswordHash.Limits limits,
                    Duration checkEvery, LongSupplier nanoTime, MeterRegistry meters, Consumer<MeterBinder> stateMeters)
            throws UnusableCredentialsException {
        this.instance = instance;
        this.file = file;
        this.limits = limits;
        this.checkEveryNanos = checkEvery.toNanos();
        this.nanoTime = nanoTime;
        try {
            this.inline = Credentials.parseInline(inline, limits);
        } catch (InvalidCredentialsException refused) {
            throw new UnusableCredentialsException("users." + refused.where(), refused.problem());
        }
        Optional<FileVersion> version = Optional.empty();
        try {
            if (file.isPresent()) {
                version = Optional.of(FileVersion.of(file.get()));
            }
            this.current = new Loaded(read(file.isPresent() ? lines(file.get()) : List.of(),
                    Optional.empty()), version);
        } catch (IOException unreadable) {
            throw new UnusableCredentialsException("file", FileReadProblem.of(file.orElseThrow(), unreadable));
        } catch (InvalidCredentialsException refused) {
            throw new UnusableCredentialsException(file.isPresent() ? "file" : "users",
                    file.map(path -> path + " ").orElse("") + refused.getMessage());
        }
        this.nextCheck = nanoTime.getAsLong() + checkEveryNanos;
        health.succeeded(Instant.now());
        this.loaded = Counter.builder("policy.module.credentials.reloads").description("Password file reloads")
                .tags("module", instance, "outcome", "loaded").register(meters);
        this.rejected = Counter.builder("policy.module.credentials.reloads").description("Password file reloads")
                .tags("module", instance, "outcome", "rejected").register(meters);
        stateMeters.accept(registry -> Gauge.builder("policy.module.credentials", this,
                        store -> store.current.credentials().users().size())
                .description("Users a password_file instance knows").tags("module", instance)
                .strongReference(true).register(registry));
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
            version = FileVersion.of(path);
        } catch (IOException unreadable) {
            reject(FileVersion.NONE, FileReadProblem.of(path, unreadable)); // warned about once until it is back
            return;
        }
        if (current.version().filter(version::equals).isPresent()) {
            rejectedVersion = null; // the loaded version is back: warn again if it breaks again
            health.succeeded(Instant.now());
            return;
        }
        if (version.equals(rejectedVersion)) {
            return;
        }
        try {
            List<String> lines = lines(path);
            if (lines.stream().allMatch(String::isBlank) && current.credentials().users().size() > inline.size()) {
                // truncated, or caught half-written: a file meant to hold no users says so in a comment
                reject(version, FileReadProblem.emptied(path, "user"));
                return;
            }
            Credentials fresh = read(lines, Optional.of(current.credentials()));
            current = new Loaded(fresh, Optional.of(version));
            rejectedVersion = null;
            health.succeeded(Instant.now());
            loaded.increment();
            log.info("{} '{}': loaded {} users from {}", PasswordFileModuleType.NAME, instance, fresh.users().size(), path);
        } catch (IOException unreadable) {
            reject(version, FileReadProblem.of(path, unreadable));
        } catch (InvalidCredentialsException refused) {
            reject(version, path + " " + refused.getMessage());
        }
    }

    private void reject(FileVersion version, String problem) {
        if (!version.equals(rejectedVersion)) {
            rejectedVersion = version;
            rejected.increment();
            health.failed(problem);
            log.warn("{} '{}': keeping the {} users loaded before; {}", PasswordFileModuleType.NAME, instance,
                    current.credentials().users().size(), problem);
        }
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

    private static List<String> lines(Path path) throws IOException {
        return ByteOrderMark.dropped(Files.readAllLines(path, StandardCharsets.UTF_8));
    }

    private Credentials read(List<String> fileLines, Optional<Credentials> previous) throws InvalidCredentialsException {
        return Credentials.of(inline, Credentials.parseFile(fileLines, limits), previous);
    }
}
