package dev.matrixpolicy.gateway.deploy;

import static dev.matrixpolicy.gateway.deploy.HelmChart.FULLNAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.TemplateCommand;
import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Every optional object switched on (all-on.yaml), each rendered as its kind requires. */
class HelmChartOptionsTest {
    private static Manifests manifests;
    private static Deployment deployment;
    private static Map<String, String> podSelector;

    @BeforeAll
    static void render() {
        manifests = HelmChart.render("all-on.yaml");
        deployment = manifests.one(Deployment.class);
        podSelector = deployment.getSpec().getSelector().getMatchLabels();
    }

    @Test
    void rendersEveryOptionalObjectAndNoIngress() {
        assertThat(manifests.kinds()).containsExactlyInAnyOrder("ServiceAccount", "ConfigMap", "ConfigMap",
                "Service", "Service", "Service", "Deployment", "ServiceMonitor", "PrometheusRule", "PodDisruptionBudget",
                "HorizontalPodAutoscaler", "NetworkPolicy");
        assertThat(UnknownFields.in(manifests)).isEmpty();
    }

    /** A Service's name is a DNS label of at most 63 characters: the full name is cut before a suffix, never the suffix. */
    @Test
    void everyServiceNameFitsInADnsLabelWhateverTheFullName() {
        String longest = "a".repeat(63);
        Manifests named = HelmChart.render(command -> command.set("fullnameOverride", longest), "all-on.yaml");

        assertThat(named.all(Service.class)).extracting(service -> service.getMetadata().getName())
                .containsExactlyInAnyOrder(longest, "a".repeat(52) + "-management", "a".repeat(49) + "-policy-server");
        assertThat(named.one(ConfigMap.class, "a".repeat(53) + "-dashboard")).isNotNull();
    }

    @Test
    void serviceMonitorScrapesThePrometheusEndpointThroughTheManagementService() {
        GenericKubernetesResource monitor = (GenericKubernetesResource) manifests.one("ServiceMonitor");
        Service management = manifests.one(Service.class, FULLNAME + "-management");
        Service api = manifests.one(Service.class, FULLNAME);
        Map<String, String> selected = monitor.get("spec", "selector", "matchLabels");
        Map<String, Object> endpoint = monitor.<List<Map<String, Object>>>get("spec", "endpoints").getFirst();

        assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
        assertThat(management.getMetadata().getLabels()).containsAllEntriesOf(selected);
        assertThat(api.getMetadata().getLabels()).doesNotContainEntry("app.kubernetes.io/component", "management");
        assertThat(endpoint).containsEntry("path", "/actuator/prometheus").containsEntry("interval", "15s")
                .containsEntry("port", management.getSpec().getPorts().getFirst().getName());
        assertThat(management.getSpec().getPorts().getFirst().getTargetPort().getStrVal()).isEqualTo("policy-mgmt");
        assertThat(management.getSpec().getSelector()).isEqualTo(podSelector);
        assertThat(api.getSpec().getPorts()).singleElement()
                .satisfies(port -> assertThat(port.getTargetPort().getStrVal()).isEqualTo("policy-api"));
    }

    @Test
    void podDisruptionBudgetKeepsTheConfiguredMinimum() {
        PodDisruptionBudget budget = manifests.one(PodDisruptionBudget.class);

        assertThat(budget.getSpec().getMinAvailable().getIntVal()).isEqualTo(2);
        assertThat(budget.getSpec().getMaxUnavailable()).isNull();
        assertThat(budget.getSpec().getSelector().getMatchLabels()).isEqualTo(podSelector);
    }

