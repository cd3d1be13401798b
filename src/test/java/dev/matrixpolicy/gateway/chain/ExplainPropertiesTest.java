package dev.matrixpolicy.gateway.chain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.chain.Links.TestCallback;
import dev.matrixpolicy.gateway.chain.Trace.Step;
import dev.matrixpolicy.gateway.support.Gen;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Over random chains of links that answer (deciding or falling through), throw or return nothing,
 * fail open or closed, enforce or shadow, and under every rule: explain ends as decide does, its steps
 * are the modules decide asks, and the shadow links change nothing but the record.
 */
class ExplainPropertiesTest {

    /** Answers chosen to decide under some rules and fall through under others. */
    private static final List<String> ANSWERS = List.of("NOT_SPAM", "SPAM", "ALL", "DENY", "a", "b");

    private final ChainRunner runner = new ChainRunner(ChainObserver.NONE);

    @AfterEach
    void closeRunner() {
        runner.close();
    }

    /** One rule under test, with how a module is called for it. */
    private record RuleUnderTest<R>(String name, ChainRule<String, R> rule, BiFunction<TestCallback, String, R> call) {
    }

    private static final List<RuleUnderTest<?>> RULES = List.of(
            new RuleUnderTest<>("first decisive", new FirstDecisive<>("NOT_SPAM"::equals, "NOT_SPAM"), TestCallback::answer),
            new RuleUnderTest<>("accumulate", new Accumulate<>("", String::concat, "ALL"::equals), TestCallback::answer),
            new RuleUnderTest<String>("threaded", new Threaded<>(answer -> answer.startsWith("DENY"),
                    (request, answer) -> request + "+" + answer, request -> "create(" + request + ")"), TestCallback::answer),
            new RuleUnderTest<>("run all", new RunAll<String>(), (module, args) -> {
                module.answer(args);
                return RunAll.DELIVERED;
            }));

    /** A link as data, so that every run builds it afresh around its own call record. */
    private record LinkSpec(String module, String behaviour, FailurePolicy onFailure, Link.Mode mode) {
        Link<TestCallback> build(Links.Calls calls) {
            TestCallback callback = Links.recording(module, calls, args -> switch (behaviour) {
                case "throw" -> throw new IllegalStateException(module + " is broken");
                case "null" -> null;
                default -> behaviour;
            });
            return new Link<>(module, callback, onFailure, null, mode);
        }
    }

    private static List<LinkSpec> randomChain(Gen gen) {
        List<LinkSpec> links = new ArrayList<>();
        int length = gen.between(0, 6);
        for (int i = 0; i < length; i++) {
            String behaviour = gen.chance(0.25) ? gen.oneOf(List.of("throw", "null")) : gen.oneOf(ANSWERS);
            links.add(new LinkSpec("m" + i, behaviour, gen.oneOf(List.of(FailurePolicy.values())),
                    gen.chance(0.3) ? Link.Mode.SHADOW : Link.Mode.ENFORCE));
        }
        return links;
    }

    @Test
    void explainEndsAsDecideDoesAndListsExactlyTheModulesDecideAsks() {
        Gen.forAll(14, 500, ExplainPropertiesTest::randomChain, specs -> RULES.forEach(rule -> {
            Links.Calls decideCalls = new Links.Calls();
            Object decided = outcomeOfDecide(compile(rule, specs, decideCalls, spec -> true));
            Links.Calls explainCalls = new Links.Calls();
            Trace<?> trace = compile(rule, specs, explainCalls, spec -> true).explain("req");

            assertThat(outcomeOf(trace)).as(rule.name()).isEqualTo(decided);
            assertThat(trace.steps()).as(rule.name()).extracting(Step::module).isEqualTo(decideCalls.modules());
            assertThat(explainCalls.modules()).as(rule.name()).isEqualTo(decideCalls.modules());
            assertThat(trace.steps()).as(rule.name()).allSatisfy(step -> assertThat(step.shadow())
                    .isEqualTo(specs.stream().anyMatch(spec -> spec.module().equals(step.module()) && spec.mode() == Link.Mode.SHADOW)));
        }));
    }

    @Test
    void shadowLinksNeverChangeTheDecisionOrTheFailure() {
        Gen.forAll(15, 500, ExplainPropertiesTest::randomChain, specs -> RULES.forEach(rule -> {
            Object withShadows = outcomeOfDecide(compile(rule, specs, new Links.Calls(), spec -> true));
            Object withoutShadows = outcomeOfDecide(compile(rule, specs, new Links.Calls(), spec -> spec.mode() == Link.Mode.ENFORCE));

            assertThat(withoutShadows(withShadows)).as(rule.name()).isEqualTo(withoutShadows);
        }));
    }

    private <R> ChainRunner.CompiledChain<String, R> compile(RuleUnderTest<R> rule, List<LinkSpec> specs, Links.Calls calls,
                                                            Predicate<LinkSpec> kept) {
        List<Link<TestCallback>> links = specs.stream().filter(kept).map(spec -> spec.build(calls)).toList();
        return runner.compile(new Chain<>(Links.CALLBACK, links), rule.call(), rule.rule(), String::valueOf);
    }

    /** The decision, or the failure as the module that failed and the message. */
    private static Object outcomeOfDecide(ChainRunner.CompiledChain<String, ?> chain) {
        try {
            return chain.decide("req");
        } catch (ModuleFailedException failure) {
            return failed(failure);
        }
    }

    private static Object outcomeOf(Trace<?> trace) {
        return switch (trace.outcome()) {
            case Trace.Decided<?> decided -> decided.decision();
            case Trace.FailedClosed<?> failedClosed -> failed(failedClosed.failure());
        };
    }

    private static String failed(ModuleFailedException failure) {
        return "failed closed: " + failure.module() + ": " + failure.getMessage();
    }

    private static Object withoutShadows(Object outcome) {
        return outcome instanceof Decision<?> decision ? new Decision<>(decision.result(), decision.decidedBy()) : outcome;
    }
}
