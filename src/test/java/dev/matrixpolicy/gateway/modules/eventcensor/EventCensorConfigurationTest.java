package dev.matrixpolicy.gateway.modules.eventcensor;

import dev.matrixpolicy.gateway.config.Generations;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What an event_censor entry does to startup: a chain link, or one message naming the field. */
class EventCensorConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.eventcensor"})
    static class Gateway {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=event_censor");

    @Test
    void censorWithAnEndpointJoinsTheCheckEventAllowedChainAndNothingElse() {
        runner.withPropertyValues("policy-gateway.modules[0].config.endpoint=http://censor.internal/censor-event")
                .run(context -> {
                    CallbackChains chains = context.getBean(Generations.class).current().chains();
                    assertThat(chains.endpoint(Category.THIRD_PARTY_RULES, "check_event_allowed").orElseThrow().chains().get(""))
                            .isEqualTo(List.of("event_censor-0"));
                    assertThat(chains.endpoints().stream().filter(endpoint -> endpoint.hasModules()).count()).isEqualTo(1);
                });
    }

    @Test
    void snakeCaseKeysBindLikeKebabCase() {
        runner.withPropertyValues("policy-gateway.modules[0].config.endpoint=https://censor.internal/",
                        "policy-gateway.modules[0].config.failure_mode=fail-closed",
                        "policy-gateway.modules[0].config.include_remote_events=true")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void missingEndpointNamesTheField() {
        runner.run(context -> assertThat(context.getStartupFailure())
                .hasStackTraceContaining("policy-gateway.modules[0] (module: event_censor) config.endpoint: must not be null"));
    }

    @Test
    void endpointThatIsNotAnHttpUrlIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.endpoint=ftp://censor.internal/censor")
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                        "policy-gateway.modules[0] (module: event_censor) config.endpoint: must be an absolute http or https URL, got scheme 'ftp'"));
    }

    @Test
    void relativeEndpointIsRefusedNamingTheFieldNotCrashing() {
        runner.withPropertyValues("policy-gateway.modules[0].config.endpoint=/censor")
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                        "policy-gateway.modules[0] (module: event_censor) config.endpoint: must be an absolute http or https URL, got no scheme"));
    }

    @Test
    void zeroTimeoutIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.endpoint=http://censor.internal/",
                        "policy-gateway.modules[0].config.timeout=0s")
                .run(context -> assertThat(context.getStartupFailure())
                        .hasStackTraceContaining("policy-gateway.modules[0] (module: event_censor) config.timeout: must be"));
    }

    @Test
    void unknownFailureModeNamesTheValue() {
        runner.withPropertyValues("policy-gateway.modules[0].config.endpoint=http://censor.internal/",
                        "policy-gateway.modules[0].config.failure-mode=fail-sometimes")
                .run(context -> assertThat(context.getStartupFailure())
                        .hasStackTraceContaining("config.failure-mode: invalid value 'fail-sometimes'"));
    }
}
