package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.TemplateCommand;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;

/**
 * Values that render but that the API server, the kubelet or the gateway would then refuse: the
 * chart refuses them itself, with the value and the fix, or renders them as the operator wrote them.
 */
class HelmChartGuardsTest {
    @Test
    void thePolicyApiAndTheManagementPortOnOnePortAreRefused() {
        assertThatThrownBy(() -> render(command -> command.set("ports.management", "8090")))
                .hasMessageContaining("ports.api and ports.management are both 8090")
                .hasMessageContaining("must be a listener of its own");
    }

    /**
     * The container runs as user 10001 with every capability dropped: unless the runtime or the pod
     * lowers net.ipv4.ip_unprivileged_port_start, the gateway would stop at startup, unable to bind.
     */
    @Test
    void aContainerPortThatTheUnprivilegedContainerCannotBindIsRefusedUnlessThePodLowersTheLimit() {
        assertThatThrownBy(() -> render(command -> command.set("ports.api", "80")))
                .hasMessageContaining("ports.api (80) is below net.ipv4.ip_unprivileged_port_start (1024)")
                .hasMessageContaining("a Service maps any port to it (service.port, policyServer.service.port)");
        assertThatThrownBy(() -> render(command -> command.set("ports.management", "1023")))
                .hasMessageContaining("ports.management (1023) is below net.ipv4.ip_unprivileged_port_start (1024)");
        assertThatThrownBy(() -> HelmChart.template(HelmChart.CHART, command -> command.set("policyServer.port", "443"),
                "policy-server.yaml"))
                .hasMessageContaining("policyServer.port (443) is below net.ipv4.ip_unprivileged_port_start (1024)");
        assertThatThrownBy(() -> HelmChart.template(HelmChart.CHART, command -> command.set("ports.api", "80"), "sidecar.yaml"))
                .hasMessageContaining("ports.api (80) is below net.ipv4.ip_unprivileged_port_start (1024)");

        UnaryOperator<TemplateCommand> sysctl = command -> command.set("ports.api", "80")
                .set("podSecurityContext.sysctls[0].name", "net.ipv4.ip_unprivileged_port_start");
        assertThatThrownBy(() -> render(command -> sysctl.apply(command).set("podSecurityContext.sysctls[0].value", "443")))
                .hasMessageContaining("ports.api (80) is below net.ipv4.ip_unprivileged_port_start (443)");
        assertThat(render(command -> sysctl.apply(command).set("podSecurityContext.sysctls[0].value", "80")))
                .contains("containerPort: 80");
        assertThat(render(command -> command.set("ports.api", "1024"))).contains("containerPort: 1024");
    }

    @Test
    void anAutoscalerWhoseLeastIsOverItsMostIsRefused() {
        assertThatThrownBy(() -> render(command -> command.set("autoscaling.enabled", "true")
                .set("autoscaling.minReplicas", "5").set("autoscaling.maxReplicas", "2")))
                .hasMessageContaining("autoscaling.minReplicas (5) is more than autoscaling.maxReplicas (2)");
    }

    @Test
    void anAutoscalerWithoutACpuRequestToMeasureUseAgainstIsRefused() {
        assertThatThrownBy(() -> render(command -> command.set("autoscaling.enabled", "true")
                .set("resources.requests.cpu", "null")))
                .hasMessageContaining("autoscaling.enabled needs resources.requests.cpu")
                .hasMessageContaining("Set resources.requests.cpu");
        assertThatThrownBy(() -> render(command -> command.set("autoscaling.enabled", "true").set("resources", "null")))
                .hasMessageContaining("autoscaling.enabled needs resources.requests.cpu");
        assertThat(render(command -> command.set("autoscaling.enabled", "true"))).contains("kind: HorizontalPodAutoscaler");
    }

