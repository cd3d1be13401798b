package dev.matrixpolicy.gateway.chain;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** Hand-written fakes shared by the chain engine tests: recording askers, modules and links. */
final class Links {

    /** The callback name every test chain uses. */
    static final String CALLBACK = "check_event_for_spam";
    /** The answer that falls through in {@link #spamCheck} chains. */
    static final String NOT_SPAM = "NOT_SPAM";

    private Links() {
    }

    /** The callback interface of the runner tests' chains: a string question, a string answer. */
    @FunctionalInterface
    interface TestCallback {
        String answer(String args);
    }

    /** Which modules were asked, in order, and the arguments each one saw. Safe across threads. */
    static final class Calls {
        private final List<String> modules = new CopyOnWriteArrayList<>();
        private final List<Object> args = new CopyOnWriteArrayList<>();

        void record(String module, Object seen) {
            modules.add(module);
            args.add(seen);
        }

        List<String> modules() {
            return List.copyOf(modules);
        }

        List<Object> args() {
            return List.copyOf(args);
        }
    }

    // --- askers, for testing a rule without the runner ---

    /** An asker that records the call, then answers what {@code behaviour} gives for the args. */
    static <A, R> Asker<A, R> asker(String module, Calls calls, Function<? super A, Optional<R>> behaviour) {
        return new Asker<>() {
            @Override
            public String module() {
                return module;
            }

            @Override
            public Optional<R> ask(A args) {
                calls.record(module, args);
                return behaviour.apply(args);
            }
        };
    }

    static <A, R> Asker<A, R> answering(String module, Calls calls, R answer) {
        return asker(module, calls, args -> Optional.of(answer));
    }

    /** A shadow link's asker, as the runner gives it to a rule: it records the call and abstains. */
    static <A, R> Asker<A, R> shadow(String module, Calls calls) {
        Asker<A, R> abstaining = failedOpen(module, calls);
        return new Asker<>() {
            @Override
            public String module() {
                return module;
            }

            @Override
            public boolean shadow() {
                return true;
            }

            @Override
            public Optional<R> ask(A args) {
                return abstaining.ask(args);
            }
        };
    }

    /** What a runner's asker gives the rule when the module failed on a fail-open link. */
    static <A, R> Asker<A, R> failedOpen(String module, Calls calls) {
        return asker(module, calls, args -> Optional.empty());
    }

    /** What a runner's asker does when the module failed on a fail-closed link. */
    static <A, R> Asker<A, R> failedClosed(String module, Calls calls) {
        return asker(module, calls, args -> {
            throw new ModuleFailedException(CALLBACK, module, new IllegalStateException("boom"));
        });
    }

    // --- modules and links, for testing through the runner ---

    /** A module that records the call, then answers what {@code behaviour} gives for the args. */
    static TestCallback recording(String module, Calls calls, Function<String, String> behaviour) {
        return args -> {
            calls.record(module, args);
            return behaviour.apply(args);
        };
    }

    static TestCallback answeringModule(String module, Calls calls, String answer) {
        return recording(module, calls, args -> answer);
    }

    static TestCallback throwingModule(String module, Calls calls) {
        return recording(module, calls, args -> {
            throw new IllegalStateException(module + " is broken");
        });
    }

    static Link<TestCallback> link(String module, TestCallback callback, FailurePolicy onFailure) {
        return new Link<>(module, callback, onFailure, null);
    }

    static Link<TestCallback> link(String module, TestCallback callback, FailurePolicy onFailure, Duration timeout) {
        return new Link<>(module, callback, onFailure, timeout);
    }

    static Link<TestCallback> shadowLink(String module, TestCallback callback, FailurePolicy onFailure) {
        return new Link<>(module, callback, onFailure, null, Link.Mode.SHADOW);
    }

    static Link<TestCallback> shadowLink(String module, TestCallback callback, FailurePolicy onFailure, Duration timeout) {
        return new Link<>(module, callback, onFailure, timeout, Link.Mode.SHADOW);
    }

    @SafeVarargs
    static <C> Chain<C> chain(Link<C>... links) {
        return new Chain<>(CALLBACK, Arrays.asList(links));
    }

    /** A spam check through {@code runner}: {@code NOT_SPAM} falls through, anything else decides; labelled allow or deny. */
    @SafeVarargs
    static ChainRunner.CompiledChain<String, String> spamCheck(ChainRunner runner, Link<TestCallback>... links) {
        return runner.compile(chain(links), TestCallback::answer,
                new FirstDecisive<>(NOT_SPAM::equals, NOT_SPAM),
                answer -> NOT_SPAM.equals(answer) ? "allow" : "deny");
    }
}
