package dev.matrixpolicy.gateway.modules.policylist;

import dev.matrixpolicy.gateway.outage.Outage;
import dev.matrixpolicy.gateway.policylist.PolicyIndex;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import dev.matrixpolicy.gateway.policylist.RuleChanges;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * What a {@link PolicyList} knows of one of its sources besides its configuration ({@link PolicyList.Slot})
 * and its rules in the index: its update waiting for the compiler, what the compiler last did with it,
 * and what it took over from the instance a reload replaced. The fields said to be the compiler's are
 * read and written on the instance's compiler thread only; the others are read from any thread.
 */
final class SlotState {
    /** The latest rules of the source, not compiled yet; the compiler takes them. */
    private final AtomicReference<Update> pending = new AtomicReference<>();
    /** Whether the index holds the rules of its last update, so that the next one may add to them. The compiler's. */
    boolean current;
    /**
     * Its latest rules while some of them are compiled as an added layer, for the whole compile that
     * folds the layer in; null otherwise. The compiler's.
     */
    Collection<PolicyRule> toFold;
    /** How many updates were compiled: a fold that finds a later one compiled is dropped. The compiler's. */
    long compiled;
    /** Whether its own rules were ever compiled here. The compiler's; read by readiness too. */
    volatile boolean ownRulesCompiled;
    /** What its rules that name every ID of a kind are, as last warned of; null when it has none. The compiler's. */
    String catchAll;

    /** When the instance this one replaced last read it: its rules serve here until this one's source reads; null if never. */
    volatile Instant inherited;
    /** Taken through another filter, the predecessor's index its rules were last compiled from. */
    volatile PolicyIndex filteredFrom;
    /** Taken over, the predecessor's failures count at the take-over. */
    volatile long failuresBefore;
    /** Whether a hand-on from the predecessor is queued on the compiler thread. */
    private final AtomicBoolean inheriting = new AtomicBoolean();

    /** Why the rules it last handed over are not in force (their compile failed), and since when; no run when they are. */
    final Outage notApplied;
    /** Its failed compiles, ever: part of its failures count, which stays when a later compile succeeds. */
    private final AtomicLong compileFailures = new AtomicLong();

    /** @param log the instance's logger, whose lines the compile failures' are */
    SlotState(Logger log) {
        this.notApplied = new Outage(log, Level.ERROR, InstantSource.system());
    }

    /**
     * A source's update, not compiled yet.
     *
     * @param rules   all of its rules it applies here
     * @param changes what it changes in its last update (and nothing else changed); null when not known
     */
    record Update(Collection<PolicyRule> rules, RuleChanges changes) {
        /** This update after an earlier one that was never compiled: what the two change together. */
        Update after(Update earlier) {
            if (earlier == null || changes == null) {
                return this;
            }
            return new Update(rules, earlier.changes == null ? null : earlier.changes.then(changes));
        }
    }

    /** Leaves an update for the compiler, after any still waiting; whether none was, so that a compile must be queued. */
    boolean offer(Update update) {
        return pending.getAndUpdate(update::after) == null;
    }

    /** The update waiting for the compiler, taken; null when none. */
    Update take() {
        return pending.getAndSet(null);
    }

    /** Whether an update waits for the compiler. */
    boolean hasPending() {
        return pending.get() != null;
    }

    /** Marks a hand-on from the predecessor queued; false when one is queued already. */
    boolean queueInheriting() {
        return inheriting.compareAndSet(false, true);
    }

    /** Marks the queued hand-on running: a later one must be queued again. */
    void inheritingRuns() {
        inheriting.set(false);
    }

    /** Counts a failed compile. */
    void compileFailed() {
        compileFailures.incrementAndGet();
    }

    /**
     * The source's health as its own source reports it, completed from here: until it has read, the
     * time of its predecessor's last good read, whose rules serve meanwhile; a failed compile as its error.
     */
    PolicySource.Status status(PolicySource.Status own) {
        Optional<Instant> lastSuccess = own.lastSuccess().or(() -> Optional.ofNullable(inherited));
        Optional<Outage.Run> failed = notApplied.run();
        // a counter: it never goes down, not even across a reload that keeps the source
        long failures = failuresBefore + own.failures() + compileFailures.get();
        return new PolicySource.Status(lastSuccess, own.lastError().or(() -> failed.map(Outage.Run::condition)),
                own.errorSince().or(() -> failed.map(Outage.Run::since)), failures);
    }
}
