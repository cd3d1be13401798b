package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.servlet.context.ServletWebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.Ordered;
import tools.jackson.databind.JsonNode;

/**
 * The gateway started as a pod starts it: the chart's rendered ConfigMap (defaults.yaml) as
 * additional configuration and its Secret as the token file. Only the ports are random and the
 * token file's path is this test's. Proves what the chart promises of the running gateway: JSON
 * logs, the keep-alive it leaves alone, the metrics the dashboard reads, and a shutdown in which
 * readiness goes down while requests are still answered.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
@ExtendWith(ExpectedOutput.class)
class HelmRenderedConfigRunTest {
    private static final String PUBLISH = """
            {"user_id": "@alice:example.com", "room_id": "!room:example.com", "request_content": {}}""";

    @TempDir
    static Path pod;

    private ConfigurableApplicationContext gateway;
    private GatewayClient api;
    private GatewayClient management;
    private final ProbesWhileClosing whileClosing = new ProbesWhileClosing();

    @BeforeAll
    void startFromTheRenderedChart() throws IOException {
        Manifests manifests = HelmChart.render("defaults.yaml");
        Path config = Files.writeString(pod.resolve("application.yml"),
                manifests.one(ConfigMap.class).getData().get("application.yml"));
        byte[] token = Base64.getDecoder().decode(manifests.one(Secret.class).getData().get("token"));
        Path tokenFile = Files.write(pod.resolve("token"), token);

        SpringApplication application = new SpringApplication(PolicyGatewayApplication.class);
        application.addListeners(whileClosing);
        // The decisions log at INFO, as deployed: the build runs the tests at WARN (pom.xml).
        gateway = application.run("--spring.config.additional-location=file:" + config,
                "--policy-gateway.auth.token-file=" + tokenFile, "--server.port=0", "--management.server.port=0",
                "--logging.level.dev.matrixpolicy.gateway.decisions=info");
        api = new GatewayClient(gateway.getEnvironment().getRequiredProperty("local.server.port", Integer.class),
                new String(token));
        management = new GatewayClient(
                gateway.getEnvironment().getRequiredProperty("local.management.port", Integer.class), "");
    }

    @AfterAll
    void stop() {
        api.close();
        management.close();
        gateway.close();
    }

    @Test
    @Order(1)
    void logLinesAreJsonInTheElasticCommonSchemaWithTheDecisionsKeyValuesAsFields(CapturedOutput output) {
        assertThat(api.post("/v1/spam_checker/user_may_publish_room", PUBLISH).status()).isEqualTo(403);

        List<JsonNode> rejections = output.getOut().lines().filter(line -> line.contains("Rejected user_may_publish_room"))
                .map(GatewayClient::json).toList();
        assertThat(rejections).singleElement().satisfies(line -> {
            assertThat(line.at("/log/level").asString()).isEqualTo("INFO");
            assertThat(line.at("/log/logger").asString()).isEqualTo("dev.matrixpolicy.gateway.decisions");
            assertThat(line.at("/service/name").asString()).isEqualTo("matrix-policy-gateway");
            assertThat(line.has("@timestamp")).isTrue();
            assertThat(line.get("callback").asString()).isEqualTo("user_may_publish_room");
            assertThat(line.get("module").asString()).isEqualTo("no-directory-publishing");
            assertThat(line.get("outcome").asString()).isEqualTo("deny");
            assertThat(line.get("errcode").asString()).isEqualTo("M_FORBIDDEN");
        });
    }

    @Test
    @Order(2)
    void idleConnectionsAreKeptLongerThanSynapseReusesThem() {
        Connector connector = ((TomcatWebServer) ((ServletWebServerApplicationContext) gateway).getWebServer())
                .getTomcat().getConnector();

        assertThat((Integer) connector.getProperty("keepAliveTimeout")).isEqualTo(180_000);
        assertThat((Integer) connector.getProperty("maxKeepAliveRequests")).isEqualTo(-1);
    }

    @Test
    @Order(3)
    void prometheusEndpointExportsWhatTheDashboardQueries() {
        api.post("/v1/spam_checker/user_may_publish_room", PUBLISH);

        String scrape = management.get("/actuator/prometheus").body();
        assertThat(scrape).containsPattern("(?m)^policy_decisions_total\\{.*callback=\"user_may_publish_room\".*"
                + "module=\"no-directory-publishing\".*outcome=\"deny\".*} [1-9]");
        assertThat(scrape).containsPattern("(?m)^policy_callback_seconds_bucket\\{.*callback=\"user_may_publish_room\".*le=\"");
    }

    @Test
    @Order(4)
    void onShutdownReadinessGoesDownFirstWhileLivenessAndTheApiStillAnswer() {
        gateway.close();

        assertThat(whileClosing.readiness.get().status()).isEqualTo(503);
        assertThat(whileClosing.readiness.get().json().get("status").asString()).isEqualTo("OUT_OF_SERVICE");
        assertThat(whileClosing.liveness.get().status()).isEqualTo(200);
        assertThat(whileClosing.api.get().status()).isEqualTo(403);
    }

    /**
     * Asks the probes and the API at the moment the context starts closing: after Boot turned
     * readiness to REFUSING_TRAFFIC and before any server stops (it runs before the listener that
     * closes the management server).
     */
    private final class ProbesWhileClosing implements ApplicationListener<ContextClosedEvent>, Ordered {
        final AtomicReference<Answer> readiness = new AtomicReference<>();
        final AtomicReference<Answer> liveness = new AtomicReference<>();
        final AtomicReference<Answer> api = new AtomicReference<>();

        @Override
        public void onApplicationEvent(ContextClosedEvent event) {
            if (event.getApplicationContext().getParent() == null && readiness.get() == null) {
                readiness.set(management.get("/actuator/health/readiness"));
                liveness.set(management.get("/actuator/health/liveness"));
                api.set(HelmRenderedConfigRunTest.this.api.post("/v1/spam_checker/user_may_publish_room", PUBLISH));
            }
        }

        @Override
        public int getOrder() {
            return HIGHEST_PRECEDENCE;
        }
    }
}
