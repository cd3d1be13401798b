package dev.matrixpolicy.gateway.deploy;

import static dev.matrixpolicy.gateway.deploy.HelmChart.applicationConfig;
import static dev.matrixpolicy.gateway.deploy.HelmChart.gatewayContainer;
import static dev.matrixpolicy.gateway.deploy.HelmChart.render;
import static dev.matrixpolicy.gateway.deploy.HelmChart.secretKeyBehind;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import tools.jackson.databind.JsonNode;

/** {@code state.redis}: the chart points the gateway at an existing Redis, with a password only from a Secret. */
class HelmStateTest {

    @Test
    void byDefaultTheStateStaysInMemory() {
        Manifests manifests = render("defaults.yaml");

        assertThat(applicationConfig(manifests).at("/policy-gateway").has("state")).isFalse();
        assertThat(redisUrlVariable(manifests)).isEmpty();
    }

    @Test
    void aUrlWithoutPasswordIsRenderedIntoTheConfiguration() {
        Manifests manifests = render(command -> command.set("state.redis.url", "redis://redis.cache:6379/2")
                .set("state.redis.timeout", "150ms"), "defaults.yaml");
        JsonNode redis = applicationConfig(manifests).at("/policy-gateway/state/redis");

        assertThat(redis.get("url").asString()).isEqualTo("redis://redis.cache:6379/2");
        assertThat(redis.get("timeout").asString()).isEqualTo("150ms");
        assertThat(redis.get("key-prefix").asString()).isEqualTo("mpg:");
        assertThat(redisUrlVariable(manifests)).isEmpty();
    }

