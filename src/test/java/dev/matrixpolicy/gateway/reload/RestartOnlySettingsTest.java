package dev.matrixpolicy.gateway.reload;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.env.RandomValuePropertySource;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/** Which of Spring Boot's settings, read at startup only, a reload's configuration gives otherwise. */
class RestartOnlySettingsTest {
    private static ConfigurableEnvironment configured(Map<String, Object> file) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("config/gateway.yml", file));
        RandomValuePropertySource.addToEnvironment(environment);
        return environment;
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
}
