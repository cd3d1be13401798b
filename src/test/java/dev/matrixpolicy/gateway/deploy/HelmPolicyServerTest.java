package dev.matrixpolicy.gateway.deploy;

import static dev.matrixpolicy.gateway.deploy.HelmChart.FULLNAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import dev.matrixpolicy.gateway.config.ConfigurationLoader;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties.PolicyServer;
import dev.matrixpolicy.gateway.config.SettingSources;
import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import jakarta.validation.Validation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.core.env.SimpleCommandLinePropertySource;
import org.springframework.core.io.DefaultResourceLoader;
import tools.jackson.databind.JsonNode;

/**
 * The policy server (MSC4284): off by default, and with policy-server.yaml its listener's port, its
 * own Service, its key from an existing Secret and its settings in the gateway's keys.
 */
class HelmPolicyServerTest {
    private static final String SERVICE = FULLNAME + "-policy-server";
    private static Manifests manifests;
    private static PodSpec pod;
    private static Container container;
    private static JsonNode config;

    @TempDir
    Path dir;

    @BeforeAll
    static void render() {
        manifests = HelmChart.render("policy-server.yaml");
        pod = manifests.one(Deployment.class).getSpec().getTemplate().getSpec();
        container = HelmChart.gatewayContainer(pod.getContainers());
        config = HelmChart.applicationConfig(manifests);
    }

    @Test
    void isOffByDefaultWithNoServiceNoPortNoKeyAndNoSettings() {
        Manifests defaults = HelmChart.render("defaults.yaml");
        PodSpec defaultPod = defaults.one(Deployment.class).getSpec().getTemplate().getSpec();

        assertThat(defaults.all(Service.class)).extracting(service -> service.getMetadata().getName())
                .containsExactly(FULLNAME);
        assertThat(HelmChart.gatewayContainer(defaultPod.getContainers()).getPorts()).extracting(ContainerPort::getName)
                .containsExactly("policy-api", "policy-mgmt");
        assertThat(defaultPod.getVolumes()).extracting(Volume::getName).noneMatch(name -> name.contains("policy-server"));
        assertThat(HelmChart.applicationConfig(defaults).at("/policy-gateway/policy-server").isMissingNode()).isTrue();
    }

    @Test
    void everyRenderedFieldIsAKubernetesFieldAndTheKeyIsNoSecretOfTheChart() {
        assertThat(UnknownFields.in(manifests)).isEmpty();
        assertThat(manifests.all(Secret.class)).extracting(secret -> secret.getMetadata().getName())
                .containsExactly(FULLNAME);
        assertThat(manifests.kinds()).doesNotContain("Ingress").filteredOn("Service"::equals).hasSize(2);
    }

