package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.WorstCase;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** An entry's timeout shorter than its module's worst case for one call is warned about at startup. */
class EntryTimeoutCheckTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("is shorter than the module's worst case for one call");

    /** The http module's defaults: 2 attempts × (1s + 1s) + 50ms. */
    private static final String HTTP_DEFAULTS_WORST_CASE = "4050ms";

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = "dev.matrixpolicy.gateway.modules")
    static class BuiltInModuleTypes {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(GatewayConfiguration.class, BuiltInModuleTypes.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com",
                    "policy-gateway.modules[0].module=static", "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM",
                    "policy-gateway.modules[1].module=http", "policy-gateway.modules[1].name=policy-service",
                    "policy-gateway.modules[1].config.url=http://policy.internal:8000/v1",
                    "policy-gateway.modules[1].config.callbacks=user_may_invite");

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(EntryTimeoutCheck.class);

    @BeforeEach
    void watchLogs() {
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void stopWatchingLogs() {
        logger.detachAppender(logs);
    }

    @Test
    void entryTimeoutShorterThanTheWorstCaseLogsOneWarningWithTheEntryTheFiguresAndTheFix() {
        runner.withPropertyValues("policy-gateway.modules[1].timeout=2s").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(warnings()).singleElement().asString()
                    .startsWith("policy-gateway.modules[1] (http 'policy-service'): timeout 2s is shorter than the module's "
                            + "worst case for one call, " + HTTP_DEFAULTS_WORST_CASE
                            + " (user_may_invite: 2 attempts × (connect-timeout 1s + timeout 1s) + retry-backoff 50ms)")
                    .contains("on-failure answers (fail-closed: 503 M_UNKNOWN)")
                    .endsWith("Set policy-gateway.modules[1].timeout to at least " + HTTP_DEFAULTS_WORST_CASE
                            + ", or lower the module's own timeouts or retries.");
        });
    }

    @Test
    void entryTimeoutAboveTheWorstCaseLogsNothing() {
        runner.withPropertyValues("policy-gateway.modules[1].timeout=" + HTTP_DEFAULTS_WORST_CASE).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(warnings()).isEmpty();
        });
    }

    @Test
    void theGatewayDefaultTimeoutIsSufficientForTheModulesDefaults() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(warnings()).isEmpty();
        });
    }

    @Test
    void tooShortDefaultTimeoutIsNamedAsTheDefault() {
        runner.withPropertyValues("policy-gateway.defaults.timeout=3s", "policy-gateway.defaults.on-failure=fail-open")
                .run(context -> assertThat(warnings()).singleElement().asString()
                        .contains("timeout 3s (policy-gateway.defaults.timeout) is shorter")
                        .contains("on-failure answers (fail-open: the module is skipped)"));
    }

    @Test
    void moduleCalledWithoutADeadlineIsNotChecked() {
        PolicyModule inline = new PolicyModule() {
            @Override
            public boolean mayBlock() {
                return false;
            }

            @Override
            public Optional<WorstCase> worstCase() {
                return Optional.of(new WorstCase(Duration.ofMinutes(1), "forever"));
            }
        };
        ModuleInstance instance = new ModuleInstance(0, "inline", "inline-0", inline, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1));

        assertThat(EntryTimeoutCheck.warning(instance, false)).isEmpty();
    }

    @Test
    void moduleWithoutAWorstCaseIsNotChecked() {
        ModuleInstance instance = new ModuleInstance(0, "unknown", "unknown-0", new PolicyModule() {
        }, FailurePolicy.FAIL_CLOSED, Duration.ofMillis(1));

        assertThat(EntryTimeoutCheck.warning(instance, false)).isEmpty();
    }

    private List<String> warnings() {
        return logs.list.stream().filter(event -> event.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
    }
}