    @Test
    void aUrlFromAnExistingSecretReachesThePodAsAnEnvironmentVariableAndBindsWithTheRenderedSettings() {
        Manifests manifests = render(command -> command.set("state.redis.existingSecret", "gateway-redis")
                .set("state.redis.existingSecretKey", "redis-url"), "defaults.yaml");
        JsonNode redis = applicationConfig(manifests).at("/policy-gateway/state/redis");
        EnvVar variable = redisUrlVariable(manifests).orElseThrow();

        assertThat(redis.has("url")).isFalse();
        assertThat(variable.getValueFrom().getSecretKeyRef().getName()).isEqualTo("gateway-redis");
        assertThat(variable.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("redis-url");
        // What the pod binds: the rendered keys, and the URL from the environment (relaxed binding).
        PolicyGatewayProperties.State state = new Binder(new MapConfigurationPropertySource(Map.of(
                "policy-gateway.state.redis.timeout", redis.get("timeout").asString(),
                "policy-gateway.state.redis.key-prefix", redis.get("key-prefix").asString(),
                "policy-gateway.state.redis.url", "redis://:secret@redis.cache:6379")))
                .bindOrCreate("policy-gateway.state", PolicyGatewayProperties.State.class);
        assertThat(state.redis().timeout()).isEqualTo(Duration.ofMillis(200));
        assertThat(state.redis().address()).isEqualTo("redis://redis.cache:6379").doesNotContain("secret");
    }

    @Test
    void aPasswordWrittenInTheUrlFailsTheRender() {
        assertThatThrownBy(() -> render(command -> command.set("state.redis.url", "redis://:hunter2@redis:6379"), "defaults.yaml"))
                .hasMessageContaining("state.redis.url holds a password, which would land in the ConfigMap")
                .hasMessageContaining("state.redis.existingSecret");
    }

    @Test
    void aPasswordWithoutAUserNameFailsTheRenderToo() {
        assertThatThrownBy(() -> render(command -> command.set("state.redis.url", "redis://hunter2@redis:6379"), "defaults.yaml"))
                .as("Redis clients take a lone user info for the password")
                .hasMessageContaining("state.redis.url holds a password, which would land in the ConfigMap");
    }

    @Test
    void aPasswordHoldingASlashFailsTheRenderToo() {
        // As `openssl rand -base64` makes them; a URL parser would end the host part at the '/'.
        assertThatThrownBy(() -> render(command -> command.set("state.redis.url", "redis://:ab/cd+ef==@redis:6379"), "defaults.yaml"))
                .hasMessageContaining("state.redis.url holds a password, which would land in the ConfigMap");
    }

    @Test
    void aTimeoutTheGatewayWouldRefuseToStartWithFailsTheRender() {
        assertThatThrownBy(() -> render(command -> command.set("state.redis.url", "redis://redis:6379")
                .set("state.redis.timeout", "30s"), "defaults.yaml"))
                .hasMessageContaining("state.redis.timeout (30s) must be more than 0 and at most 10s");
        assertThatThrownBy(() -> render(command -> command.set("state.redis.url", "redis://redis:6379")
                .set("state.redis.timeout", "0ms"), "defaults.yaml"))
                .hasMessageContaining("state.redis.timeout (0ms) must be more than 0");
        assertThat(applicationConfig(render(command -> command.set("state.redis.url", "redis://redis:6379")
                .set("state.redis.timeout", "10s"), "defaults.yaml")).at("/policy-gateway/state/redis/timeout").asString())
                .isEqualTo("10s");
    }

    @Test
    void aUrlOfAnotherSchemeIsRefusedByTheSchema() {
        assertThatThrownBy(() -> render(command -> command.set("state.redis.url", "http://redis:6379"), "defaults.yaml"))
                .hasMessageContaining("/state/redis/url");
    }

    @Test
    void aChangedRedisRollsThePods() {
        String before = startupChecksum(render("defaults.yaml"));
        String after = startupChecksum(render(command -> command.set("state.redis.url", "redis://redis:6379"), "defaults.yaml"));

        assertThat(after).isNotEqualTo(before);
    }

    @Test
    void aCertificateAuthoritySecretIsMountedAndTrustedThroughTheRedisSslBundle() {
        Manifests manifests = render(command -> command.set("state.redis.url", "rediss://redis.cache:6379")
                .set("state.redis.tls.caSecret", "redis-tls").set("state.redis.tls.caKey", "ca.pem"), "defaults.yaml");
        JsonNode config = applicationConfig(manifests);
        JsonNode bundle = config.at("/spring/ssl/bundle/pem/redis");
        PodSpec pod = manifests.one(Deployment.class).getSpec().getTemplate().getSpec();

        assertThat(config.at("/policy-gateway/state/redis/ssl-bundle").asString()).isEqualTo("redis");
        assertThat(bundle.has("keystore")).isFalse();
        assertThat(secretKeyBehind(pod, gatewayContainer(pod.getContainers()), bundle.at("/truststore/certificate").asString()))
                .isEqualTo("redis-tls/ca.pem");
        assertThat(config.at("/spring/profiles/include").asString()).as("the JSON logs stay on").isEqualTo("json-logs");
    }

    @Test
    void aClientCertificateSecretIsMountedAsTheRedisSslBundlesKeyStoreAndReadAgainWhenRenewed() {
        Manifests manifests = render(command -> command.set("state.redis.existingSecret", "gateway-redis")
                .set("state.redis.tls.caSecret", "redis-tls").set("state.redis.tls.clientSecret", "gateway-redis-client")
                .set("logging.json", "false"), "defaults.yaml");
        JsonNode config = applicationConfig(manifests);
        JsonNode bundle = config.at("/spring/ssl/bundle/pem/redis");
        PodSpec pod = manifests.one(Deployment.class).getSpec().getTemplate().getSpec();
        Container container = gatewayContainer(pod.getContainers());

        assertThat(config.at("/policy-gateway/state/redis/ssl-bundle").asString()).isEqualTo("redis");
        assertThat(secretKeyBehind(pod, container, bundle.at("/truststore/certificate").asString())).isEqualTo("redis-tls/ca.crt");
        assertThat(secretKeyBehind(pod, container, bundle.at("/keystore/certificate").asString()))
                .isEqualTo("gateway-redis-client/tls.crt");
        assertThat(secretKeyBehind(pod, container, bundle.at("/keystore/private-key").asString()))
                .isEqualTo("gateway-redis-client/tls.key");
        assertThat(bundle.at("/reload-on-update").asBoolean()).as("a renewed certificate is read again").isTrue();
        assertThat(config.at("/spring").has("profiles")).isFalse();
    }

    @Test
    void aCertificateSecretForAUrlWithoutTlsFailsTheRender() {
        assertThatThrownBy(() -> render(command -> command.set("state.redis.url", "redis://redis:6379")
                .set("state.redis.tls.caSecret", "redis-tls"), "defaults.yaml"))
                .hasMessageContaining("state.redis.tls.caSecret is for TLS, and state.redis.url (redis://redis:6379) does not use it: "
                        + "write rediss:// (two s)");
        assertThatThrownBy(() -> render(command -> command.set("state.redis.url", "redis://redis:6379")
                .set("state.redis.tls.clientSecret", "gateway-redis-client"), "defaults.yaml"))
                .hasMessageContaining("state.redis.tls.clientSecret is for TLS, and state.redis.url");
    }

    @Test
    void aCertificateSecretWithoutARedisFailsTheRender() {
        assertThatThrownBy(() -> render(command -> command.set("state.redis.tls.caSecret", "redis-tls"), "defaults.yaml"))
                .hasMessageContaining("state.redis.tls.caSecret is set, but no Redis is: set state.redis.url (rediss://host:port) "
                        + "or state.redis.existingSecret");
    }

    @Test
    void aCertificateSecretRollsThePods() {
        String before = startupChecksum(render(command -> command.set("state.redis.url", "rediss://redis:6379"), "defaults.yaml"));
        String after = startupChecksum(render(command -> command.set("state.redis.url", "rediss://redis:6379")
                .set("state.redis.tls.caSecret", "redis-tls"), "defaults.yaml"));

        assertThat(after).isNotEqualTo(before);
    }

    private static Optional<EnvVar> redisUrlVariable(Manifests manifests) {
        List<EnvVar> env = gatewayContainer(manifests.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers()).getEnv();
        return env.stream().filter(variable -> variable.getName().equals("POLICY_GATEWAY_STATE_REDIS_URL")).findFirst();
    }

    private static String startupChecksum(Manifests manifests) {
        return manifests.one(Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations().get("checksum/startup-config");
    }
}
