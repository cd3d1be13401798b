package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.RedisState;
import dev.matrixpolicy.gateway.state.SharedState;
import dev.matrixpolicy.gateway.state.Take;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.RedisServer;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * {@code policy-gateway.state.redis} with {@code rediss://}: the Spring Boot SSL bundle that
 * {@code ssl-bundle} names is what lets the gateway trust a Redis whose certificate comes from a
 * private authority, and a bundle that cannot be used stops startup naming the key.
 */
class RedisTlsConfigurationTest {
    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = "dev.matrixpolicy.gateway.config")
    static class Gateway {
    }

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT, "serves no module");

    @RegisterExtension
    static final RedisServer redis = RedisServer.tls(false, "IP:127.0.0.1");

    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(StateConfiguration.class, Level.INFO);

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class, SslAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com");

    @Test
    void aRedissUrlTrustsTheCertificateAuthorityOfTheSslBundleItNames() {
        runner.withPropertyValues("policy-gateway.state.redis.url=" + redis.url(), "policy-gateway.state.redis.ssl-bundle=redis",
                        "spring.ssl.bundle.pem.redis.truststore.certificate=file:" + redis.certificates().caFile())
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(SharedState.class).take("tls", new Bucket(1, Duration.ofMinutes(1))))
                            .isEqualTo(Take.ALLOWED);
                    assertThat(lines.all()).anyMatch(line -> line.startsWith("Shared state: Redis at rediss://127.0.0.1:"));
                });
    }

    /** As docs/kubernetes.md gives them through extraEnv for a setup the chart's state.redis.tls does not cover. */
    @Test
    void theBundleAndItsNameMayComeFromEnvironmentVariables() {
        runner.withPropertyValues("policy-gateway.state.redis.url=" + redis.url())
                .withInitializer(context -> context.getEnvironment().getPropertySources().addFirst(
                        new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, Map.of(
                                "POLICY_GATEWAY_STATE_REDIS_SSL_BUNDLE", "redis",
                                "SPRING_SSL_BUNDLE_PEM_REDIS_TRUSTSTORE_CERTIFICATE", "file:" + redis.certificates().caFile()))))
                .run(context -> assertThat(context.getBean(SharedState.class).take("env", new Bucket(1, Duration.ofMinutes(1))))
                        .isEqualTo(Take.ALLOWED));
    }

    @Test
    void withoutABundleAPrivateAuthorityIsNotTrustedAndTheStartupWarningSaysSo() {
        runner.withPropertyValues("policy-gateway.state.redis.url=" + redis.url()).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(((RedisState) context.getBean(SharedState.class)).connectionFailure()).isPresent();
            assertThat(lines.all()).anyMatch(line -> line.contains("does not answer yet (")
                    && line.contains("unable to find valid certification path"));
        });
    }

    @Test
    void aBundleNoneIsNamedStopsStartupNamingTheKeyAndTheBundle() {
        runner.withPropertyValues("policy-gateway.state.redis.url=" + redis.url(), "policy-gateway.state.redis.ssl-bundle=redis-ca")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("policy-gateway.state.redis.ssl-bundle: no SSL bundle is named 'redis-ca'"));
    }

    @Test
    void aBundleWhoseCertificateFileIsMissingStopsStartup() {
        runner.withPropertyValues("policy-gateway.state.redis.url=" + redis.url(), "policy-gateway.state.redis.ssl-bundle=redis",
                        "spring.ssl.bundle.pem.redis.truststore.certificate=file:/nonexistent/ca.crt")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining("/nonexistent/ca.crt"));
    }

    @Test
    void anSslBundleForAUrlWithoutTlsIsRefused() {
        runner.withPropertyValues("policy-gateway.state.redis.url=redis://127.0.0.1:" + redis.port(),
                        "policy-gateway.state.redis.ssl-bundle=redis")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("ssl-bundle: is for TLS, and the url (redis://) does not use it"));
    }

    @Test
    void aBlankSslBundleIsRefused() {
        runner.withPropertyValues("policy-gateway.state.redis.url=" + redis.url(), "policy-gateway.state.redis.ssl-bundle= ")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining("ssl-bundle: names no bundle"));
    }
}
