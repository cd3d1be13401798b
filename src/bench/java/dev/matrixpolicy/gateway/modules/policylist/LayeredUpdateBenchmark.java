package dev.matrixpolicy.gateway.modules.policylist;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.policylist.Entity;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicyLists;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import dev.matrixpolicy.gateway.policylist.RuleChanges;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A policy room's one-rule update of a source of a million rules (some 30,000 of them globs), as a
 * {@code policy_list} instance's compiler thread handles it: the change layered on the compiled
 * source, put in force, and the source checked for a rule that names everyone. The time is the
 * update's, from hand-over until the compiler thread is free for the next ban. Each operation adds
 * the rule or, the next time, withdraws it, so the added layer stays one rule deep.
 *
 * <p>Only the instance's package-private constructor and {@link PolicyList#foldAfter} are used, and
 * the compiler thread is waited for through reflection: the benchmark compiles against the code
 * before the check was made incremental too, to compare the two in one session.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmn64m", "-Xmx3g"})
public class LayeredUpdateBenchmark {

    /** What the update adds and withdraws: an exact user ID, or a glob (which names some users, not everyone). */
    @Param({"exact", "glob"})
    String rule;

    @Param({"1000000"})
    int listRules;

    private final Scripted source = new Scripted();
    private PolicyList list;
    private Object compiler;
    private Method queue;
    private List<PolicyRule> without;
    private List<PolicyRule> with;
    private PolicyRule changed;
    private boolean added;

    /** A source that hands over what the benchmark says, when it says. */
    static final class Scripted implements PolicySource {
        volatile Listener listener;

        @Override
        public String name() {
            return PolicyLists.SOURCE;
        }

        @Override
        public void start(Listener listener) {
            this.listener = listener;
        }

        @Override
        public Status status() {
            return Status.STARTING;
        }

        @Override
        public void redeliver() {
        }

        @Override
        public void close() {
        }
    }

    @Setup(Level.Trial)
    public void compile() throws Exception {
        List<PolicyList.Slot> slots = List.of(
                new PolicyList.Slot("allow", "allow", "configuration", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(), Optional.empty()),
                new PolicyList.Slot(PolicyLists.SOURCE, "room", "#bans:example.com", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(),
                        Optional.of(source)));
        list = new PolicyList(slots, List.of(), Set.<CallbackType<?, ?, ?>>of(),
                new PolicyList.Answers("bans", "example.com", Rejection.of("M_FORBIDDEN"), false, RegistrationBehaviour.DENY, false, false, Set.of()),
                new PolicyList.Freshness(Duration.ofMinutes(5), true), Instant.now(),
                new PolicyListMetrics("bans", new SimpleMeterRegistry(), binder -> { }, Clock.systemUTC()), Optional.empty());
        list.foldAfter(Duration.ofDays(1)); // the layer stays: a fold is a whole compile, not what is measured
        Field field = PolicyList.class.getDeclaredField("compiler");
        field.setAccessible(true);
        compiler = field.get(list);
        queue = compiler.getClass().getDeclaredMethod("queue", Runnable.class);
        queue.setAccessible(true);
        list.start();
        without = List.copyOf(PolicyLists.rules(listRules));
        String entity = rule.equals("glob") ? "@*new-spam-wave*:*" : "@new-spammer:spam.example";
        changed = new PolicyRule(EntityKind.USER, Entity.of(entity), Recommendation.BAN, "spam",
                new PolicyRule.Origin(PolicyLists.SOURCE, Optional.of("$new-ban"), Optional.of("@mod:example.com"), 0));
        List<PolicyRule> more = new ArrayList<>(without);
        more.add(changed);
        with = List.copyOf(more);
        source.listener.updated(source, without, Map.of()); // compiled whole, as a room's first read is
        awaitCompiler();
        added = false;
    }

    @TearDown(Level.Trial)
    public void close() {
        list.close();
    }

    /** One ban, or its withdrawal, handed over and compiled; returns once the compiler thread is free. */
    @Benchmark
    public Object banOrWithdrawal() throws Exception {
        added = !added;
        Collection<PolicyRule> rules = added ? with : without;
        RuleChanges changes = added ? new RuleChanges(List.of(changed), List.of()) : new RuleChanges(List.of(), List.of(changed));
        source.listener.changed(source, rules, changes, Map.of());
        awaitCompiler();
        return list.index();
    }

    private void awaitCompiler() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        queue.invoke(compiler, (Runnable) done::countDown);
        if (!done.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the compiler thread did not finish in a minute");
        }
    }
}
