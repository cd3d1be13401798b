package dev.matrixpolicy.gateway.modules.threepidchecker;

import dev.matrixpolicy.gateway.config.Generations;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.unit.DataSize;

/** How a {@code threepid_checker} entry binds, and the one message that stops startup when it is wrong. */
class ThreepidCheckerConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.threepidchecker"})
    static class Gateway {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=threepid_checker");

    @Test
    void onlyTheUrlIsRequiredAndTheRestDefaultsToTheOriginalBehaviourWithAShortCache() {
        ThreepidCheckerConfig config = bind(Map.of("url", "https://id.example.com/check"));

        assertThat(config).isEqualTo(new ThreepidCheckerConfig("https://id.example.com/check", false,
                Duration.ofSeconds(2), Duration.ofSeconds(60), 10_000, DataSize.ofMegabytes(1), FailureMode.FAIL_CLOSED));
    }

    @Test
    void synapseStyleSnakeCaseKeysBindLikeKebabCaseOnes() {
        Map<String, String> snake = Map.of("url", "https://id.example.com/check", "only_check_at_registration", "true",
                "cache_ttl", "5m", "cache_max_size", "50", "failure_mode", "fail-open", "timeout", "750ms", "max_reply_size", "64KB");
        Map<String, String> kebab = Map.of("url", "https://id.example.com/check", "only-check-at-registration", "true",
                "cache-ttl", "5m", "cache-max-size", "50", "failure-mode", "fail-open", "timeout", "750ms", "max-reply-size", "64KB");

        assertThat(bind(snake)).isEqualTo(bind(kebab)).isEqualTo(new ThreepidCheckerConfig("https://id.example.com/check",
                true, Duration.ofMillis(750), Duration.ofMinutes(5), 50, DataSize.ofKilobytes(64), FailureMode.FAIL_OPEN));
    }

    @Test
    void validEntryBuildsACheckerThatTakesPartInIs3pidAllowed() {
        runner.withPropertyValues("policy-gateway.modules[0].name=idp-check",
                        "policy-gateway.modules[0].config.url=http://127.0.0.1:9/check")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(Generations.class).current().instance("idp-check").orElseThrow().module())
                            .isInstanceOf(ThreepidChecker.class);
                });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            url=ftp://files.example.com/check     | url            | must be an absolute http or https URL, got scheme 'ftp'
            url=/check                             | url            | must be an absolute http or https URL, got no scheme
            url=https:///check                     | url            | has no host name
            url=http://threepid_backend:8080/check | url            | has no host name the HTTP client can use: letters, digits, '-' and '.' only (a Docker service name with '_' is not one)
            url=https://id.example.com:99999/check | url            | has port 99999, but a port is 1 to 65535
            url=https://id.example.com:0/check     | url            | has port 0, but a port is 1 to 65535
            url=https://id.example.com/check#frag | url            | must not have a #fragment: it is never sent to the server
            url=https://bot:pw@id.example.com/c   | url            | credentials in the URL (user:password@) are never sent
            'url=https://id.example.com/a b'       | url            | not a valid URL: Illegal character in path
            timeout=0s                             | timeout        | must be positive
            cache-ttl=-1s                          | cache-ttl      | must not be negative (0s turns the cache off)
            cache-max-size=0                       | cache-max-size | must be greater than 0
            failure-mode=fail-sometimes            | failure-mode   | invalid value 'fail-sometimes'
            """)
    void badValueStopsStartupWithOneMessageNamingTheField(String property, String field, String problem) {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=https://id.example.com/check",
                        "policy-gateway.modules[0].config." + property)
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("policy-gateway.modules[0] (module: threepid_checker) config." + field + ": ")
                        .hasStackTraceContaining(problem));
    }

    @Test
    void missingUrlStopsStartup() {
        runner.withPropertyValues("policy-gateway.modules[0].config.timeout=1s")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("policy-gateway.modules[0] (module: threepid_checker) config.url: must not be blank"));
    }

    private static ThreepidCheckerConfig bind(Map<String, String> properties) {
        return new Binder(new MapConfigurationPropertySource(properties))
                .bindOrCreate("", Bindable.of(ThreepidCheckerConfig.class));
    }
}
