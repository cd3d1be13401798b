package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.SharedState;
import dev.matrixpolicy.gateway.state.Take;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.RedisServer;
import dev.matrixpolicy.gateway.support.TestCertificates;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * state.redis.tls as a pod gets it: the gateway started on the rendered ConfigMap, with each file its
 * SSL bundle names laid out where the rendered mounts and Secret items put it (under a directory of
 * this test's, the one change made to the configuration), against a redis-server that speaks TLS
 * only, with a certificate from a throwaway authority, and asks for a client certificate.
 */
@ExtendWith(ExpectedOutput.class)
class HelmRedisTlsRunTest {
    @RegisterExtension
    static final RedisServer redis = RedisServer.tls(true, "IP:127.0.0.1");

    @TempDir
    Path pod;

    @Test
    void theRenderedSslBundleLetsTheGatewayUseARedisWithAPrivateAuthorityAndClientCertificates() throws IOException {
        Manifests manifests = HelmChart.render(command -> command.set("state.redis.url", redis.url())
                .set("state.redis.tls.caSecret", "redis-tls").set("state.redis.tls.clientSecret", "gateway-redis-client"),
                "defaults.yaml");
        String rendered = manifests.one(ConfigMap.class).getData().get("application.yml");
        PodSpec spec = manifests.one(Deployment.class).getSpec().getTemplate().getSpec();
        Container container = HelmChart.gatewayContainer(spec.getContainers());
        TestCertificates certificates = redis.certificates();
        Map<String, Path> secrets = Map.of("redis-tls/ca.crt", certificates.caFile(),
                "gateway-redis-client/tls.crt", certificates.clientCertificate(),
                "gateway-redis-client/tls.key", certificates.clientKey());
        JsonNode bundle = HelmChart.readYaml(rendered).at("/spring/ssl/bundle/pem/redis");
        for (JsonNode store : bundle) {
            for (JsonNode file : store) {
                Path mounted = Path.of(file.asString().replaceFirst("^file:/", ""));
                Files.createDirectories(pod.resolve(mounted).getParent());
                Files.copy(secrets.get(HelmChart.secretKeyBehind(spec, container, file.asString())), pod.resolve(mounted));
            }
        }
        Path config = Files.writeString(pod.resolve("application.yml"), rendered.replace("file:/", "file:" + pod + "/"));
        Path token = Files.write(pod.resolve("token"), Base64.getDecoder().decode(manifests.one(Secret.class).getData().get("token")));

        try (ConfigurableApplicationContext gateway = new SpringApplication(PolicyGatewayApplication.class).run(
                "--spring.config.additional-location=file:" + config, "--policy-gateway.auth.token-file=" + token,
                "--server.port=0", "--management.server.port=0")) {
            assertThat(bundle.properties()).extracting(Map.Entry::getKey)
                    .containsExactlyInAnyOrder("truststore", "keystore", "reload-on-update");
            assertThat(gateway.getBean(SharedState.class).take("helm-tls", new Bucket(1, Duration.ofMinutes(1))))
                    .isEqualTo(Take.ALLOWED);
        }
    }
}
