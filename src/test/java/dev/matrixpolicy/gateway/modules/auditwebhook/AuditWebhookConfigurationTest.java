package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.config.Generations;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.account_validity.OnUserRegistration;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What an {@code audit_webhook} entry does to startup: the chains it joins, or the one message that stops it. */
class AuditWebhookConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    /** The gateway's module wiring with this module type only, so other module types cannot interfere. */
    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.auditwebhook"})
    static class GatewayWithAuditWebhook {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(GatewayWithAuditWebhook.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com",
                    "policy-gateway.modules[0].module=audit_webhook", "policy-gateway.modules[0].name=audit");

    @Test
    void withOnlyAUrlEveryNotificationCallbackAndNoOtherHasTheWebhookInItsChain() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(Generations.class).current().chains().endpoints())
                            .filteredOn(endpoint -> endpoint.chains().values().stream().anyMatch(chain -> chain.contains("audit")))
                            .extracting(CallbackEndpoint::name)
                            .containsExactlyInAnyOrderElementsOf(AuditWebhookModuleType.NOTIFICATIONS.stream()
                                    .map(CallbackType::name).toList());
                });
    }

    /** The page's table of callbacks is what an instance without {@code callbacks} reports: every notification. */
    @Test
    void pageListsEveryNotificationCallbackTheDefaultReports() throws IOException {
        String page = Files.readString(Path.of("docs/modules/audit-webhook.md"));
        String table = page.substring(page.indexOf("| category | callbacks |"), page.indexOf("\n\n", page.indexOf("| category | callbacks |")));
        Matcher names = Pattern.compile("`(\\w+)`").matcher(table);

        assertThat(Stream.iterate(names.find(), found -> found, found -> names.find()).map(found -> names.group(1)).toList())
                .containsExactlyInAnyOrderElementsOf(AuditWebhookModuleType.NOTIFICATIONS.stream().map(CallbackType::name).toList());
    }

    @Test
    void callbacksAcceptsSynapseStyleKeysAndChoosesTheChains() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=https://audit.example.com/hook",
                        "policy-gateway.modules[0].config.callbacks[0]=on_logged_out",
                        "policy-gateway.modules[0].config.queue_capacity=5")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(Generations.class).current().chains().endpoints())
                            .filteredOn(endpoint -> endpoint.chains().values().stream().anyMatch(chain -> chain.contains("audit")))
                            .extracting(CallbackEndpoint::name)
                            .containsExactly("on_logged_out");
                });
    }

    @Test
    void missingUrlIsRefusedNamingTheField() {
        runner.run(context -> assertThat(moduleFailure(context)).isEqualTo(
                "policy-gateway.modules[0] (module: audit_webhook) config.url: must not be null"));
    }

    @Test
    void urlThatIsNotHttpIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=ftp://audit.example.com/hook")
                .run(context -> assertThat(moduleFailure(context)).isEqualTo(
                        "policy-gateway.modules[0] (module: audit_webhook) config.url: must be an absolute http or https URL, got scheme 'ftp'"));
    }

    @Test
    void urlWithCredentialsIsRefusedInFavourOfTheToken() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=https://user:secret@audit.example.com/hook")
                .run(context -> assertThat(moduleFailure(context)).endsWith(
                        "config.url: credentials in the URL (user:password@) are never sent; use a token"));
    }

    @Test
    void callbackThatIsNotANotificationIsRefusedNamingItsPosition() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.callbacks[0]=on_new_event",
                        "policy-gateway.modules[0].config.callbacks[1]=user_may_invite")
                .run(context -> assertThat(moduleFailure(context))
                        .startsWith("policy-gateway.modules[0] (module: audit_webhook) config.callbacks[1]: "
                                + "'user_may_invite' is not a notification callback; audit_webhook reports [")
                        .contains("on_account_data_updated", "on_user_login"));
    }

    @Test
    void anEmptyListOfCallbacksIsRefusedRatherThanReportingEveryMessage() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.callbacks=")
                .run(context -> assertThat(moduleFailure(context)).endsWith(
                        "config.callbacks: must name at least one notification callback: leave the key out to report every one,"
                                + " or remove the entry to report none"));
    }

    @Test
    void maxBackoffShorterThanInitialBackoffIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.initial-backoff=10s", "policy-gateway.modules[0].config.max-backoff=1s")
                .run(context -> assertThat(moduleFailure(context)).endsWith(
                        "config.max-backoff: must not be shorter than initial-backoff (10s)"));
    }

    @Test
    void emptyQueueIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.queue-capacity=0")
                .run(context -> assertThat(moduleFailure(context)).endsWith(
                        "config.queue-capacity: must be greater than or equal to 1"));
    }

    @Test
    void aQueueOfNoBytesIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.queue-max-size=0B")
                .run(context -> assertThat(moduleFailure(context)).endsWith("config.queue-max-size: must be at least 1B, got 0B"));
    }

    /** The capacity bounds the records waiting, it is not memory taken at startup: the largest one starts. */
    @Test
    void queueCapacityIsABoundNotAnAllocationSoTheLargestOneStarts() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.queue-capacity=" + Integer.MAX_VALUE)
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void zeroTimeoutIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.timeout=0s")
                .run(context -> assertThat(moduleFailure(context)).endsWith("config.timeout: must be positive"));
    }

    @Test
    void unreadableDurationNamesTheValue() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.shutdown-grace=forever")
                .run(context -> assertThat(moduleFailure(context))
                        .contains("config.shutdown-grace: invalid value 'forever'"));
    }

    /** A grace longer than the gateway waits for its modules at shutdown would never be given. */
    @Test
    void shutdownGraceLongerThanTheGatewayGivesModulesToCloseIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.shutdown-grace=30s")
                .run(context -> assertThat(moduleFailure(context))
                        .endsWith("config.shutdown-grace: must be at most 13s, the time the gateway gives its modules to close at shutdown"));
    }

    @Test
    void tokenWithWhiteSpaceIsRefusedWithoutRepeatingIt() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.token=two words")
                .run(context -> assertThat(moduleFailure(context))
                        .endsWith("config.token: the token must be one word of visible ASCII on one line "
                                + "(no 'Bearer ', no second line), but character 4 is U+0020")
                        .doesNotContain("two words"));
    }

    @Test
    void tokenAndTokenFileTogetherAreRefused(@TempDir Path directory) throws IOException {
        Path tokenFile = Files.writeString(directory.resolve("token"), "s3cret\n");
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.token=inline", "policy-gateway.modules[0].config.token-file=" + tokenFile)
                .run(context -> assertThat(moduleFailure(context))
                        .isEqualTo("policy-gateway.modules[0] (module: audit_webhook) config.token: set token or token-file, not both"));
    }

    @Test
    void missingTokenFileIsRefusedNamingIt(@TempDir Path directory) {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.token-file=" + directory.resolve("absent"))
                .run(context -> assertThat(moduleFailure(context))
                        .endsWith("config.token-file: " + directory.resolve("absent") + " does not exist"));
    }

    @Test
    void theGatewayClosesTheModuleOnShutdownSoLaterNotificationsAreCountedAsDropped() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=http://127.0.0.1:9/audit",
                        "policy-gateway.modules[0].config.shutdown-grace=0s")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ModuleInstance instance = context.getBean(Generations.class).current().instance("audit").orElseThrow();
                    MeterRegistry registry = context.getBean(MeterRegistry.class);

                    context.close();
                    instance.module().implementation(OnUserRegistration.TYPE).orElseThrow()
                            .onUserRegistration(new OnUserRegistration.Args("@carol:example.com"));

                    assertThat(registry.get("policy.module.audit.dropped").tag("module", "audit").tag("reason", "shutdown")
                            .counter().count()).isEqualTo(1);
                });
    }

    /** The startup failure's one-line form: {@code <entry> <field>: <problem>}. */
    private static String moduleFailure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        for (Throwable cause = context.getStartupFailure(); cause != null; cause = cause.getCause()) {
            if (cause.getClass().getSimpleName().equals("InvalidModuleException")) {
                return cause.getMessage();
            }
        }
        throw new AssertionError("not a module configuration failure", context.getStartupFailure());
    }
}