    @Test
    void aScrapeTimeoutLongerThanTheScrapeIntervalIsRefused() {
        assertThatThrownBy(() -> render(command -> command.set("serviceMonitor.enabled", "true")
                .set("serviceMonitor.interval", "1m").set("serviceMonitor.scrapeTimeout", "1m30s")))
                .hasMessageContaining("serviceMonitor.scrapeTimeout (1m30s) is longer than serviceMonitor.interval (1m)");
        assertThatThrownBy(() -> render(command -> command.set("serviceMonitor.enabled", "true")
                .set("serviceMonitor.interval", "900ms").set("serviceMonitor.scrapeTimeout", "1s")))
                .hasMessageContaining("serviceMonitor.scrapeTimeout (1s) is longer than serviceMonitor.interval (900ms)");
        assertThat(render(command -> command.set("serviceMonitor.enabled", "true")
                .set("serviceMonitor.interval", "1m30s").set("serviceMonitor.scrapeTimeout", "90s")))
                .as("as long as the interval").contains("scrapeTimeout: 90s");
        assertThat(render(command -> command.set("serviceMonitor.enabled", "true")
                .set("serviceMonitor.interval", "1h").set("serviceMonitor.scrapeTimeout", "59m59s500ms")))
                .contains("scrapeTimeout: 59m59s500ms");
    }

    @Test
    void aServiceMonitorInSidecarModeWhereItWouldRenderNothingIsRefused() {
        assertThatThrownBy(() -> HelmChart.template(HelmChart.CHART, command -> command.set("serviceMonitor.enabled", "true"),
                "sidecar.yaml"))
                .hasMessageContaining("serviceMonitor.enabled renders nothing in sidecar mode")
                .hasMessageContaining("policy-mgmt");
    }

    @Test
    void anAutoscalerOrNetworkPolicyInSidecarModeWhereItWouldRenderNothingIsRefused() {
        assertThatThrownBy(() -> HelmChart.template(HelmChart.CHART, command -> command.set("autoscaling.enabled", "true"),
                "sidecar.yaml"))
                .hasMessageContaining("autoscaling.enabled renders nothing in sidecar mode")
                .hasMessageContaining("homeserver's replica count");
        assertThatThrownBy(() -> HelmChart.template(HelmChart.CHART, command -> command.set("networkPolicy.enabled", "true"),
                "sidecar.yaml"))
                .hasMessageContaining("networkPolicy.enabled renders nothing in sidecar mode");
    }

    /** The pods read the existing Secret alone: a homeserver given auth.token would be refused on every callback. */
    @Test
    void aTokenGivenBothAsAValueAndAsAnExistingSecretIsRefused() {
        assertThatThrownBy(() -> render(command -> command.set("auth.existingSecret", "synapse-secrets")))
                .hasMessageContaining("auth.token and auth.existingSecret are both set")
                .hasMessageContaining("Give the token one way");
        assertThatThrownBy(() -> render(command -> command.set("admin.token", "admin-token-0123456789abcdef")
                .set("admin.existingSecret", "policy-gateway-admin")))
                .hasMessageContaining("admin.token and admin.existingSecret are both set");
        assertThatThrownBy(() -> HelmChart.template(HelmChart.CHART, command -> command.set("auth.existingSecret", "synapse-secrets"),
                "sidecar.yaml"))
                .hasMessageContaining("auth.token and auth.existingSecret are both set");
    }