    @Test
    void aBudgetThatLeavesNoPodToEvictIsRefused() {
        assertThatThrownBy(() -> HelmChart.render(command -> minAvailable(command, "1").set("replicaCount", "1"), "defaults.yaml"))
                .hasMessageContaining("podDisruptionBudget.minAvailable (1) keeps 1 of the replicas (1, replicaCount)");
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("autoscaling.minReplicas", "2"), "all-on.yaml"))
                .hasMessageContaining("keeps 2 of the replicas (2, autoscaling.minReplicas)");
        assertThatThrownBy(() -> HelmChart.render(command -> minAvailable(command, "100%"), "defaults.yaml"))
                .hasMessageContaining("podDisruptionBudget.minAvailable (100%) keeps 2 of the replicas (2, replicaCount)");
        assertThatThrownBy(() -> HelmChart.render(command -> minAvailable(command, "51%"), "defaults.yaml"))
                .as("rounded up, as Kubernetes does").hasMessageContaining("keeps 2 of the replicas");
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("podDisruptionBudget.maxUnavailable", "0"), "defaults.yaml"))
                .hasMessageContaining("podDisruptionBudget.maxUnavailable (0) lets no pod down");
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("podDisruptionBudget.maxUnavailable", "0%"), "defaults.yaml"))
                .hasMessageContaining("podDisruptionBudget.maxUnavailable (0%) lets no pod down");
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("podDisruptionBudget.maxUnavailable", "00%"), "defaults.yaml"))
                .hasMessageContaining("podDisruptionBudget.maxUnavailable (00%) lets no pod down");
        assertThatThrownBy(() -> HelmChart.render(command -> minAvailable(command, "0100%"), "defaults.yaml"))
                .as("a percentage is decimal, leading zero or not").hasMessageContaining("keeps 2 of the replicas");
        assertThat(HelmChart.render(command -> minAvailable(command, "50%"), "defaults.yaml").one(PodDisruptionBudget.class)
                .getSpec().getMinAvailable().getStrVal()).isEqualTo("50%");
    }

    /** maxUnavailable defaults to 1: taking it as the winner would silently drop a minAvailable the operator set. */
    @Test
    void aBudgetWithBothOrNeitherOfMinAvailableAndMaxUnavailableIsRefused() {
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("podDisruptionBudget.minAvailable", "1"), "defaults.yaml"))
                .hasMessageContaining("podDisruptionBudget.minAvailable (1) and podDisruptionBudget.maxUnavailable (1) are both set")
                .hasMessageContaining("set podDisruptionBudget.maxUnavailable to null");
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("podDisruptionBudget.maxUnavailable", "null"), "defaults.yaml"))
                .hasMessageContaining("podDisruptionBudget sets neither minAvailable nor maxUnavailable");
    }

    private static TemplateCommand minAvailable(TemplateCommand command, String minAvailable) {
        return command.set("podDisruptionBudget.maxUnavailable", "null").set("podDisruptionBudget.minAvailable", minAvailable);
    }

    @Test
    void autoscalerScalesTheDeploymentOnCpuAndOwnsTheReplicaCount() {
        HorizontalPodAutoscaler autoscaler = manifests.one(HorizontalPodAutoscaler.class);

        assertThat(autoscaler.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
        assertThat(autoscaler.getSpec().getScaleTargetRef().getName()).isEqualTo(deployment.getMetadata().getName());
        assertThat(autoscaler.getSpec().getMinReplicas()).isEqualTo(3);
        assertThat(autoscaler.getSpec().getMaxReplicas()).isEqualTo(9);
        assertThat(autoscaler.getSpec().getMetrics()).singleElement().satisfies(metric -> {
            assertThat(metric.getResource().getName()).isEqualTo("cpu");
            assertThat(metric.getResource().getTarget().getAverageUtilization()).isEqualTo(65);
        });
        assertThat(deployment.getSpec().getReplicas()).isNull();
    }

    @Test
    void networkPolicyAdmitsOnlyTheHomeserverToTheApiPrometheusToTheManagementPortAndTheIngressToTheFederationPort() {
        NetworkPolicy policy = manifests.one(NetworkPolicy.class);
        List<NetworkPolicyIngressRule> rules = policy.getSpec().getIngress();

        assertThat(policy.getSpec().getPodSelector().getMatchLabels()).isEqualTo(podSelector);
        assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
        assertThat(rules).hasSize(3);
        assertThat(rules.get(0).getPorts()).singleElement()
                .satisfies(port -> assertThat(port.getPort().getIntVal()).isEqualTo(8090));
        assertThat(rules.get(0).getFrom()).singleElement().satisfies(peer -> {
            assertThat(peer.getPodSelector().getMatchLabels()).containsExactly(Map.entry("app.kubernetes.io/name", "matrix-synapse"));
            assertThat(peer.getNamespaceSelector().getMatchLabels()).containsExactly(Map.entry("kubernetes.io/metadata.name", "synapse"));
        });
        assertThat(rules.get(1).getPorts()).singleElement()
                .satisfies(port -> assertThat(port.getPort().getIntVal()).isEqualTo(8091));
        assertThat(rules.get(1).getFrom()).singleElement().satisfies(peer -> {
            assertThat(peer.getPodSelector().getMatchLabels()).containsExactly(Map.entry("app.kubernetes.io/name", "prometheus"));
            assertThat(peer.getNamespaceSelector().getMatchLabels()).containsExactly(Map.entry("kubernetes.io/metadata.name", "monitoring"));
        });
        assertThat(rules.get(2).getPorts()).singleElement()
                .satisfies(port -> assertThat(port.getPort().getIntVal()).isEqualTo(9448));
        assertThat(rules.get(2).getFrom()).singleElement().satisfies(peer -> {
            assertThat(peer.getPodSelector()).isNull();
            assertThat(peer.getNamespaceSelector().getMatchLabels()).containsExactly(Map.entry("kubernetes.io/metadata.name", "ingress"));
        });
    }

    @Test
    void networkPolicyWithoutPrometheusPeersHasNoManagementRule() {
        NetworkPolicy policy = HelmChart.render(command -> command.set("networkPolicy.prometheus", "null"), "all-on.yaml")
                .one(NetworkPolicy.class);

        assertThat(policy.getSpec().getIngress()).extracting(rule -> rule.getPorts().getFirst().getPort().getIntVal())
                .containsExactly(8090, 9448);
    }

    @Test
    void grafanaDashboardIsALabelledConfigMapWithTheSevenViews() {
        ConfigMap dashboard = manifests.one(ConfigMap.class, FULLNAME + "-dashboard");
        JsonNode json = HelmChart.readYaml(dashboard.getData().get("matrix-policy-gateway.json"));
        List<String> expressions = json.findValues("expr").stream().map(JsonNode::asString).toList();

        assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
        assertThat(dashboard.getMetadata().getNamespace()).isEqualTo("monitoring");
        assertThat(dashboard.getMetadata().getAnnotations()).containsEntry("grafana_folder", "Matrix");
        assertThat(json.get("uid").asString()).isEqualTo("matrix-policy-gateway");
        assertThat(expressions).anySatisfy(expr -> assertThat(expr)
                .contains("sum by (callback, outcome)").contains("rate(policy_decisions_total"));
        assertThat(expressions).filteredOn(expr -> expr.startsWith("histogram_quantile("))
                .hasSize(3)
                .allSatisfy(expr -> assertThat(expr).contains("sum by (callback, le)")
                        .contains("rate(policy_callback_seconds_bucket"));
        assertThat(expressions).anySatisfy(expr -> assertThat(expr).contains("policy_module_failures_total"));
        assertThat(expressions).as("a backend's failures, which its module's failure-mode answers")
                .anySatisfy(expr -> assertThat(expr).contains("policy_module_backend_seconds_count{outcome!=\"success\""));
        assertThat(expressions).anySatisfy(expr -> assertThat(expr).startsWith("topk(")
                .contains("sum by (module)").contains("outcome=~\"deny|shadow_ban\""));
        assertThat(expressions).anySatisfy(expr -> assertThat(expr).contains("max by (module, source) (policy_module_source_failing"));
        assertThat(expressions).anySatisfy(expr -> assertThat(expr).contains("max by (module, source) (policy_module_source_entries"));
        assertThat(expressions).anySatisfy(expr -> assertThat(expr).contains("max by (pod) (jvm_threads_virtual_queued"));
        assertThat(expressions).anySatisfy(expr -> assertThat(expr).contains("max by (pod) (jvm_threads_virtual_mounted"));
    }

    @Test
    void existingSecretsAreMountedWhereTheConfigPointsAndNoSecretIsCreated() {
        JsonNode config = HelmChart.applicationConfig(manifests);
        List<Volume> tokens = deployment.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(volume -> volume.getSecret() != null).toList();
        Container container = HelmChart.gatewayContainer(deployment.getSpec().getTemplate().getSpec().getContainers());

        assertThat(manifests.kinds()).doesNotContain("Secret");
        assertThat(tokens).extracting(volume -> volume.getSecret().getSecretName())
                .containsExactly("synapse-policy-token", "policy-gateway-admin", "matrix-policy-server-key");
        assertThat(tokens).extracting(volume -> volume.getSecret().getItems().getFirst().getKey())
                .containsExactly("policy-gateway-token", "admin-token", "signing.key");
        assertThat(tokens).extracting(volume -> mountPath(container, volume) + "/" + volume.getSecret().getItems().getFirst().getPath())
                .containsExactly(config.at("/policy-gateway/auth/token-file").asString(),
                        config.at("/policy-gateway/admin/token-file").asString(),
                        config.at("/policy-gateway/policy-server/key-file").asString());
        assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsKey("checksum/config").doesNotContainKeys("checksum/token", "checksum/admin-token");
    }

    private static String mountPath(Container container, Volume volume) {
        return container.getVolumeMounts().stream().filter(mount -> mount.getName().equals(volume.getName()))
                .findFirst().orElseThrow().getMountPath();
    }

    @Test
    void configMapHoldsEveryModuleEntryAndSettingExactlyAsWritten() {
        JsonNode values = HelmChart.readYaml(HelmChart.VALUES.resolve("all-on.yaml"));
        JsonNode config = HelmChart.applicationConfig(manifests);

        assertThat(config.get("policy-gateway").get("modules")).isEqualTo(values.at("/config/modules"));
        assertThat(config.at("/policy-gateway/modules/0/config/results/on_create_room").isNull()).isTrue();
        assertThat(config.at("/policy-gateway/server-name").asString()).isEqualTo("matrix.example.org:8448");
        assertThat(config.at("/policy-gateway/defaults/on-failure").asString()).isEqualTo("fail-open");
        assertThat(config.at("/policy-gateway/decision-log/capacity").asInt()).isEqualTo(5000);
        assertThat(config.at("/policy-gateway/reload/check-interval").asString()).isEqualTo("2s");
        assertThat(config.at("/policy-gateway/policy-server/port").asInt()).isEqualTo(9448);
        assertThat(config.at("/policy-gateway/policy-server/rooms")).isEqualTo(values.at("/policyServer/rooms"));
        assertThat(config.at("/policy-gateway/policy-server/signature-cache-size").asInt()).isEqualTo(50000);
        assertThat(config.at("/policy-gateway/policy-server/key-cache-servers").asInt()).isEqualTo(500);
        assertThat(config.at("/logging/level").get("dev.matrixpolicy.gateway.decisions").asString()).isEqualTo("DEBUG");
    }

    @Test
    void jvmFlagsAndExtrasReachTheContainer() {
        Container container = HelmChart.gatewayContainer(deployment.getSpec().getTemplate().getSpec().getContainers());

        assertThat(container.getEnv()).extracting(EnvVar::getName)
                .containsExactly("SPRING_CONFIG_ADDITIONAL_LOCATION", "JAVA_TOOL_OPTIONS", "TZ");
        assertThat(container.getEnv().get(1).getValue())
                .isEqualTo("-XX:+UseParallelGC -Xmn128m -XX:MaxRAMPercentage=70 -XX:+ExitOnOutOfMemoryError"
                        + " -XX:ActiveProcessorCount=2 -Xss512k");
        assertThat(container.getVolumeMounts()).anySatisfy(mount -> assertThat(mount.getMountPath()).isEqualTo("/etc/denylist"));
        assertThat(deployment.getSpec().getTemplate().getSpec().getVolumes())
                .anySatisfy(volume -> assertThat(volume.getName()).isEqualTo("denylist"));
        assertThat(deployment.getSpec().getTemplate().getSpec().getPriorityClassName()).isEqualTo("matrix-critical");
        assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("example.org/tier", "policy");
    }
}
