package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.env.ConfigTreePropertySource;
import org.springframework.core.env.StandardEnvironment;

/** Which keys Spring Boot reads, as its jars describe them, in every spelling it binds. */
class SpringKeysTest {
    private static final SpringKeys KEYS = SpringKeys.readNow(SpringKeysTest.class.getClassLoader());

    @ParameterizedTest
    @ValueSource(strings = {
            "server.port", "server.address", "server.shutdown", "server.max-http-request-header-size",
            "server.maxHttpRequestHeaderSize", "server.max_http_request_header_size", "Server.Port",
            "server.tomcat.threads.max", "server.ssl.bundle", "management.server.port",
            "management.endpoints.web.exposure.include", "management.endpoints.web.exposure.include[0]",
            "management.endpoint.health.probes.enabled", "management.endpoint.health.show-details",
            "management.endpoint.decisions.access", "management.endpoint.reload.cache.time-to-live",
            "management.endpoint.health.cache.time-to-live", "management.endpoint.prometheus.access",
            "management.health.reload.enabled", "management.info.git.enabled",
            "management.prometheus.metrics.export.enabled", "management.metrics.tags.region",
            "logging.level.root", "logging.level.dev.matrixpolicy", "logging.level.[dev.matrixpolicy.gateway]",
            "logging.structured.format.console", "spring.threads.virtual.enabled", "spring.main.banner-mode",
            "spring.config.import", "spring.config.activate.on-profile", "spring.profiles.active",
            "spring.lifecycle.timeout-per-shutdown-phase", "spring.application.name", "info.app.name", "debug",
            "logging.file.name", "logging.logback.rollingpolicy.max-file-size", "server.http2.enabled",
            "spring.jackson.serialization.indent-output", "management.endpoint.health.group.liveness.include",
            "management.metrics.distribution.percentiles-histogram.http.server.requests", "policy_gateway.modules",
            "spring.ssl.bundle.pem.redis.truststore.certificate", "spring.ssl.bundle.pem.redis.keystore.private-key",
            "policy-gateway.anything.at.all"})
    void aKeySpringBootReadsIsKnownHoweverItIsSpelt(String key) {
        assertThat(problem(key)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"policy-gatway.modules", "sever.port", "server.prot", "management.endpoints.web.exposur.include",
            "spring.threads.virtual.enable", "logging.levle.root", "management.endpoint.health.acess", "loging"})
    void aKeySpringBootDoesNotReadIsNot(String key) {
        assertThat(problem(key)).hasValueSatisfying(setting -> assertThat(setting.fix()).startsWith("Did you mean "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"server", "management.endpoints.web", "spring.main"})
    void aValueWrittenWhereSpringBootReadsKeysIsNot(String key) {
        assertThat(problem(key)).hasValueSatisfying(setting -> assertThat(setting.problem()).endsWith("takes keys, not a value"));
    }

    /** A Secret mounted as a config tree holds its certificate's files beside the settings imported from it. */
    @Test
    void theFilesOfAConfigTreeAreNotChecked(@TempDir Path tree) throws IOException {
        Files.writeString(tree.resolve("tls.key"), "-----BEGIN PRIVATE KEY-----");
        Files.writeString(tree.resolve("policy-gateway.auth.token"), "secret");
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new ConfigTreePropertySource("Config tree", tree));

        SpringKeys.requireKnown(environment, SpringKeysTest.class.getClassLoader());
    }

    private static Optional<BadSetting> problem(String key) {
        return KEYS.problem(ConfigurationPropertyName.adapt(key, '.'), null);
    }
}
