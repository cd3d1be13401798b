package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.files.ContentVerdicts;
import dev.matrixpolicy.gateway.files.PeriodicCheck;
import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.outage.Outage;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A source read again every {@code interval} on a thread of its own: a file or a URL. Content the
 * same as the last good content (by its SHA-256) is not parsed again, and empty content is a failed
 * read, not a list with no rules: a file caught while it is rewritten, or a server's mistake, would
 * otherwise lift every ban at once. A failed read keeps the last good rules, logs one WARN when the
 * source starts failing (or fails differently) and one INFO when it recovers.
 */
abstract class PollingSource implements PolicySource {
    private static final Logger log = LoggerFactory.getLogger(PollingSource.class);

    private final String name;
    private final Clock clock;
    /** Whether {@link #start} makes the first read itself, on its caller's thread. */
    private final boolean firstReadInStart;
    private final PeriodicCheck checks;
    private volatile Status status = Status.STARTING;
    /** The failed reads in a row, and the lines that say so. */
    private final Outage outage;
    private volatile boolean redeliver;
    /** The content whose rules were last handed over, and the content refused (it does not parse, or holds no rule). */
    private final ContentVerdicts verdicts = new ContentVerdicts();
    /** The checks ended so far, whatever they found. */
    private final AtomicLong checksEnded = new AtomicLong();

    /**
     * @param firstReadInStart whether {@link #start} makes the first read on its caller's thread, which a
     *                         source on this machine (a file) can afford; else it is the check thread's first
     */
    PollingSource(String name, Duration interval, Clock clock, boolean firstReadInStart) {
        this.name = Objects.requireNonNull(name, "name");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.firstReadInStart = firstReadInStart;
        this.outage = new Outage(log, Level.WARN, clock);
        this.checks = new PeriodicCheck("policy-source-" + name, firstReadInStart ? interval : Duration.ZERO, interval);
    }

    /** What one check of the source found. */
    sealed interface Read {
        /** The content is as it was when last {@linkplain #took taken}: a good read. */
        Read UNCHANGED = new Unchanged();
        /** The content is changing still (a file being written): neither a read nor a failure, until the next check. */
        Read CHANGING = new Changing();

        /** Content that may differ from the last taken. */
        record Content(byte[] bytes) implements Read {
        }

        record Unchanged() implements Read {
        }

        record Changing() implements Read {
        }
    }

    /**
     * Reads the source if it may have changed since the content was last {@linkplain #took taken}.
     *
     * @throws Exception anything that makes this read fail; its message is logged and shown
     */
    abstract Read readIfChanged() throws Exception;

    /**
     * The content the last {@link #readIfChanged} returned was taken: its rules handed over, or the
     * same as those in force. What tells the next read whether the source changed (a modification
     * time, an {@code ETag}) may now be kept; until then a bad read is read again, and fails again.
     */
    abstract void took();

    /** Forgets what tells whether the source changed, so the next check reads the content again. */
    abstract void forget();

    /** Where the source is, for log lines, e.g. the path or URL. */
    abstract String location();

    /**
     * What a failed read shows in the status and the WARN line: by default its {@linkplain Status#describe
     * message}. A source may say it in its own words, naming where it is as it does: then the line does
     * not name it again.
     */
    String problem(Throwable failed) {
        return Status.describe(failed);
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final void start(Listener listener) {
        if (firstReadInStart) {
            poll(listener);
        }
        checks.start(() -> poll(listener));
    }

    @Override
    public final Status status() {
        return status;
    }

    /**
     * How many checks of the source have ended, whatever they found: a check counted is done with what it
     * read (its rules handed over, its status set). Tests wait on it.
     */
    long checksEnded() {
        return checksEnded.get();
    }

    @Override
    public final void redeliver() {
        redeliver = true;
    }

    private void poll(Listener listener) {
        try {
            check(listener);
        } finally {
            checksEnded.incrementAndGet();
        }
    }

    private void check(Listener listener) {
        try {
            if (redeliver) {
                redeliver = false;
                forgetAll();
            }
            Read read;
            try {
                read = readIfChanged();
            } catch (Exception unreadable) {
                verdicts.readFailed();
                throw unreadable;
            }
            if (checks.closing()) {
                return; // a read that outlasted close() (a file's is not interrupted): handed to no one, said by no line
            }
            switch (read) {
                case Read.Changing changing -> {
                    return; // the status stays as it is: no read happened
                }
                case Read.Content content -> {
                    if (!take(content.bytes(), listener)) {
                        return; // the content refused already: the status keeps saying why
                    }
                }
                case Read.Unchanged unchanged -> {
                    // a good read of the rules in force
                }
            }
            outage.worksAgain("Policy list source '{}' ({}) reads again, after {} failed attempt(s) since {}", name, location());
            status = status.succeeded(clock.instant());
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
        } catch (Exception | Error failed) {
            if (checks.closing()) { // cut short by close(): an HTTP body's read ends "closed" or with the interruption as its cause
                return;
            }
            // An Error too: one that escaped would be logged by PeriodicCheck alone, while this source's status
            // still showed the last success. A read that ran out of memory is retried at the next check.
            String error = problem(failed);
            String where = error.startsWith(location()) ? "" : " (" + location() + ")";
            outage.failed(error).loud("Policy list source '{}'{} could not be read, keeping its last good rules: {}",
                    name, where, error);
            status = status.failed(clock.instant(), error);
        }
    }

    /**
     * Hands the content's rules over unless they are those in force already.
     *
     * @return false for the content refused already, which is neither parsed nor taken
     */
    private boolean take(byte[] content, Listener listener) {
        byte[] digest = Sha256.of(content);
        if (verdicts.isRefused(digest)) {
            return false;
        }
        if (!verdicts.isInForce(digest)) {
            RuleText.Parsed parsed;
            try {
                parsed = RuleText.parse(content, name);
            } catch (IllegalArgumentException refused) {
                verdicts.refuse(digest);
                throw refused;
            }
            try {
                listener.updated(this, parsed.rules(), parsed.skipped());
            } catch (RuntimeException | Error notTaken) {
                forgetAll();
                throw notTaken;
            }
            verdicts.took(digest);
        }
        took();
        return true;
    }

    /** Forgets everything about the last read: its rules were not taken, so the next check hands them over again. */
    private void forgetAll() {
        verdicts.forget();
        forget();
    }

    @Override
    public void close() {
        checks.close();
    }
}
