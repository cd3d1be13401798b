package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generation that serves, and the ones still finishing requests.
 *
 * <p>A request {@linkplain #lease() leases} the current generation and uses only it until it
 * returns the lease, so it never sees a mix of two. {@link #swap} makes the next generation current
 * at once; the one it replaces stays intact until its last lease returns. Then each module it held
 * that no other generation holds, live or still finishing, is closed (on a thread of its own, never
 * a request's). A module carried over by a reload belongs to both generations and stays open.
 *
 * <p>{@link #close()} at shutdown retires the serving generation too, and waits, up to a bound, for
 * every retired generation to drain and for every closing to finish (an audit webhook delivers its
 * queue); a generation still leased at the bound has its modules closed anyway, and the closings still
 * running are interrupted, so that they count what they give up before the JVM exits.
 */
public final class Generations implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Generations.class);
    /**
     * How long {@link #close()} waits at shutdown for the last requests and for modules' closing (an
     * audit webhook delivering its queue) before it interrupts the closings still running.
     */
    public static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(PolicyModule.SHUTDOWN_CLOSE_SECONDS);
    /** How long an interrupted closing then has to count and log what it gives up (records dropped). */
    static final Duration LAST_WORDS = Duration.ofSeconds(PolicyModule.SHUTDOWN_LAST_WORDS_SECONDS);
    /**
     * The longest {@link #close()} takes. It comes after Spring's two shutdown phases (the drain, then
     * the requests in flight), not within them: the Helm chart's grace period counts it.
     */
    public static final Duration SHUTDOWN_BOUND = SHUTDOWN_WAIT.plus(LAST_WORDS);

    private final AtomicReference<Held> current;
    /** How many generations, current or finishing, hold each module. Guarded by itself. */
    private final Map<PolicyModule, Integer> holders = new IdentityHashMap<>();
    private final Consumer<Runnable> closer;
    private final InstanceMeters meters;
    private final Duration shutdownWait;
    /** Retired generations whose leases are not all back yet. */
    private final Set<Held> finishing = ConcurrentHashMap.newKeySet();
    /** Closings handed to {@link #closer} that have not finished; guarded by {@link #settled}. */
    private int closing;
    /** The threads running a closing now, to interrupt when the wait ends; guarded by {@link #settled}. */
    private final Set<Thread> closers = new HashSet<>();
    /** Whether the wait at shutdown ended: a closing that starts now starts interrupted. Guarded by {@link #settled}. */
    private boolean timeUp;
    /** Whether {@link #close()} began: no generation serves after that. Guarded by {@link #swaps}. */
    private boolean closed;
    /** Held by a swap and by the start of {@link #close()}, so that no swap comes after the serving generation retired. */
    private final Object swaps = new Object();
    private final Object settled = new Object();

    /**
     * @param meters registers the state-reading meters of the modules that start serving
     * @param closer runs the closing of modules a retired generation leaves behind, off the caller's thread
     * @param shutdownWait how long {@link #close()} waits for requests in flight and closings
     */
    Generations(Generation first, InstanceMeters meters, Consumer<Runnable> closer, Duration shutdownWait) {
        this.closer = Objects.requireNonNull(closer, "closer");
        this.meters = Objects.requireNonNull(meters, "meters");
        this.shutdownWait = Objects.requireNonNull(shutdownWait, "shutdownWait");
        hold(first);
        distinctModules(first).forEach(meters::bind);
        this.current = new AtomicReference<>(new Held(first));
    }

    public Generations(Generation first, InstanceMeters meters) {
        this(first, meters, task -> Thread.ofVirtual().name("generation-closer").start(task), SHUTDOWN_WAIT);
    }

    /** The generation serving now; for views that read it once. A request uses {@link #lease()}. */
    public Generation current() {
        return current.get().generation;
    }

    /**
     * The current generation, kept intact until the lease is closed. Cheap: two atomic updates.
     * Every lease must be closed, with try-with-resources.
     */
    public Lease lease() {
        while (true) {
            Held held = current.get();
            held.leases.incrementAndGet();
            if (current.get() == held) {
                return new Lease(held);
            }
            held.release(); // a swap came between the two reads: lease the new one
        }
    }

    /**
     * Makes {@code next} the serving generation, atomically, and retires the one it replaces.
     *
     * @return the generation replaced
     * @throws IllegalStateException when {@link #close()} began: {@code next} never serves, and the
     *                               modules only it holds are closed
     */
    public Generation swap(Generation next) {
        Map<PolicyModule, ModuleInstance> built = new IdentityHashMap<>();
        synchronized (swaps) {
            if (!closed) {
                hold(next);
                Held replaced = current.getAndSet(new Held(next));
                // The meters follow at once: those of modules that stop serving go, then the newcomers' come,
                // so a replacement with the same name registers its own rather than finding the old ones.
                Collection<PolicyModule> before = distinctModules(replaced.generation);
                Collection<PolicyModule> after = distinctModules(next);
                meters.replace(before.stream().filter(module -> !contains(after, module)).toList(),
                        after.stream().filter(module -> !contains(before, module)).toList());
                replaced.retire();
                return replaced.generation;
            }
            // a reload that ran into the shutdown: the modules it built are closed here, or nobody would
            Collection<PolicyModule> serving = distinctModules(current.get().generation);
            next.modules().stream().filter(instance -> !contains(serving, instance.module()))
                    .forEach(instance -> built.putIfAbsent(instance.module(), instance));
        }
        built.values().forEach(Generations::closeQuietly); // outside the lock: a closing may take seconds
        throw new IllegalStateException("the gateway is shutting down: the configuration is not applied");
    }

    private static boolean contains(Collection<PolicyModule> modules, PolicyModule module) {
        return modules.stream().anyMatch(candidate -> candidate == module);
    }

    /**
     * At shutdown: retires the serving generation, and waits up to the bound for every retired
     * generation's requests and for every closing, so that no module is left open and no queue is lost.
     * A generation still leased at the bound has its modules closed anyway. Then the closings still
     * running are interrupted, and have {@link #LAST_WORDS} more to count and log what they give up:
     * the JVM exits after this returns, and a record an audit webhook accepted must not go uncounted.
     */
    @Override
    public void close() {
        synchronized (swaps) {
            closed = true;
            current.get().retire();
        }
        long deadline = System.nanoTime() + shutdownWait.toNanos();
        awaitSettled(deadline);
        for (Held late : List.copyOf(finishing)) {
            log.warn("Shutdown: generation {} still has {} request(s) in flight after {}; closing its modules anyway",
                    late.generation.number(), late.leases.get(), shutdownWait);
            late.drain();
        }
        synchronized (settled) {
            timeUp = true;
            if (closing > 0) {
                log.warn("Shutdown: {} module closing(s) still running after {}; interrupting them", closing, shutdownWait);
                closers.forEach(Thread::interrupt);
            }
        }
        awaitSettled(System.nanoTime() + LAST_WORDS.toNanos());
        synchronized (settled) {
            if (closing > 0) {
                log.warn("Shutdown: {} module closing(s) still running {} after they were interrupted; not waiting longer",
                        closing, LAST_WORDS);
            }
        }
    }

    /** Marks the calling thread as running a closing: the end of the wait interrupts it. */
    private void closingBegins() {
        synchronized (settled) {
            closers.add(Thread.currentThread());
            if (timeUp) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until no retired generation is leased and no closing runs, or the deadline. */
    private void awaitSettled(long deadline) {
        synchronized (settled) {
            long left;
            while ((!finishing.isEmpty() || closing > 0) && (left = deadline - System.nanoTime()) > 0) {
                try {
                    settled.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException stopping) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void signal(int closingsDone) {
        synchronized (settled) {
            if (closingsDone > 0) {
                closers.remove(Thread.currentThread());
            }
            closing -= closingsDone;
            settled.notifyAll();
        }
    }

    private void hold(Generation generation) {
        synchronized (holders) {
            for (PolicyModule module : distinctModules(generation)) {
                holders.merge(module, 1, Integer::sum);
            }
        }
    }

    /** Lets go of a drained generation's modules; returns the ones no generation holds any more. */
    private List<ModuleInstance> closeLeftBehind(Generation drained) {
        List<ModuleInstance> unheld = new ArrayList<>();
        synchronized (holders) {
            for (ModuleInstance instance : drained.modules()) {
                Integer left = holders.computeIfPresent(instance.module(), (module, count) -> count == 1 ? null : count - 1);
                if (left == null) {
                    unheld.add(instance);
                }
            }
        }
        return unheld;
    }

    /**
     * What the serving generation and those still finishing but {@code drained} serve: each instance
     * name with the callbacks its chains link it to. The series of the rest can go.
     */
    private Map<String, Set<String>> servedBesides(Held drained) {
        Map<String, Set<String>> served = new HashMap<>();
        served(current.get().generation, served);
        finishing.stream().filter(held -> held != drained).forEach(held -> served(held.generation, served));
        return served;
    }

    /** Adds what {@code generation} serves to {@code served}. */
    static void served(Generation generation, Map<String, Set<String>> served) {
        generation.modules().forEach(instance -> served.computeIfAbsent(instance.name(), name -> new HashSet<>()));
        generation.chains().endpoints().forEach(endpoint -> endpoint.chains().values().forEach(names ->
                names.forEach(name -> served.computeIfAbsent(name, key -> new HashSet<>()).add(endpoint.name()))));
    }

    private static Collection<PolicyModule> distinctModules(Generation generation) {
        Map<PolicyModule, Boolean> distinct = new IdentityHashMap<>();
        generation.modules().forEach(instance -> distinct.put(instance.module(), true));
        return distinct.keySet();
    }

    private static void closeQuietly(ModuleInstance instance) {
        try {
            instance.close();
        } catch (RuntimeException failed) {
            log.warn("Closing {} failed: {}", instance.describe(), LogText.message(failed.toString())); // a module's own words
        }
    }

    /** A request's hold on one generation. */
    public final class Lease implements AutoCloseable {
        private final Held held;
        private boolean closed;

        private Lease(Held held) {
            this.held = held;
        }

        public Generation generation() {
            return held.generation;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                held.release();
            }
        }
    }

    /** A generation with the count of its leases. */
    private final class Held {
        final Generation generation;
        final AtomicInteger leases = new AtomicInteger();
        final AtomicBoolean drained = new AtomicBoolean();
        volatile boolean retired;

        Held(Generation generation) {
            this.generation = generation;
        }

        void release() {
            if (leases.decrementAndGet() == 0 && retired) {
                drain();
            }
        }

        void retire() {
            finishing.add(this);
            if (drained.get()) {
                finishing.remove(this); // retired before, and drained already
            }
            retired = true;
            if (leases.get() == 0) {
                drain();
            }
        }

        /** Closes what only this generation held, through the {@link #closer}; once. */
        void drain() {
            if (drained.compareAndSet(false, true)) {
                List<ModuleInstance> unheld = closeLeftBehind(generation);
                if (!unheld.isEmpty()) {
                    synchronized (settled) {
                        closing++;
                    }
                    closer.accept(() -> {
                        closingBegins();
                        try {
                            unheld.forEach(Generations::closeQuietly);
                            synchronized (swaps) { // no swap between what is served worked out and the series removed
                                if (!closed) { // at shutdown the series stay, for the last scrapes
                                    meters.retire(unheld, servedBesides(this));
                                }
                            }
                        } finally {
                            signal(1);
                        }
                    });
                }
                finishing.remove(this);
                signal(0);
            }
        }
    }
}