    @Test
    void extraEnvCannotNameAVariableTheChartSetsOnTheContainer() {
        assertThatThrownBy(() -> render(command -> command.set("extraEnv[0].name", "JAVA_TOOL_OPTIONS")
                .set("extraEnv[0].value", "-Xmx1g")))
                .hasMessageContaining("extraEnv sets JAVA_TOOL_OPTIONS, an environment variable the chart sets itself")
                .hasMessageContaining("jvm.extraOptions");
        assertThatThrownBy(() -> render(command -> command.set("extraEnv[0].name", "SPRING_CONFIG_ADDITIONAL_LOCATION")
                .set("extraEnv[0].value", "file:/etc/other.yml")))
                .hasMessageContaining("extraEnv sets SPRING_CONFIG_ADDITIONAL_LOCATION");
        assertThatThrownBy(() -> render(command -> command.set("state.redis.existingSecret", "redis")
                .set("extraEnv[0].name", "POLICY_GATEWAY_STATE_REDIS_URL").set("extraEnv[0].value", "redis://other:6379")))
                .hasMessageContaining("extraEnv sets POLICY_GATEWAY_STATE_REDIS_URL")
                .hasMessageContaining("state.redis.existingSecret alone");
        assertThat(render(command -> command.set("extraEnv[0].name", "POLICY_GATEWAY_STATE_REDIS_URL")
                .set("extraEnv[0].value", "redis://other:6379")))
                .as("not set by the chart without state.redis.existingSecret").contains("redis://other:6379");
    }

    @Test
    void podLabelsAndAnnotationsCannotReplaceTheOnesTheChartSelectsAndRollsBy() {
        assertThatThrownBy(() -> render(command -> command.set("podLabels.app\\.kubernetes\\.io/instance", "other")))
                .hasMessageContaining("podLabels sets app.kubernetes.io/instance, a label the chart sets itself");
        assertThatThrownBy(() -> render(command -> command.set("podAnnotations.checksum/startup-config", "x")))
                .hasMessageContaining("podAnnotations sets checksum/startup-config, an annotation the chart sets itself");
        assertThat(render(command -> command.set("podLabels.team", "moderation").set("podAnnotations.owner", "ops")))
                .contains("team: moderation").contains("owner: ops");
    }

    @Test
    void aNetworkPolicyWithoutHomeserverPeersIsRefusedRatherThanAdmittingEveryoneToTheApi() {
        // null (or `homeserver:` with its items commented out) removes the default list before the
        // schema's minItems can see it, and a rule without `from` admits every source.
        assertThatThrownBy(() -> render(command -> command.set("networkPolicy.enabled", "true")
                .set("networkPolicy.homeserver", "null")))
                .hasMessageContaining("networkPolicy.homeserver names no peer")
                .hasMessageContaining("admits every pod and address");
    }

    @Test
    void aStartupOrLivenessProbeThatMustSucceedTwiceIsRefusedByTheSchema() {
        assertThatThrownBy(() -> render(command -> command.set("probes.liveness.successThreshold", "2")))
                .hasMessageContaining("/probes/liveness/successThreshold");
        assertThatThrownBy(() -> render(command -> command.set("probes.startup.successThreshold", "2")))
                .hasMessageContaining("/probes/startup/successThreshold");
        assertThat(render(command -> command.set("probes.readiness.successThreshold", "2"))).contains("successThreshold: 2");
    }

    @Test
    void namesThatLookLikeNumbersStayStrings() {
        String rendered = render(command -> command.withName("1234").set("auth.token", "").set("auth.existingSecret", "0123")
                .set("state.redis.existingSecret", "1e3").set("state.redis.existingSecretKey", "0x10"));

        List<String> notStrings = new ArrayList<>();
        try (MappingIterator<JsonNode> documents = HelmChart.YAML.readerFor(JsonNode.class).readValues(rendered)) {
            while (documents.hasNext()) {
                collectNonStrings(documents.next(), "", List.of("name", "secretName", "key", "app.kubernetes.io/instance",
                        "serviceAccountName"), notStrings);
            }
        }
        assertThat(notStrings).isEmpty();
        assertThat(rendered).contains("secretName: \"0123\"").contains("app.kubernetes.io/instance: \"1234\"");
    }

