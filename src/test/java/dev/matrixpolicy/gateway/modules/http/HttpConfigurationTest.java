package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.config.Generations;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ModuleConfigs;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What an http entry does to startup: the chains it joins, or one message naming the field. */
class HttpConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    private static final String ENTRY = "policy-gateway.modules[0] (module: http) ";

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.http"})
    static class Gateway {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=http",
                    "policy-gateway.modules[0].config.url=http://policy.internal:8000/v1");

    @Test
    void forwarderJoinsTheChainsOfItsCallbacksAndItsLoginTypesOnly() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite,on_new_event,on_update",
                        "policy-gateway.modules[0].config.login-types[0].type=m.login.password",
                        "policy-gateway.modules[0].config.login-types[0].fields=password")
                .run(context -> {
                    CallbackChains chains = context.getBean(Generations.class).current().chains();
                    assertThat(chains.endpoints().stream().filter(CallbackEndpoint::hasModules).map(CallbackEndpoint::name))
                            .containsExactlyInAnyOrder("user_may_invite", "on_new_event", "on_update", "check_auth");
                    assertThat(chains.authCheckers()).isEqualTo(Map.of(LoginType.of("m.login.password", "password"), List.of("http-0")));
                });
    }

    @Test
    void snakeCaseKeysAndPerCallbackTimeoutsBind() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks[0]=check_event_for_spam",
                        "policy-gateway.modules[0].config.timeouts.check_event_for_spam=500ms",
                        "policy-gateway.modules[0].config.failure_mode=fail-open",
                        "policy-gateway.modules[0].config.circuit_breaker.failure_rate_threshold=25")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void unknownCallbackNamesItsPosition() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite,user_may_teleport")
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                        ENTRY + "config.callbacks[1]: 'user_may_teleport' is not a Synapse callback"));
    }

    @Test
    void misspeltCallbackIsRefusedWithTheClosestName() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite,check_event_for_spma")
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                        ENTRY + "config.callbacks[1]: 'check_event_for_spma' is not a Synapse callback").hasStackTraceContaining(
                        "]. Did you mean check_event_for_spam?"));
    }

    @Test
    void aLoginTypeLongerThanAMatrixNamespacedIdentifierIsRefusedNamingTheKey() {
        // 255 characters at most (the spec's common identifier grammar): the Synapse module refuses a discovery
        // naming a longer one, so none of the gateway's login types would be registered
        runner.withPropertyValues("policy-gateway.modules[0].config.login-types[0].type=m.login.password",
                        "policy-gateway.modules[0].config.login-types[0].fields=password",
                        "policy-gateway.modules[0].config.login-types[1].type=org.example." + "x".repeat(288))
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(ENTRY
                        + "config.login-types[1].type: is 300 characters long, more than the 255 of a Matrix namespaced "
                        + "identifier such as m.login.password: shorten it"));
    }

    @Test
    void aLoginFieldBlankOrLongerThanAMatrixNamespacedIdentifierIsRefusedNamingTheKey() {
        runner.withPropertyValues("policy-gateway.modules[0].config.login-types[0].type=org.example.sso",
                        "policy-gateway.modules[0].config.login-types[0].fields[0]=token",
                        "policy-gateway.modules[0].config.login-types[0].fields[1]=" + "x".repeat(300))
                .run(context -> assertThat(context.getStartupFailure())
                        .hasStackTraceContaining(ENTRY + "config.login-types[0].fields[1]: is 300 characters long"));
        runner.withPropertyValues("policy-gateway.modules[0].config.login-types[0].type=org.example.sso",
                        "policy-gateway.modules[0].config.login-types[0].fields[0]=token",
                        "policy-gateway.modules[0].config.login-types[0].fields[1]= ")
                .run(context -> assertThat(context.getStartupFailure())
                        .hasStackTraceContaining(ENTRY + "config.login-types[0].fields[1]: must not be blank"));
    }

    @Test
    void checkAuthAmongTheCallbacksPointsToLoginTypes() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=check_auth")
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                        ENTRY + "config.callbacks[0]: check_auth is forwarded per login type: list them under login-types"));
    }

    @Test
    void nothingToForwardIsRefused() {
        runner.run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                ENTRY + "config.callbacks: name at least one callback to forward"));
    }

    @Test
    void timeoutForACallbackThatIsNotForwardedIsATypo() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.timeouts.user_may_join_room=200ms")
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                        ENTRY + "config.timeouts.user_may_join_room: 'user_may_join_room' is not forwarded by this module"));
    }

    @Test
    void tokenAndTokenFileTogetherAreRefused(@TempDir Path directory) throws IOException {
        Path tokenFile = Files.writeString(directory.resolve("token"), "s3cret\n");
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.token=inline", "policy-gateway.modules[0].config.token-file=" + tokenFile)
                .run(context -> assertThat(context.getStartupFailure())
                        .hasStackTraceContaining(ENTRY + "config.token: set token or token-file, not both"));
    }

    @Test
    void missingTokenFileIsRefusedWithoutQuotingAnyToken(@TempDir Path directory) {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.token-file=" + directory.resolve("absent"))
                .run(context -> assertThat(context.getStartupFailure())
                        .hasStackTraceContaining(ENTRY + "config.token-file: " + directory.resolve("absent") + " does not exist"));
    }

    @Test
    void tokenFileWithASecondLineAsDuringARotationStarts(@TempDir Path directory) throws IOException {
        Path tokenFile = Files.writeString(directory.resolve("token"), "s3cret\nnext-s3cret\n");
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.token-file=" + tokenFile)
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void tokenFileWhoseFirstLineNoHeaderCanCarryIsRefusedWithoutQuotingTheToken(@TempDir Path directory) throws IOException {
        Path tokenFile = Files.writeString(directory.resolve("token"), "\ns3c ret\nleftover\n");
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.token-file=" + tokenFile)
                .run(context -> assertThat(stackTrace(context.getStartupFailure()))
                        .contains(ENTRY + "config.token-file: the token must be one word of visible ASCII on one line "
                                + "(no 'Bearer ', no second line), but character 4 is U+0020")
                        .doesNotContain("s3c").doesNotContain("leftover"));
    }

    @Test
    void tokenWithAControlCharacterIsRefusedWithoutQuotingIt() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.token=s3c\u0007ret")
                .run(context -> assertThat(stackTrace(context.getStartupFailure()))
                        .contains(ENTRY + "config.token: the token must be one word of visible ASCII")
                        .contains("character 4 is U+0007").doesNotContain("s3c"));
    }

    @Test
    void invalidSettingsAreValidationErrorsNamingTheField() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.retries=9")
                .run(context -> assertThat(context.getStartupFailure())
                        .hasStackTraceContaining(ENTRY + "config.retries: must be less than or equal to 5"));
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.circuit-breaker.failure-rate-threshold=0")
                // the core names a nested field without its parent record for now: config.failure[-r|R]ate...
                .run(context -> assertThat(stackTrace(context.getStartupFailure())).containsPattern(Pattern.quote(ENTRY)
                        + "config\\.(circuit-breaker\\.)?failure(-r|R)ate(-t|T)hreshold: must be greater than or equal to 1"));
    }

    @Test
    void aSlidingWindowTooLargeToHoldIsRefusedNamingTheFieldRatherThanRunningOutOfMemory() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.circuit-breaker.sliding-window-size=2147483647")
                .run(context -> assertThat(stackTrace(context.getStartupFailure())).containsPattern(Pattern.quote(ENTRY)
                        + "config\\.(circuit-breaker\\.)?sliding(-w|W)indow(-s|S)ize: must be at most 10000")
                        .doesNotContain("OutOfMemoryError"));
    }

    @Test
    void aNegativeRetryBackoffIsRefusedNamingTheFieldRatherThanReadAsNoPause() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.retry-backoff=-1s")
                .run(context -> assertThat(stackTrace(context.getStartupFailure())).containsPattern(Pattern.quote(ENTRY)
                        + "config\\.retry(-b|B)ackoff: must not be negative \\(0s retries at once\\)"));
    }

    @Test
    void retryCapBelowTheFirstPauseIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.retry-backoff=2s", "policy-gateway.modules[0].config.retry-max-backoff=1s")
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                        ENTRY + "config.retry-max-backoff: must not be shorter than retry-backoff (2s)"));
    }

    @Test
    void replyLimitAboveWhatTheSynapseModuleReadsIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite",
                        "policy-gateway.modules[0].config.max-reply-size=16MB")
                .run(context -> assertThat(context.getStartupFailure()).hasStackTraceContaining(
                        ENTRY + "config.max-reply-size: must be between 1B and 8MB"));
    }

    @Test
    void urlThatIsNotHttpIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.url=file:///etc/policy",
                        "policy-gateway.modules[0].config.callbacks=user_may_invite")
                .run(context -> assertThat(context.getStartupFailure())
                        .hasStackTraceContaining(ENTRY + "config.url: must be an absolute http or https URL, got scheme 'file'"));
    }

    /** A configuration printed (a log line, a debugger) shows neither the token nor the URL's API key. */
    @Test
    void printedConfigurationHoldsNeitherTheTokenNorTheUrlsPathAndQuery() {
        HttpConfig config = ModuleConfigs.bind(HttpConfig.class, Map.of("url", "https://policy.internal:8443/v1?key=url-s3cret"),
                Map.of("token", "token-s3cret", "callbacks[0]", "user_may_invite"));

        assertThat(config.toString()).contains("url=https://policy.internal:8443/...", "token=<redacted>", "callbacks=[user_may_invite]")
                .doesNotContain("s3cret").doesNotContain("/v1");
    }

    private static String stackTrace(Throwable failure) {
        StringWriter trace = new StringWriter();
        failure.printStackTrace(new PrintWriter(trace));
        return trace.toString();
    }
}
