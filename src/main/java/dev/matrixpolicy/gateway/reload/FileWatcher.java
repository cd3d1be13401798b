package dev.matrixpolicy.gateway.reload;

import dev.matrixpolicy.gateway.files.FileVersion;
import dev.matrixpolicy.gateway.files.PeriodicCheck;
import dev.matrixpolicy.gateway.files.Settling;
import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.replies.Durations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Checks the watched files every interval by their content, read through symbolic links: a
 * Kubernetes ConfigMap or Secret volume updates a file by swapping the {@code ..data} link, which
 * changes neither the file's path nor, often, its size or modification time. A change, or a file
 * appearing or disappearing, asks for one reload once the content has held for a moment; a failed
 * reload is not retried until the content changes again. A change that a reload asked for otherwise
 * ({@code POST /actuator/reload}, the console's button) has read already is taken as seen, not
 * read again: that would log a refusal twice and count it twice.
 */
final class FileWatcher implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(FileWatcher.class);
    private static final String ABSENT = "absent";
    /** What no file's fingerprint is: the next check reloads a file taken so. */
    private static final String CHANGED_SINCE_READ = "changed since the reload read it";

    private final Reloader reloader;
    private final Duration interval;
    /** The checks since the last {@link #start()}; null while stopped. */
    private volatile PeriodicCheck checks;
    private Map<Path, String> seen = Map.of();
    /** What the last reload this watcher accounted for (its own, or one it took as seen) read. */
    private WatchedFiles accounted;
    /** Whether the watcher was started before: the first start takes the files as startup applied them. */
    private boolean started;

    FileWatcher(Reloader reloader, Duration interval) {
        this.reloader = Objects.requireNonNull(reloader, "reloader");
        this.interval = Objects.requireNonNull(interval, "interval");
    }

    /**
     * Starts the checks. The first start takes the files as the reloader read them while the gateway
     * started, not as they are now: a file changed in between (a ConfigMap update during a rollout) is
     * then seen by the first check, and applied or refused, where it would otherwise wait for the next
     * change. It costs the start no read of its own.
     */
    @Override
    public synchronized void start() {
        seen = started ? fingerprints(reloader.watchedFiles()) : reloader.startFingerprints();
        accounted = reloader.watched();
        started = true;
        if (reloader.watchedFiles().isEmpty()) {
            log.info("No configuration file on disk to watch: the packaged configuration serves, and only a restart"
                    + " changes it");
        } else {
            log.info("Watching {} for configuration changes every {}", reloader.watchedFiles(), Durations.format(interval));
        }
        checks = new PeriodicCheck("config-watcher", interval, interval);
        checks.start(this::check);
    }

    /** One check: a reload when any watched file's content differs from the last check's. */
    void check() {
        try {
            Map<Path, String> now = fingerprints(reloader.watchedFiles());
            if (!now.equals(seen) && settled(now)) {
                WatchedFiles last = reloader.watched();
                if (last != accounted && last.files().equals(List.copyOf(now.keySet()))
                        && now.keySet().stream().allMatch(last::holdsWhatWasRead)) {
                    // Another reload read these files as they are now: what it applied or refused stands.
                    seen = now;
                    accounted = last;
                    return;
                }
                reloader.reload("file", this::stopping);
                // What was read is what was applied. A file the reload began to watch is taken as it is now
                // only if it still holds what the reload found in it: a Secret's token file that arrives just
                // after the reload found it missing would otherwise count as seen, and never be applied. The
                // files and what was found in them come from one reload, this one or one that ended since.
                WatchedFiles watched = reloader.watched();
                Map<Path, String> applied = new LinkedHashMap<>();
                for (Path file : watched.files()) {
                    if (now.containsKey(file)) {
                        applied.put(file, now.get(file));
                    } else {
                        String taken = fingerprint(file); // before the question: a change after it is seen next check
                        applied.put(file, watched.holdsWhatWasRead(file) ? taken : CHANGED_SINCE_READ);
                    }
                }
                seen = applied;
                accounted = watched;
            }
        } catch (RuntimeException | Error unexpected) {
            if (stopping()) {
                return; // cut short by stop(): the interruption, not the files
            }
            // Whatever it was, said in the watcher's words; the next check comes as after any other.
            log.warn("Checking the configuration files failed: {}", unexpected.toString());
        }
    }

    /** Whether {@link #stop()} was called: what fails now was cut short by it. */
    private boolean stopping() {
        PeriodicCheck running = checks;
        return running == null || running.closing();
    }

    /**
     * Whether the changed files read the same once they had the time to {@linkplain Settling settle}.
     * A file copied over the old one is truncated, then written: caught in between, it would be
     * applied half written, or refused. A file still changing is left to the next check.
     */
    private boolean settled(Map<Path, String> changed) {
        return Settling.waited() && fingerprints(List.copyOf(changed.keySet())).equals(changed);
    }

    static Map<Path, String> fingerprints(List<Path> files) {
        Map<Path, String> fingerprints = new LinkedHashMap<>();
        for (Path file : files) {
            fingerprints.put(file, fingerprint(file));
        }
        return fingerprints;
    }

    /** The file's content as the watcher tells one version from another: the SHA-256 of its bytes, in hex; or why there are none. */
    static String fingerprint(Path file) {
        try {
            // a named pipe is never opened: that blocks until a writer comes, and every later check with it
            FileVersion.ofRegularFile(file);
            return Sha256.hexOf(Files.readAllBytes(file));
        } catch (NoSuchFileException gone) {
            return ABSENT;
        } catch (IOException unreadable) {
            return "unreadable: " + unreadable.getMessage();
        }
    }

    @Override
    public synchronized void stop() {
        if (checks != null) {
            checks.close();
            checks = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return checks != null;
    }
}