    @Test
    void aNamespaceThatLooksLikeANumberStaysAString() {
        String rendered = render(command -> command.withNamespace("1234").set("serviceMonitor.enabled", "true")
                .set("grafanaDashboard.enabled", "true"));

        List<JsonNode> namespaces = new ArrayList<>();
        try (MappingIterator<JsonNode> documents = HelmChart.YAML.readerFor(JsonNode.class).readValues(rendered)) {
            while (documents.hasNext()) {
                JsonNode document = documents.next();
                namespaces.addAll(document.findValues("namespace"));
                namespaces.addAll(document.findValues("matchNames"));
            }
        }
        assertThat(namespaces).hasSize(2).allSatisfy(namespace -> assertThat(namespace.toString()).contains("\"1234\""));
    }

    @Test
    void theTokenCommandOfTheNotesReadsAKeyWithDots() {
        String notes = HelmChart.notes(command -> command.set("auth.token", "")
                .set("auth.existingSecret", "tokens").set("auth.existingSecretKey", "policy.gateway.token"));

        assertThat(notes).contains("jsonpath='{.data.policy\\.gateway\\.token}'");
    }

    /** It renders (a LimitRange may set the limit at admission), but the heap would be a share of the node's memory. */
    @Test
    void withoutAMemoryLimitTheNotesWarnThatTheHeapIsAShareOfTheNodesMemory() {
        assertThat(HelmChart.notes(command -> command.set("resources.limits", "null"), "defaults.yaml"))
                .contains("WARNING: resources.limits.memory is not set")
                .contains("jvm.maxRAMPercentage (60%) of the node's memory");
        assertThat(HelmChart.notes(command -> command.set("resources", "null"), "sidecar.yaml"))
                .contains("WARNING: resources.limits.memory is not set");
        assertThat(HelmChart.notes(UnaryOperator.identity(), "defaults.yaml")).doesNotContain("resources.limits.memory");
    }

    @Test
    void theNotesReadTheReloadStatusThroughThePortForwardSinceTheImageHasNoCurl() {
        String notes = HelmChart.notes(UnaryOperator.identity(), "defaults.yaml");

        assertThat(notes).contains("kubectl port-forward").contains("with the\nport-forward above")
                .doesNotContain("in the pod");
    }

    @Test
    void restartOnConfigChangeSaysWhetherTheRunningPodsStillReload() {
        assertThat(HelmChart.notes(command -> command.set("restartOnConfigChange", "true"), "defaults.yaml"))
                .contains("the running pods also reload the changed files");
        assertThat(HelmChart.notes(command -> command.set("restartOnConfigChange", "true").set("config.reload.watch", "false"),
                "defaults.yaml")).contains("one by one: the pods\nread their configuration and tokens at startup only");
    }

    @Test
    void aConfigurationNeitherWatchedNorRolledIsToldThatAChangeReachesNoPod() {
        // reload.watch: false reads config and tokens at startup only, and without restartOnConfigChange
        // nothing rolls the pods on their change: an operator who reloads by hand may mean it, so it renders, and says so.
        assertThat(HelmChart.notes(command -> command.set("config.reload.watch", "false"), "defaults.yaml"))
                .contains("A change to config or to the token reaches NO running pod")
                .contains("kubectl rollout restart deployment/")
                .doesNotContain("reaches the running pods without a restart");
        assertThat(render(command -> command.set("config.reload.watch", "false"))).doesNotContain("checksum/config:");
    }

    private static String render(UnaryOperator<TemplateCommand> options) {
        return HelmChart.template(HelmChart.CHART, options, "defaults.yaml");
    }

    private static void collectNonStrings(JsonNode node, String path, List<String> fields, List<String> found) {
        if (node == null) {
            return;
        }
        if (node.isObject()) {
            for (var field : node.properties()) {
                String at = path + "/" + field.getKey();
                if (fields.contains(field.getKey()) && field.getValue().isValueNode() && !field.getValue().isString()) {
                    found.add(at + " = " + field.getValue());
                }
                collectNonStrings(field.getValue(), at, fields, found);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                collectNonStrings(node.get(i), path + "/" + i, fields, found);
            }
        }
    }
}
