package dev.matrixpolicy.gateway.modules.ratelimitoverrides;

import dev.matrixpolicy.gateway.config.Generations;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.RatelimitOverride;
import dev.matrixpolicy.gateway.callbacks.ratelimit.GetRatelimitOverrideForUser;
import dev.matrixpolicy.gateway.chain.Reply;
import dev.matrixpolicy.gateway.chain.Trace;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** How a {@code ratelimit_overrides} entry binds, and the one message that stops startup when it is wrong. */
class RatelimitOverridesConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT, "is not one of the limiters Synapse 1.157 asks about");

    private static final String RULE = "policy-gateway.modules[0].config.rules[0]";
    private static final String FAILURE = "policy-gateway.modules[0] (module: ratelimit_overrides) config.";

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.ratelimitoverrides"})
    static class Gateway {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=ratelimit_overrides",
                    "policy-gateway.modules[0].name=invites", RULE + ".name=bots", RULE + ".users[0]=@bot-*:example.com",
                    RULE + ".per-second=5", RULE + ".burst-count=50");

    @Test
    void ruleWithoutLimitersAnswersForEveryLimiter() {
        runner.run(context -> assertThat(override(context.getBean(Generations.class).current().instance("invites").orElseThrow(), "rc_invites.per_room"))
                .contains(new RatelimitOverride(5, 50)));
    }

    @Test
    void burstOfZeroIsAllowedAndRefusesEveryAction() {
        runner.withPropertyValues(RULE + ".burst-count=0")
                .run(context -> assertThat(override(context.getBean(Generations.class).current().instance("invites").orElseThrow(), "rc_invites.per_user"))
                        .contains(new RatelimitOverride(5, 0)));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            .per-second   | 0          | rules[0].per-second: must be a finite number above 0, got 0.0: Synapse fails the user's request on a rate of 0
            .per-second   | -1         | rules[0].per-second: must be a finite number above 0
            .per-second   | Infinity   | rules[0].per-second: must be a finite number above 0, got Infinity
            .per-second   | lots       | rules[0].per-second
            .burst-count  | -1         | rules[0].burst-count: must be greater than or equal to 0
            .limiters[0]  | invites    | rules[0].limiters[0]: 'invites' is not a Synapse limiter name; Synapse 1.157 asks for [rc_invites.per_issuer, rc_invites.per_room, rc_invites.per_user]
            .users[1]     | bot        | rules[0].users[1]: 'bot' is not a valid Matrix user ID
            .limiters[0]  | rc_invites | rules[0].limiters[0]: 'rc_invites' is a section of Synapse's rate limits, not a limiter: name its limiters [rc_invites.per_issuer, rc_invites.per_room, rc_invites.per_user]
            """)
    void badValueStopsStartupNamingRuleAndField(String key, String value, String problem) {
        runner.withPropertyValues(RULE + key + "=" + value)
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(FAILURE + problem));
    }

    /** Synapse keeps a timer slot for every 5 seconds until a user's actions drain: 1e-9 per second is 200 million of them. */
    @ParameterizedTest(name = "per-second={0}, burst-count={1}")
    @CsvSource(delimiter = '|', textBlock = """
            1e-9        | 50 | must be at least 5.787037037037037E-4 with burst-count 50, got 1.0E-9: a full burst must drain within a day
            4.9e-324    | 50 | must be at least 5.787037037037037E-4 with burst-count 50, got 4.9E-324
            0.00001     | 0  | must be at least 1.1574074074074073E-5 with burst-count 0, got 1.0E-5
            """)
    void rateSoSlowThatAFullBurstTakesMoreThanADayToDrainStopsStartup(String perSecond, String burstCount, String problem) {
        runner.withPropertyValues(RULE + ".per-second=" + perSecond, RULE + ".burst-count=" + burstCount)
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(FAILURE + "rules[0].per-second: " + problem));
    }

    @Test
    void rateAtWhichAFullBurstDrainsInADayIsAccepted() {
        runner.withPropertyValues(RULE + ".per-second=0.001", RULE + ".burst-count=86")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void twoRulesOfOneNameStopStartup() {
        runner.withPropertyValues("policy-gateway.modules[0].config.rules[1].name=bots",
                        "policy-gateway.modules[0].config.rules[1].users[0]=*", "policy-gateway.modules[0].config.rules[1].per-second=1",
                        "policy-gateway.modules[0].config.rules[1].burst-count=1")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        FAILURE + "rules[1].name: 'bots' names two rules; names must be unique"));
    }

    @Test
    void limiterARuleNamesIsCountedUnderItsNameAndOneItDoesNotNameAsOther() {
        runner.withPropertyValues(RULE + ".limiters[0]=rc_joins.per_room")
                .run(context -> {
                    ModuleInstance invites = context.getBean(Generations.class).current().instance("invites").orElseThrow();
                    override(invites, "rc_joins.per_room");
                    assertThat(applied(context.getBean(SimpleMeterRegistry.class), "rc_joins.per_room")).isEqualTo(1);
                });
        runner.run(context -> {
            override(context.getBean(Generations.class).current().instance("invites").orElseThrow(), "rc_joins.per_room");
            assertThat(applied(context.getBean(SimpleMeterRegistry.class), RatelimitOverridesModuleType.OTHER_LIMITER)).isEqualTo(1);
        });
    }

    @Test
    @SuppressWarnings("unchecked")
    void anExplanationAnswersTheOverrideButCountsNoAnswer() {
        runner.run(context -> {
            var endpoint = (CallbackEndpoint<GetRatelimitOverrideForUser.Args, ?>) context.getBean(Generations.class).current()
                    .chains().endpoint(GetRatelimitOverrideForUser.TYPE.category(), GetRatelimitOverrideForUser.TYPE.name()).orElseThrow();

            Trace<?> trace = endpoint.explain(new GetRatelimitOverrideForUser.Args("@bot-7:example.com", "rc_invites.per_room"));

            assertThat(trace.steps()).singleElement().extracting(Trace.Step::reply)
                    .isEqualTo(new Reply.Answered<>(Optional.of(new RatelimitOverride(5, 50))));
            assertThat(applied(context.getBean(SimpleMeterRegistry.class), "rc_invites.per_room")).isZero();
        });
    }

    private static double applied(SimpleMeterRegistry registry, String limiter) {
        return registry.get(RatelimitOverridesModuleType.APPLIED_METER).tags("rule", "bots", "limiter", limiter).counter().count();
    }

    private static Optional<RatelimitOverride> override(ModuleInstance instance, String limiter) {
        return ((RatelimitOverrides) instance.module()).getRatelimitOverrideForUser(
                new GetRatelimitOverrideForUser.Args("@bot-7:example.com", limiter));
    }
}
