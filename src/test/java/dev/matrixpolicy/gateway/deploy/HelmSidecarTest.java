package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Sidecar mode: the chart alone (sidecar.yaml), and a homeserver chart that puts the gateway into
 * its own pod with the chart's named templates, as docs/kubernetes.md shows.
 */
class HelmSidecarTest {
    @TempDir
    static Path workspace;
    private static Manifests homeserver;
    private static PodTemplateSpec pod;
    private static Container gateway;

    /** The homeserver stand-in chart, with this chart unpacked into its charts/ as `helm dependency` would. */
    @BeforeAll
    static void renderHomeserver() {
        Path chart = workspace.resolve("homeserver");
        HelmChart.copyTree(HelmChart.VALUES.resolve("homeserver"), chart);
        HelmChart.copyTree(HelmChart.CHART, chart.resolve("charts/matrix-policy-gateway"));
        homeserver = Manifests.parse(HelmChart.template(chart, command -> command));
        pod = homeserver.one(Deployment.class).getSpec().getTemplate();
        gateway = HelmChart.gatewayContainer(pod.getSpec().getInitContainers());
    }

    @Test
    void sidecarModeRendersOnlyTheConfigurationAndTheTokens() {
        Manifests manifests = HelmChart.render("sidecar.yaml");

        assertThat(manifests.kinds()).containsExactlyInAnyOrder("ConfigMap", "Secret", "Secret");
        assertThat(manifests.one(Secret.class, HelmChart.FULLNAME + "-admin").getData()).containsOnlyKeys("token");
    }

    @Test
    void sidecarListensOnLoopbackForTheApiAndOnThePodForProbes() {
        JsonNode config = HelmChart.applicationConfig(HelmChart.render("sidecar.yaml"));

        assertThat(config.at("/server/address").asString()).isEqualTo("127.0.0.1");
        assertThat(config.at("/server/port").asInt()).isEqualTo(9090);
        assertThat(config.at("/management/server/port").asInt()).isEqualTo(9091);
        assertThat(config.at("/management/server/address").isMissingNode()).isTrue();
    }

    @Test
    void homeserverChartRunsTheGatewayAsANativeSidecarOfItsPod() {
        assertThat(pod.getSpec().getContainers()).extracting(Container::getName).containsExactly("synapse");
        assertThat(gateway.getRestartPolicy()).isEqualTo("Always");
        assertThat(gateway.getStartupProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
        assertThat(gateway.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/readiness");
        assertThat(gateway.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(gateway.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(pod.getMetadata().getAnnotations()).containsOnlyKeys("checksum/synapse", "checksum/startup-config");
        // it stops after the homeserver has exited, with no Service endpoint to leave: a preStop sleep
        // would only spend the grace period an audit webhook's queue may need
        assertThat(gateway.getLifecycle()).isNull();
    }

    @Test
    void everyMountOfTheSidecarHasItsVolumeInTheHomeserverPod() {
        assertThat(pod.getSpec().getVolumes()).extracting(Volume::getName)
                .containsAll(gateway.getVolumeMounts().stream().map(VolumeMount::getName).toList())
                .doesNotHaveDuplicates();
        assertThat(pod.getSpec().getVolumes()).filteredOn(volume -> volume.getSecret() != null)
                .allSatisfy(volume -> assertThat(volume.getSecret().getSecretName()).isEqualTo("synapse-secrets"))
                .extracting(volume -> volume.getSecret().getItems().getFirst().getKey())
                .containsExactly("policy-gateway-token", "policy-gateway-admin-token");
    }

    @Test
    void sidecarReadsTheAdminTokenFromTheHomeserversSecretThroughADirectoryMount() {
        Path adminTokenFile = Path.of(HelmChart.applicationConfig(homeserver).at("/policy-gateway/admin/token-file").asString());

        assertThat(gateway.getVolumeMounts()).filteredOn(mount -> mount.getMountPath().equals(adminTokenFile.getParent().toString()))
                .singleElement().satisfies(mount -> {
                    assertThat(mount.getSubPath()).isNull();
                    assertThat(pod.getSpec().getVolumes()).filteredOn(volume -> volume.getName().equals(mount.getName()))
                            .singleElement().satisfies(volume -> assertThat(volume.getSecret().getItems().getFirst().getPath())
                                    .isEqualTo(adminTokenFile.getFileName().toString()));
                });
    }

    @Test
    void redisCertificatesAreMountedInTheHomeserverPodAndNamedInTheSslBundle() {
        Manifests withTls = Manifests.parse(HelmChart.template(workspace.resolve("homeserver"), command -> command
                .set("matrix-policy-gateway.state.redis.url", "rediss://redis.cache:6379")
                .set("matrix-policy-gateway.state.redis.tls.caSecret", "redis-tls")
                .set("matrix-policy-gateway.state.redis.tls.clientSecret", "gateway-redis-client")));
        PodSpec spec = withTls.one(Deployment.class).getSpec().getTemplate().getSpec();
        Container sidecar = HelmChart.gatewayContainer(spec.getInitContainers());
        JsonNode bundle = HelmChart.applicationConfig(withTls).at("/spring/ssl/bundle/pem/redis");

        assertThat(HelmChart.applicationConfig(withTls).at("/policy-gateway/state/redis/ssl-bundle").asString()).isEqualTo("redis");
        assertThat(HelmChart.secretKeyBehind(spec, sidecar, bundle.at("/truststore/certificate").asString())).isEqualTo("redis-tls/ca.crt");
        assertThat(HelmChart.secretKeyBehind(spec, sidecar, bundle.at("/keystore/private-key").asString()))
                .isEqualTo("gateway-redis-client/tls.key");
        assertThat(UnknownFields.in(withTls)).isEmpty();
    }

    @Test
    void homeserverModuleIsPointedAtTheGatewayOnLoopback() {
        String homeserverYaml = homeserver.one(ConfigMap.class, HelmChart.RELEASE + "-synapse").getData().get("homeserver.yaml");
        JsonNode gatewayConfig = HelmChart.applicationConfig(homeserver);

        assertThat(homeserverYaml).contains("base_url: http://127.0.0.1:" + gatewayConfig.at("/server/port").asInt() + "/v1/spam_checker");
        assertThat(gatewayConfig.at("/server/address").asString()).isEqualTo("127.0.0.1");
        assertThat(gatewayConfig.at("/policy-gateway/server-name").asString()).isEqualTo("matrix.example.org");
        assertThat(homeserver.kinds()).containsExactlyInAnyOrder("ConfigMap", "ConfigMap", "Deployment");
        assertThat(UnknownFields.in(homeserver)).isEmpty();
    }
}
