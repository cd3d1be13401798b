package dev.matrixpolicy.gateway.modules.policylist;

import com.google.common.util.concurrent.Uninterruptibles;
import dev.matrixpolicy.gateway.files.DaemonThreads;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.modules.policylist.PolicyList.Answers;
import dev.matrixpolicy.gateway.modules.policylist.PolicyList.Slot;
import dev.matrixpolicy.gateway.modules.policylist.SlotState.Update;
import dev.matrixpolicy.gateway.outage.Outage;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyEvents;
import dev.matrixpolicy.gateway.policylist.PolicyIndex;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import dev.matrixpolicy.gateway.policylist.RuleChanges;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PolicyList}'s one compiler thread and what it does: each source's latest rules compiled
 * into the index the instance serves (as an added layer while few change, folded in once the source
 * is quiet), a compile that fails kept out of force and shown, and a rule that names everyone warned
 * of. Once the instance is built, every index it serves is made on this thread (from its own
 * sources' updates, and from the rules it takes over from its predecessor), one at a time.
 */
final class Compiler {
    /** The instance's logger: its lines keep the name operators configure them by. */
    private static final Logger log = LoggerFactory.getLogger(PolicyList.class);

    /** The most rules added to or taken out of a source's compiled rules before it is compiled whole again, folding them in. */
    static final int MAX_CHANGED = 10_000;
    /**
     * How long after a source's last changes their layer is folded in by a whole compile, when no
     * update came since. A layer costs every lookup a probe of its tables (some 0.2 to 0.4 µs at the
     * median for a miss, in a benchmark at a million rules); a whole compile costs about a second of
     * the compiler thread, during which a new ban waits: so the layer stays through a burst of bans
     * and withdrawals and goes once the room is quiet.
     */
    static final Duration FOLD_AFTER = Duration.ofSeconds(10);

    private final PolicyList list;
    private final List<Slot> slots;
    private final List<SlotState> states;
    private final Answers answers;
    private final PolicyListMetrics metrics;
    private final ExecutorService thread;
    /** How long after a source's last added rules their layer is folded in, when no update came since. */
    private volatile Duration foldAfter = FOLD_AFTER;

    /** @param list the instance whose index this compiler makes, and which hands each source's new rules on */
    Compiler(PolicyList list, List<Slot> slots, List<SlotState> states, Answers answers, PolicyListMetrics metrics) {
        this.list = list;
        this.slots = slots;
        this.states = states;
        this.answers = answers;
        this.metrics = metrics;
        this.thread = Executors.newSingleThreadExecutor(DaemonThreads.named("policy-list-" + answers.instanceName()));
    }

    /** Runs a task on the compiler thread, after those queued before it; none once the instance is closed. */
    void queue(Runnable task) {
        try {
            thread.execute(task);
        } catch (RejectedExecutionException closed) {
            // this instance is closed, and serves nothing any more
        }
    }

    /**
     * Waits until every task queued before this call has run: the updates handed over so far are then
     * in force, or their compile failed. Returns early only when the compiler closed.
     *
     * <p>An interruption does not end the wait, it is kept for the caller: the instance that waits
     * would otherwise serve without the rules its files handed over. A SIGTERM while the gateway
     * starts interrupts the starting thread when it waits (Spring's context close does), and the
     * gateway then opened its ports with a list file's bans not yet in force.
     */
    void drain() {
        Drained drained = new Drained();
        try {
            thread.execute(drained);
        } catch (RejectedExecutionException closed) {
            return; // nothing runs here any more
        }
        Uninterruptibles.awaitUninterruptibly(drained.done);
    }

    /** The task {@link #drain} waits for; run, or dropped by {@link #close}, it releases the wait. */
    private static final class Drained implements Runnable {
        final CountDownLatch done = new CountDownLatch(1);

        @Override
        public void run() {
            done.countDown();
        }
    }

    /** Stops the compiler thread, waiting a while for the compile under way. */
    void close() {
        for (Runnable dropped : thread.shutdownNow()) {
            if (dropped instanceof Drained drained) {
                drained.run();
            }
        }
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Compiles a source's update, and the updates that come while it waits, as one. */
    void updated(int position, Collection<PolicyRule> rules, RuleChanges changes,
                 Map<PolicyEvents.Skipped, Integer> skipped) {
        long received = System.nanoTime();
        Slot slot = slots.get(position);
        // Views, not copies: a million rules read from a list file are not held as objects at all.
        Collection<PolicyRule> kept = new Kept(rules, slot.kinds(), answers.takedownBans());
        SlotState state = states.get(position);
        Update update = new Update(kept, changes == null ? null : changes.filter(rule -> Kept.keeps(rule, slot.kinds(), answers.takedownBans())));
        metrics.skipped(slot.name(), skipped);
        if (state.offer(update)) {
            queue(() -> {
                Update latest = state.take();
                if (latest == null) {
                    return;
                }
                boolean layered = false;
                try {
                    PolicyIndex index = list.index();
                    // a burst past the bound is compiled whole at once, not first worked through change by change
                    PolicyIndex changed = latest.changes() == null || !state.current
                            || index.changedSince(position) + latest.changes().size() > MAX_CHANGED ? null
                            : index.change(position, latest.changes()).filter(next -> next.changedSince(position) <= MAX_CHANGED).orElse(null);
                    layered = changed != null;
                    list.serve(layered ? changed : index.replace(position, new PolicyIndex.Source(slot.name(), latest.rules())));
                } catch (RuntimeException | Error failed) {
                    state.current = false;
                    state.toFold = null;
                    notCompiled(position, failed);
                    return;
                }
                state.current = true;
                long generation = ++state.compiled;
                state.toFold = layered && list.index().changedSince(position) > 0 ? latest.rules() : null;
                if (state.toFold != null) {
                    foldLater(position, generation);
                }
                state.ownRulesCompiled = true;
                list.handOn(position);
                state.notApplied.worksAgain("{}: the rules of source '{}' are compiled and in force again",
                        answers.instanceName(), slot.name());
                long took = System.nanoTime() - received;
                metrics.updated(slot.name(), took);
                if (!slot.kind().equals("room")) { // a room says when it was read itself, and then changes a ban at a time
                    logApplied(slot, took);
                }
                try {
                    watchCatchAll(position, slot); // after everything the compile is for: a warning must not stand in its way
                } catch (RuntimeException failed) {
                    log.warn("{}: source '{}' could not be checked for rules that name everyone: {}", answers.instanceName(),
                            slot.name(), failed.toString());
                }
                if (log.isDebugEnabled()) { // counting walks the rules: a list file's are read again to count them
                    log.debug("{}: source '{}' now has {} rules", answers.instanceName(), slot.name(), latest.rules().size());
                }
            });
        }
    }

    /**
     * One INFO line for a file's or URL's rules put in force: at startup, and each time its content
     * changed (an unchanged check hands nothing over), as every list reader says what it loaded.
     */
    private void logApplied(Slot slot, long tookNanos) {
        Map<String, Long> entries = PolicyList.entries(list.index(), slot.name());
        long total = entries.values().stream().mapToLong(Long::longValue).sum();
        String byKind = entries.isEmpty() ? "" : " (" + entries.entrySet().stream()
                .map(entry -> entry.getKey() + ": " + entry.getValue()).collect(Collectors.joining(", ")) + ")";
        log.info("{}: source '{}' read from {}: {} {} in force{}, compiled in {} ms", answers.instanceName(), slot.name(),
                slot.shownLocation(), total, total == 1 ? "rule" : "rules", byKind, TimeUnit.NANOSECONDS.toMillis(tookNanos));
    }

    /**
     * IDs that have nothing in common but their grammar, by what they are: a rule that names each of
     * one set names every such ID ({@code *}, {@code @*:*}, {@code !*}, {@code ?*}).
     */
    private record UnlikeIds(EntityKind kind, String what, List<String> ids) {
    }

    private static final List<UnlikeIds> UNLIKE_IDS = List.of(
            new UnlikeIds(EntityKind.USER, "user", MatrixIds.unlikeIds('@')),
            new UnlikeIds(EntityKind.ROOM, "room ID", MatrixIds.unlikeIds('!')),
            new UnlikeIds(EntityKind.ROOM, "room alias", MatrixIds.unlikeIds('#')),
            new UnlikeIds(EntityKind.SERVER, "server", MatrixIds.unlikeServerNames()));

    /**
     * After a source's rules are compiled, warns once of a rule of it that names every ID of a kind
     * (and says when none does any more): one {@code *} ban refuses everyone the protected servers do
     * not cover, one {@code *} allow overrides every later source's bans, and either may be a
     * moderator's mistake or a hijacked list. It is applied all the same: a list may mean it (an
     * allow-only federation bans {@code *} and allows its servers). Only globs are read, and of a
     * layered update only its added layer's ({@link PolicyIndex#namingEach}): the next ban does not
     * wait for a walk of the list.
     */
    private void watchCatchAll(int position, Slot slot) {
        String now = catchAll(position);
        SlotState state = states.get(position);
        String before = state.catchAll;
        state.catchAll = now;
        if (now != null && !now.equals(before)) {
            log.warn("{}: source '{}' has a rule that names every ID of its kind: {}. It applies: a ban refuses everyone"
                    + " an earlier source or the allow list does not allow, and the protected servers' own users and rooms"
                    + " aside; an allow overrides the bans of every later source", answers.instanceName(), slot.name(), now);
        } else if (now == null && before != null) {
            log.info("{}: source '{}' no longer has a rule that names every ID of its kind", answers.instanceName(), slot.name());
        }
    }

    /**
     * Which of a kind's rules that name everyone is described: chosen by what the rules are, not by
     * where a compile put them, since a fold (a whole compile of the layered rules) or a room's rules
     * handed over in another order would otherwise describe another of the same rules, and warn again.
     */
    private static final Comparator<PolicyRule> DESCRIBED_FIRST = Comparator.comparing((PolicyRule rule) -> rule.entity().value())
            .thenComparing(PolicyRule::recommendation)
            .thenComparing(rule -> rule.origin().eventId().orElse(""))
            .thenComparing(rule -> rule.origin().sender().orElse(""));

    /** A source's rules in force that name every ID of a kind, one of each kind described ({@link #DESCRIBED_FIRST}); null when none. */
    private String catchAll(int position) {
        PolicyIndex index = list.index();
        List<String> found = new ArrayList<>();
        for (UnlikeIds unlike : UNLIKE_IDS) {
            index.namingEach(position, unlike.kind(), unlike.ids()).stream().min(DESCRIBED_FIRST)
                    .ifPresent(rule -> found.add(rule.recommendation().wireName() + " of every "
                    + unlike.what() + " (" + LogText.quoted(rule.entity().value())
                    + rule.origin().eventId().map(id -> ", event " + LogText.quoted(id)).orElse("")
                    + rule.origin().sender().map(sender -> " by " + LogText.quoted(sender)).orElse("") + ")"));
        }
        return found.isEmpty() ? null : String.join("; ", found);
    }

    /**
     * After {@link #foldAfter}, compiles a source whole, folding its added layer in, unless an update
     * of it was compiled since (which schedules its own fold, or compiled it whole).
     */
    private void foldLater(int position, long generation) {
        Executor compilerLater = CompletableFuture.delayedExecutor(foldAfter.toMillis(), TimeUnit.MILLISECONDS, this::queue);
        compilerLater.execute(() -> {
            SlotState state = states.get(position);
            Collection<PolicyRule> rules = state.toFold;
            if (state.compiled != generation || rules == null || state.hasPending()) {
                return;
            }
            try {
                list.serve(list.index().replace(position, new PolicyIndex.Source(slots.get(position).name(), rules)));
                list.handOn(position);
            } catch (RuntimeException | Error failed) {
                // the layered rules in force are complete: the fold is tried again after the next addition
                log.warn("{}: the rules added to source '{}' could not be folded in: {}", answers.instanceName(),
                        slots.get(position).name(), PolicySource.Status.describe(failed));
            }
            state.toFold = null;
            catchAll(position); // the folded rules' globs read now, while no update waits, not at the next ban's check; no rule changed
        });
    }

    /** Sets {@link #foldAfter}, for tests that cannot wait for {@link #FOLD_AFTER}. */
    void foldAfter(Duration delay) {
        this.foldAfter = delay;
    }

    /**
     * A compile that failed (the heap ran out, say): the rules in force stay, the failure shows in the
     * source's status and health, the log says so once a run, and the source hands its rules over again
     * at its next read, which tries again.
     */
    private void notCompiled(int position, Throwable failed) {
        Slot slot = slots.get(position);
        String error = "its latest rules could not be compiled: " + PolicySource.Status.describe(failed);
        SlotState state = states.get(position);
        Outage.Failure failure = state.notApplied.failed(error);
        state.compileFailed();
        failure.loud("{}: the latest rules of source '{}' could not be compiled; its previous rules stay in force, "
                + "and its next read tries again", answers.instanceName(), slot.name(), failed);
        slot.source().ifPresent(PolicySource::redeliver);
    }
}
