package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import java.nio.file.Path;
import java.util.Map;
import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

/** The policy server's listener starts whenever its settings read as enabled, however the value is written. */
class PolicyServerEnabledTest {

    @ParameterizedTest
    @ValueSource(strings = {"true", "TRUE", "yes", "On", "1"})
    void everySpellingTheSettingsBindAsTrueEnablesIt(String value) {
        assertThat(PolicyServerEnabled.in(environment(value))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "no", "off", "0", "maybe", ""})
    void everyOtherValueLeavesItOffTheSettingsRefusingWhatIsNoBoolean(String value) {
        assertThat(PolicyServerEnabled.in(environment(value))).isFalse();
    }

    @Test
    void itIsOffWhenNotSet() {
        assertThat(PolicyServerEnabled.in(new StandardEnvironment())).isFalse();
    }

    @Test
    void enabledYesStartsTheFederationListenerBesideThePolicyApi(@TempDir Path directory) throws Exception {
        Path keyFile = directory.resolve("policy_server.key");
        PolicyServerKey.generate(keyFile);
        try (ConfigurableApplicationContext gateway = new SpringApplicationBuilder(PolicyGatewayApplication.class).run(
                "--server.port=0", "--management.server.port=0", "--policy-gateway.reload.watch=false",
                "--policy-gateway.server-name=example.com", "--policy-gateway.auth.token=policy-server-enabled-test",
                "--policy-gateway.policy-server.enabled=yes",
                "--policy-gateway.policy-server.name=policy.test", "--policy-gateway.policy-server.port=0",
                "--policy-gateway.policy-server.key-file=" + keyFile)) {
            TomcatWebServer server = (TomcatWebServer) ((WebServerApplicationContext) gateway).getWebServer();
            Connector[] connectors = server.getTomcat().getService().findConnectors();

            assertThat(connectors).as("the policy API's and the federation listener's").hasSize(2);
            assertThat(connectors).allSatisfy(connector -> assertThat(connector.getLocalPort()).isPositive());
        }
    }

    private static StandardEnvironment environment(String value) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("test", Map.of(PolicyServerEnabled.KEY, value)));
        return environment;
    }
}
