package dev.matrixpolicy.gateway.outage;

import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * Something that fails for a while and then works again (a source that cannot be read, a connection
 * that is lost, a queue that is full), and the lines that say so: the failure that starts a run is
 * logged loud (WARN, or ERROR), and so is one whose condition differs from the failure before it; the
 * others are quiet (DEBUG, or nothing); the first success after them is one INFO line, which may say
 * how many failed and since when. The caller supplies the words and its own logger, so each line
 * stays its class's.
 *
 * <p>Thread-safe without locks: of any number of threads failing and succeeding at once, exactly one
 * failure starts a run, and exactly one success ends it. A success while nothing fails costs one
 * volatile read, so it may sit on a hot path.
 */
public final class Outage {
    private static final Object[] NO_ARGUMENTS = {};
    private final Logger log;
    private final Level loud;
    private final InstantSource clock;
    /** The run of failures going on; null while it works. */
    private final AtomicReference<Run> run = new AtomicReference<>();

    /** An outage whose first failure is a WARN line. */
    public Outage(Logger log) {
        this(log, Level.WARN, InstantSource.system());
    }

    /**
     * @param loud  the level of the line of the failure that starts a run, or changes its condition:
     *              {@link Level#WARN}, or {@link Level#ERROR} for a bug
     * @param clock when a run starts
     */
    public Outage(Logger log, Level loud, InstantSource clock) {
        this.log = Objects.requireNonNull(log, "log");
        this.loud = Objects.requireNonNull(loud, "loud");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Failures in a row: the condition of the last, when the first was, and how many.
     *
     * @param condition what the last failure was, in words that stay the same while the cause does
     *                  (a message without the changing details): a new one is news
     */
    public record Run(String condition, Instant since, long failures) {
    }

    /** One failure: the run it is part of, and whether it is news. Its lines are logged through {@link #loud} and {@link #quiet}. */
    public final class Failure {
        private final Run run;
        private final boolean first;
        private final boolean news;

        private Failure(Run run, boolean first, boolean news) {
            this.run = run;
            this.first = first;
            this.news = news;
        }

        /** Whether this failure started its run. */
        public boolean first() {
            return first;
        }

        /** Whether this failure started its run, or its condition differs from the failure before it. */
        public boolean news() {
            return news;
        }

        /** How many failures in a row, this one included. */
        public long failures() {
            return run.failures();
        }

        /** This failure, news too when {@code also} holds (the caller's own reason, e.g. a far longer wait asked). */
        public Failure newsIf(boolean also) {
            return also && !news ? new Failure(run, first, true) : this;
        }

        /** Logs the line at the outage's loud level when this failure is news; a Throwable last in {@code args} is its cause. */
        public void loud(String words, Object... args) {
            if (news) {
                write(loud, words, args);
            }
        }

        /** Logs the line at DEBUG when this failure is no news. */
        public void quiet(String words, Object... args) {
            if (!news) {
                write(Level.DEBUG, words, args);
            }
        }
    }

    /** One failure with one condition only: a run's first is news, the rest are not. */
    public Failure failed() {
        return failed("");
    }

    /** One failure, of {@code condition}: counted in the run it starts or continues. */
    public Failure failed(String condition) {
        Objects.requireNonNull(condition, "condition");
        Instant now = clock.instant();
        while (true) {
            Run before = run.get();
            Run after = before == null ? new Run(condition, now, 1) : new Run(condition, before.since(), before.failures() + 1);
            if (run.compareAndSet(before, after)) {
                return new Failure(after, before == null, before == null || !before.condition().equals(condition));
            }
        }
    }

    /**
     * As {@link #worksAgain(String, Object...)} with no argument of the caller's: a call on a hot path while
     * nothing fails allocates nothing (not even the empty arguments' array).
     */
    public boolean worksAgain(String words) {
        return run.get() != null && worksAgain(words, NO_ARGUMENTS);
    }

    /**
     * It works: when it was failing, the run ends, and the INFO line is logged. The run's failures and
     * the time it started follow {@code args}, for the words to name or leave out, e.g. {@code "{}
     * reads again, after {} failed attempt(s) since {}"} with one argument of the caller's.
     *
     * @return whether a run ended
     */
    public boolean worksAgain(String words, Object... args) {
        if (run.get() == null) {
            return false;
        }
        Run ended = run.getAndSet(null);
        if (ended == null) {
            return false; // another thread ended it first
        }
        Object[] all = new Object[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = ended.failures();
        all[args.length + 1] = ended.since();
        log.info(words, all);
        return true;
    }

    /** Whether it is failing: a run of failures has not ended. */
    public boolean failing() {
        return run.get() != null;
    }

    /** The run of failures going on, if any. */
    public Optional<Run> run() {
        return Optional.ofNullable(run.get());
    }

    private void write(Level level, String words, Object... args) {
        switch (level) {
            case ERROR -> log.error(words, args);
            case WARN -> log.warn(words, args);
            case INFO -> log.info(words, args);
            case DEBUG -> log.debug(words, args);
            case TRACE -> log.trace(words, args);
        }
    }
}