    @Test
    void itsServiceExposesTheFederationPortAloneNeitherThePolicyApiNorTheManagementPort() {
        Service service = manifests.one(Service.class, SERVICE);

        assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(service.getSpec().getSelector())
                .isEqualTo(manifests.one(Deployment.class).getSpec().getSelector().getMatchLabels());
        assertThat(service.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "policy-server");
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getName()).isEqualTo("federation");
            assertThat(port.getPort()).isEqualTo(8448);
            assertThat(port.getTargetPort().getStrVal()).isEqualTo("federation");
            assertThat(port.getAppProtocol()).isEqualTo("http");
        });
        // The API's own Service is unchanged.
        assertThat(manifests.one(Service.class, FULLNAME).getSpec().getPorts()).extracting(ServicePort::getName)
                .containsExactly("api");
    }

    @Test
    void theFederationContainerPortIsTheListenerPortOfTheConfig() {
        assertThat(container.getPorts()).filteredOn(port -> port.getName().equals("federation")).singleElement()
                .satisfies(port -> {
                    assertThat(port.getContainerPort()).isEqualTo(config.at("/policy-gateway/policy-server/port").asInt());
                    assertThat(port.getContainerPort()).isEqualTo(8448);
                });
    }

    @Test
    void theKeyComesFromTheExistingSecretAsAReadOnlyFileWhereKeyFilePoints() {
        Path keyFile = Path.of(config.at("/policy-gateway/policy-server/key-file").asString());
        VolumeMount mount = container.getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals(keyFile.getParent().toString())).findFirst().orElseThrow();
        Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();

        assertThat(mount.getReadOnly()).isTrue();
        assertThat(mount.getSubPath()).isNull();
        assertThat(volume.getSecret().getSecretName()).isEqualTo("matrix-policy-server-key");
        assertThat(volume.getSecret().getItems()).singleElement().satisfies(item -> {
            assertThat(item.getKey()).isEqualTo("policy-server.key");
            assertThat(item.getPath()).isEqualTo(keyFile.getFileName().toString());
        });
        // Its own directory, apart from the tokens'.
        assertThat(keyFile.getParent()).isNotEqualTo(
                Path.of(config.at("/policy-gateway/auth/token-file").asString()).getParent());
    }

    @Test
    void theSettingsReachTheConfigInTheGatewaysOwnKeys() {
        JsonNode server = config.at("/policy-gateway/policy-server");

        assertThat(server.get("enabled").asBoolean()).isTrue();
        assertThat(server.get("name").asString()).isEqualTo("policy.example.org");
        assertThat(server.at("/rooms/0/id").asString()).isEqualTo("!abc:example.org");
        assertThat(server.at("/rooms/0/version").isString()).isTrue();
        assertThat(server.at("/rooms/0/version").asString()).isEqualTo("10");
        assertThat(server.at("/rooms/1").has("version")).isFalse();
        assertThat(server.at("/servers/0/address").asString()).isEqualTo("https://10.0.0.5:8448");
        assertThat(server.at("/servers/0/trust-any-certificate").asBoolean()).isTrue();
        assertThat(server.at("/notaries/0/verify-keys/0/id").asString()).isEqualTo("ed25519:auto");
        assertThat(server.get("key-fetch-timeout").asString()).isEqualTo("5s");
        assertThat(server.at("/ip-range-blocklist/1").asString()).isEqualTo("fc00::/7");
        assertThat(server.at("/ip-range-allowlist/0").asString()).isEqualTo("10.0.0.5");
        // Left out, the gateway's defaults apply.
        assertThat(server.has("signature-cache-size")).isFalse();
        assertThat(server.has("key-cache-servers")).isFalse();
        assertThat(server.has("max-connections")).isFalse();
        assertThat(server.has("max-requests-in-progress")).isFalse();
        assertThat(server.has("rate-limit")).isFalse();
    }

    @Test
    void theRateLimitReachesTheConfigAndAppliesByHotReload() {
        Manifests limited = render(command -> command.set("policyServer.rateLimit.capacity", "5000")
                .set("policyServer.rateLimit.period", "1m"));
        Manifests capacityOnly = render(command -> command.set("policyServer.rateLimit.capacity", "5000"));

        JsonNode limit = HelmChart.applicationConfig(limited).at("/policy-gateway/policy-server/rate-limit");
        assertThat(limit.get("capacity").asInt()).isEqualTo(5000);
        assertThat(limit.get("period").asString()).isEqualTo("1m");
        assertThat(HelmChart.applicationConfig(capacityOnly).at("/policy-gateway/policy-server/rate-limit").has("period")).isFalse();
        assertThat(startupChecksum(limited)).isEqualTo(startupChecksum(manifests));
    }

    @Test
    void withoutABlocklistTheGatewaysDefaultAppliesAndAnEmptyOneIsRenderedEmpty() throws IOException {
        Path emptyList = Files.writeString(dir.resolve("empty.yaml"), "policyServer: {ipRangeBlocklist: []}");
        JsonNode byDefault = HelmChart.applicationConfig(render(command -> command.set("policyServer.ipRangeBlocklist", "null")));
        JsonNode empty = HelmChart.applicationConfig(render(command -> command.withValuesFile(emptyList)));

        assertThat(byDefault.at("/policy-gateway/policy-server").has("ip-range-blocklist")).isFalse();
        assertThat(empty.at("/policy-gateway/policy-server/ip-range-blocklist").isArray()).isTrue();
        assertThat(empty.at("/policy-gateway/policy-server/ip-range-blocklist")).isEmpty();
    }

    @Test
    void serviceTypePortAndAnnotationsAreTheValues() {
        Service service = render(command -> command.set("policyServer.service.type", "LoadBalancer")
                .set("policyServer.service.port", "443")
                .set("policyServer.service.annotations.example\\.org/tls", "on")).one(Service.class, SERVICE);

        assertThat(service.getSpec().getType()).isEqualTo("LoadBalancer");
        assertThat(service.getSpec().getPorts()).singleElement()
                .satisfies(port -> assertThat(port.getPort()).isEqualTo(443));
        assertThat(service.getMetadata().getAnnotations()).containsEntry("example.org/tls", "on");
    }

    @Test
    void roomsApplyByHotReloadWhileTheOtherSettingsRollThePods() {
        String before = startupChecksum(manifests);

        assertThat(startupChecksum(render(command -> command.set("policyServer.rooms[0].id", "!other:example.org")
                .set("policyServer.rooms[0].version", "11")))).isEqualTo(before);
        assertThat(startupChecksum(render(command -> command.set("policyServer.name", "other.example.org"))))
                .isNotEqualTo(before);
        assertThat(startupChecksum(render(command -> command.set("policyServer.keyFetchTimeout", "3s"))))
                .isNotEqualTo(before);
        Manifests limited = render(command -> command.set("policyServer.maxConnections", "2000"));
        assertThat(HelmChart.applicationConfig(limited).at("/policy-gateway/policy-server/max-connections").asInt())
                .isEqualTo(2000);
        assertThat(startupChecksum(limited)).isNotEqualTo(before);
        Manifests fewerRequests = render(command -> command.set("policyServer.maxRequestsInProgress", "500"));
        assertThat(HelmChart.applicationConfig(fewerRequests).at("/policy-gateway/policy-server/max-requests-in-progress").asInt())
                .isEqualTo(500);
        assertThat(startupChecksum(fewerRequests)).isNotEqualTo(before);
        assertThat(startupChecksum(render(command -> command.set("policyServer.service.port", "443"))))
                .isEqualTo(before);
    }

    private static String startupChecksum(Manifests rendered) {
        return rendered.one(Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations()
                .get("checksum/startup-config");
    }

    @Test
    void networkPolicyAdmitsAnyoneToTheFederationPortByDefault() {
        NetworkPolicy policy = render(command -> command.set("networkPolicy.enabled", "true")).one(NetworkPolicy.class);

        assertThat(policy.getSpec().getIngress()).hasSize(3).last().satisfies(rule -> {
            assertThat(rule.getPorts()).singleElement()
                    .satisfies(port -> assertThat(port.getPort().getIntVal()).isEqualTo(8448));
            assertThat(rule.getFrom()).isNullOrEmpty();
        });
        assertThat(policy.getSpec().getIngress()).extracting(NetworkPolicyIngressRule::getFrom)
                .filteredOn(from -> from == null || from.isEmpty()).hasSize(1);
    }

    @Test
    void networkPolicyAdmitsOnlyTheNamedPeersToTheFederationPortWhenGiven() {
        NetworkPolicy policy = render(command -> command.set("networkPolicy.enabled", "true")
                .set("policyServer.networkPolicy.from[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name",
                        "ingress-nginx")).one(NetworkPolicy.class);

        assertThat(policy.getSpec().getIngress().getLast().getFrom()).singleElement()
                .satisfies(peer -> assertThat(peer.getNamespaceSelector().getMatchLabels())
                        .containsExactly(Map.entry("kubernetes.io/metadata.name", "ingress-nginx")));
    }

    @Test
    void inSidecarModeTheSettingsAreRenderedButNoServiceOrNetworkPolicy() {
        Manifests sidecar = HelmChart.render(command -> command.set("policyServer.enabled", "true")
                .set("policyServer.name", "policy.example.org")
                .set("policyServer.key.existingSecret", "matrix-policy-server-key"), "sidecar.yaml");

        assertThat(sidecar.kinds()).doesNotContain("Service", "NetworkPolicy");
        assertThat(HelmChart.applicationConfig(sidecar).at("/policy-gateway/policy-server/enabled").asBoolean()).isTrue();
    }

    @Test
    void installNotesSayHowToCheckItAndThatTlsEndsInFrontOfIt() {
        String notes = HelmChart.notes(UnaryOperator.identity(), "policy-server.yaml");

        assertThat(notes).contains("curl https://policy.example.org/.well-known/matrix/policy_server")
                .contains("It speaks plain HTTP: terminate TLS in front of it")
                .contains("listens on port 8448 (`federation`) of each pod,\nbehind the ClusterIP Service " + SERVICE + ", port 8448.\n")
                .contains("Secret matrix-policy-server-key, key policy-server.key");
    }

    /** Like the rooms, the rate limit is left out of checksum/startup-config (theRateLimitReachesTheConfigAndAppliesByHotReload). */
    @Test
    void installNotesSayTheRateLimitAppliesByHotReloadLikeTheRooms() {
        assertThat(HelmChart.notes(UnaryOperator.identity(), "policy-server.yaml"))
                .contains("the policy server's settings but its rooms and rate limit,\nread at startup only, roll the pods");
        assertThat(HelmChart.notes(UnaryOperator.identity(), "sidecar.yaml"))
                .contains("the policy server's settings but its rooms and rate limit)");
    }

    @Test
    void enablingItWithoutAKeySecretFailsTheRenderSayingHowToCreateOne() {
        assertThatThrownBy(() -> render(command -> command.set("policyServer.key.existingSecret", "")))
                .hasMessageContaining("policyServer.enabled needs policyServer.key.existingSecret")
                .hasMessageContaining("the chart never generates the policy server's signing key")
                .hasMessageContaining("with the gateway jar or image as docs/policy-server.md (step 2) shows")
                .hasMessageContaining("kubectl create secret generic matrix-policy-server-key --namespace matrix"
                        + " --from-file=policy-server.key=policy_server.key");
    }

    @Test
    void enablingItWithoutANameFailsTheRender() {
        assertThatThrownBy(() -> render(command -> command.set("policyServer.name", "")))
                .hasMessageContaining("policyServer.enabled needs policyServer.name: the policy server's server name");
    }

    @Test
    void aListenerPortTakenByTheApiFailsTheRender() {
        assertThatThrownBy(() -> render(command -> command.set("policyServer.port", "8090")))
                .hasMessageContaining("policyServer.port (8090) must differ from ports.api and ports.management");
    }

    /**
     * The rendered application.yml read as the gateway reads it at startup (binding, validation,
     * unknown keys), with the mounted files at this test's paths: a key file as
     * GeneratePolicyServerKey writes it, and the token.
     */
    @Test
    void theRenderedSettingsBindAsTheGatewayBindsThemWithAGeneratedKey() throws IOException {
        Path applicationYml = Files.writeString(dir.resolve("application.yml"),
                manifests.one(ConfigMap.class, FULLNAME).getData().get("application.yml"));
        Path tokenFile = Files.write(dir.resolve("token"),
                Base64.getDecoder().decode(manifests.one(Secret.class).getData().get("token")));
        PolicyServerKey generated = PolicyServerKey.generate(dir.resolve("policy_server.key"));
        SettingSources sources = new SettingSources(List.of(new SimpleCommandLinePropertySource(
                "--spring.config.additional-location=file:" + applicationYml,
                "--policy-gateway.auth.token-file=" + tokenFile,
                "--policy-gateway.policy-server.key-file=" + dir.resolve("policy_server.key"))), List.of());

        PolicyGatewayProperties properties;
        try (var validation = Validation.buildDefaultValidatorFactory()) {
            properties = new ConfigurationLoader(sources, new DefaultResourceLoader(), validation.getValidator())
                    .load(file -> { }).properties();
        }
        PolicyServer server = properties.policyServer();

        assertThat(server.enabled()).isTrue();
        assertThat(server.name()).isEqualTo("policy.example.org");
        assertThat(server.port()).isEqualTo(8448);
        assertThat(server.rooms()).extracting(PolicyServer.Room::roomVersion).containsExactly("10", "12");
        assertThat(server.servers()).singleElement().satisfies(known -> assertThat(known.trustAnyCertificate()).isTrue());
        assertThat(server.notaries()).singleElement().satisfies(notary -> assertThat(notary.verifyKeys()).hasSize(1));
        assertThat(server.keyFetchTimeout()).hasSeconds(5);
        assertThat(server.ipRangeBlocklist()).containsExactly("10.0.0.0/8", "fc00::/7");
        assertThat(server.ipRangeAllowlist()).containsExactly("10.0.0.5");
        assertThat(PolicyServerKey.load(server.keyFile()).publicKeyBase64()).isEqualTo(generated.publicKeyBase64());
    }

    private static Manifests render(UnaryOperator<TemplateCommand> options) {
        return HelmChart.render(options, "policy-server.yaml");
    }
}
