package dev.matrixpolicy.gateway.reload;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.env.RandomValuePropertySource;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.PropertySources;
import org.springframework.core.env.StandardEnvironment;

/** Which settings read at startup only, the gateway's and Spring Boot's, a reload's configuration gives otherwise. */
class RestartOnlySettingsTest {
    private static PropertySources configured(Map<String, Object> file) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("config/gateway.yml", file));
        RandomValuePropertySource.addToEnvironment(environment);
        return environment.getPropertySources();
    }

    private static PolicyGatewayProperties gateway(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(settings);
        all.put("policy-gateway.server-name", "example.com");
        return new Binder(new MapConfigurationPropertySource(all)).bindOrCreate("policy-gateway", PolicyGatewayProperties.class);
    }

    @Test
    void theGatewaysSettingsReadAtStartupAreNamedByKeyAndLeaveNothingForAReloadToApply() {
        PolicyGatewayProperties startup = gateway(Map.of());
        PolicyGatewayProperties now = gateway(Map.of("policy-gateway.decision-log.capacity", "7",
                "policy-gateway.policy-server.port", "9000", "policy-gateway.reload.watch", "false"));

        assertThat(Reloader.startupOnlyChanged(startup, startup)).isEmpty();
        assertThat(Reloader.startupOnlyChanged(startup, now))
                .containsExactly("policy-gateway.decision-log", "policy-gateway.policy-server.port", "policy-gateway.reload");
        assertThat(Reloader.differInReloadable(startup, now)).isFalse();
        assertThat(Reloader.differInReloadable(startup, gateway(Map.of("policy-gateway.max-body-size", "2MB")))).isTrue();
        PolicyGatewayProperties newKey = gateway(Map.of("policy-gateway.policy-server.key-file", "/run/secrets/new.key",
                "policy-gateway.policy-server.key-fetch-timeout", "3s", "policy-gateway.policy-server.max-connections", "100",
                "policy-gateway.policy-server.max-requests-in-progress", "50"));
        assertThat(Reloader.differInReloadable(startup, newKey)).as("the policy server reads its key as it starts").isFalse();
        assertThat(Reloader.startupOnlyChanged(startup, newKey))
                .containsExactly("policy-gateway.policy-server.key-fetch-timeout", "policy-gateway.policy-server.key-file",
                        "policy-gateway.policy-server.max-connections", "policy-gateway.policy-server.max-requests-in-progress");
        assertThat(Reloader.differInReloadable(startup, gateway(Map.of(
                "policy-gateway.policy-server.rooms[0].id", "!room:example.com",
                "policy-gateway.policy-server.rooms[0].version", "11"))))
                .as("the policy server's rooms reload").isTrue();
        PolicyGatewayProperties raisedLimit = gateway(Map.of("policy-gateway.policy-server.rate-limit.capacity", "5000"));
        assertThat(Reloader.differInReloadable(startup, raisedLimit)).as("the policy server's rate limit reloads").isTrue();
        assertThat(Reloader.startupOnlyChanged(startup, raisedLimit)).isEmpty();
    }

    @Test
    void aRandomPortReadsTheSameEachTimeTheConfigurationIsRead() {
        Map<String, Object> file = Map.of("server.port", "${random.int[20000,30000]}", "logging.level.root", "info");

        assertThat(Reloader.changed(Reloader.springSettings(configured(file)), Reloader.springSettings(configured(file)))).isEmpty();
    }

    @Test
    void listenerAndLoggingSettingsThatDifferAreNamedAndTheGatewaysOwnAreNot() {
        Map<String, String> before = Reloader.springSettings(configured(Map.of("server.port", "8090",
                "management.server.port", "9000", "policy-gateway.max-body-size", "1MB")));
        Map<String, String> after = Reloader.springSettings(configured(Map.of("server.port", "8091",
                "logging.level.dev.matrixpolicy", "debug", "policy-gateway.max-body-size", "2MB")));

        assertThat(Reloader.changed(before, after))
                .containsExactly("logging.level.dev.matrixpolicy", "management.server.port", "server.port");
    }

    @Test
    void springsOwnSettingsThatDifferAreNamedTooSinceOnlyARestartAppliesThem() {
        Map<String, String> before = Reloader.springSettings(configured(Map.of(
                "spring.lifecycle.timeout-per-shutdown-phase", "20s", "spring.threads.virtual.enabled", "true")));
        Map<String, String> after = Reloader.springSettings(configured(Map.of(
                "spring.lifecycle.timeout-per-shutdown-phase", "60s", "spring.threads.virtual.enabled", "true")));

        assertThat(Reloader.changed(before, after)).containsExactly("spring.lifecycle.timeout-per-shutdown-phase");
    }
}
