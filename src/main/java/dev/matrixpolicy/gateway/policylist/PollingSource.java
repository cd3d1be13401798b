package dev.matrixpolicy.gateway.policylist;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A source read again every {@code interval} on a thread of its own: a file or a URL. Unchanged
 * content is not parsed again; a failed read keeps the last good rules, logs one WARN when the
 * source starts failing (or fails differently) and one INFO when it recovers.
 */
abstract class PollingSource implements PolicySource {
    private static final Logger log = LoggerFactory.getLogger(PollingSource.class);

    private final String name;
    private final Duration interval;
    private final Clock clock;
    private final ScheduledExecutorService thread;
    private volatile Status status = Status.STARTING;
    private volatile boolean redeliver;

    PollingSource(String name, Duration interval, Clock clock) {
        this.name = Objects.requireNonNull(name, "name");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.thread = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon()
                .name("policy-source-" + name).factory());
    }

    /**
     * Reads the source if it changed since the last read.
     *
     * @return the rules, or empty when the content is unchanged
     * @throws Exception anything that makes this read fail; its message is logged and shown
     */
    abstract Optional<RuleText.Parsed> readIfChanged() throws Exception;

    /**
     * Forgets what was last read, so the next check reads the content and hands it over even if it did
     * not change: the last rules read were not taken.
     */
    abstract void forget();

    /** Where the source is, for log lines, e.g. the path or URL. */
    abstract String location();

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final void start(Listener listener) {
        thread.scheduleWithFixedDelay(() -> poll(listener), 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public final Status status() {
        return status;
    }

    @Override
    public final void redeliver() {
        redeliver = true;
    }

    private void poll(Listener listener) {
        try {
            if (redeliver) {
                redeliver = false;
                forget();
            }
            Optional<RuleText.Parsed> parsed = readIfChanged();
            if (parsed.isPresent()) {
                try {
                    listener.updated(this, parsed.get().rules(), parsed.get().skipped());
                } catch (RuntimeException | Error notTaken) {
                    forget();
                    throw notTaken;
                }
            }
            if (status.lastError().isPresent()) {
                log.info("Policy list source '{}' ({}) reads again", name, location());
            }
            status = status.succeeded(clock.instant());
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
        } catch (Exception | Error failed) {
            // An Error too: one that escaped would end this source's schedule for good, silently, while its
            // status still showed the last success. A read that ran out of memory is retried at the next check.
            String error = Status.describe(failed);
            if (status.isNewError(error)) {
                log.warn("Policy list source '{}' ({}) could not be read, keeping its last good rules: {}", name, location(), error);
            }
            status = status.failed(clock.instant(), error);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
