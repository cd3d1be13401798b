package dev.matrixpolicy.gateway.deploy;

import static dev.matrixpolicy.gateway.deploy.HelmChart.FULLNAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.files.PeriodicCheck;
import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.convert.DurationStyle;
import tools.jackson.databind.JsonNode;

/**
 * The chart with its defaults (and the one value it cannot default, the token): what every
 * install gets.
 */
class HelmChartTest {
    private static final String ADMIN_TOKEN = "admin-token-0123456789abcdef";
    private static Manifests manifests;
    private static Deployment deployment;
    private static Container container;

    @BeforeAll
    static void render() {
        manifests = HelmChart.render("defaults.yaml");
        deployment = manifests.one(Deployment.class);
        container = HelmChart.gatewayContainer(pod().getContainers());
    }

    private static PodSpec pod() {
        return deployment.getSpec().getTemplate().getSpec();
    }

    @Test
    void lintsCleanInStrictMode() {
        LintResult lint = new Helm(HelmChart.CHART).lint().strict().call();

        assertThat(lint.isFailed()).as("%s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).allSatisfy(message -> assertThat(message).startsWith("[INFO]"));
    }

    @Test
    void rendersTheGatewayWithADisruptionBudgetAndNoOptionalObject() {
        assertThat(manifests.kinds()).containsExactlyInAnyOrder("ServiceAccount", "Secret", "ConfigMap", "Service",
                "Deployment", "PodDisruptionBudget");
        assertThat(manifests.objects()).allSatisfy(object -> {
            assertThat(object.getMetadata().getName()).isEqualTo(FULLNAME);
            assertThat(object.getMetadata().getLabels())
                    .containsEntry("app.kubernetes.io/name", "matrix-policy-gateway")
                    .containsEntry("app.kubernetes.io/instance", HelmChart.RELEASE)
                    .containsKey("helm.sh/chart");
        });
    }

    /** Two replicas that ScheduleAnyway may put on one node: without a budget one drain evicts both. */
    @Test
    void theDefaultBudgetLetsOnePodDownAtATimeWhateverTheReplicaCount() {
        PodDisruptionBudget budget = manifests.one(PodDisruptionBudget.class);
        PodDisruptionBudget oneReplica = HelmChart.render(command -> command.set("replicaCount", "1"), "defaults.yaml")
                .one(PodDisruptionBudget.class);

        assertThat(budget.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
        assertThat(budget.getSpec().getMinAvailable()).isNull();
        assertThat(budget.getSpec().getSelector().getMatchLabels()).isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
        assertThat(oneReplica.getSpec()).isEqualTo(budget.getSpec());
    }

    /**
     * Pods that all refuse their configuration crash and restart, never ready: Kubernetes' default policy
     * keeps them from eviction while too few pods are ready, which they never will be, so a node drain
     * would wait on a pod that serves nothing.
     */
    @Test
    void aDrainMayEvictAPodThatIsNotReadyWhateverTheBudget() {
        PodDisruptionBudget minimum = HelmChart.render(command -> command.set("podDisruptionBudget.maxUnavailable", "null")
                .set("podDisruptionBudget.minAvailable", "1"), "defaults.yaml").one(PodDisruptionBudget.class);

        assertThat(manifests.one(PodDisruptionBudget.class).getSpec().getUnhealthyPodEvictionPolicy()).isEqualTo("AlwaysAllow");
        assertThat(minimum.getSpec().getUnhealthyPodEvictionPolicy()).isEqualTo("AlwaysAllow");
    }

    @Test
    void everyRenderedFieldIsAKubernetesField() {
        assertThat(UnknownFields.in(manifests)).isEmpty();
    }

    /** The ConfigMap indents application.yml with nindent, which turns an empty line into a line of spaces. */
    @Test
    void theRenderedApplicationYmlHasNoBlankLineWhicheverBlocksAreSet() {
        Map<String, Manifests> renders = Map.of("defaults", manifests, "all-on", HelmChart.render("all-on.yaml"),
                "state", HelmChart.render(command -> command.set("state.redis.url", "redis://redis:6379"), "defaults.yaml"));

        renders.forEach((name, rendered) -> assertThat(
                rendered.one(ConfigMap.class, FULLNAME).getData().get("application.yml").lines())
                .as(name).noneMatch(String::isBlank));
    }

    @Test
    void probesAskTheActuatorHealthGroupsOnTheManagementPort() {
        int managementPort = HelmChart.applicationConfig(manifests).at("/management/server/port").asInt();

        assertThat(managementPort).isEqualTo(8091);
        assertThat(probedPort(container.getStartupProbe())).isEqualTo(managementPort);
        assertThat(probedPort(container.getLivenessProbe())).isEqualTo(managementPort);
        assertThat(probedPort(container.getReadinessProbe())).isEqualTo(managementPort);
        assertThat(container.getStartupProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/readiness");
    }

    @Test
    void startupProbeGivesTheJvmTimeBeforeLivenessCounts() {
        Probe startup = container.getStartupProbe();

        assertThat(startup.getPeriodSeconds() * startup.getFailureThreshold()).isGreaterThanOrEqualTo(60);
    }

    /** The port number a probe reaches, resolving a named port through the container's ports. */
    static int probedPort(Probe probe) {
        HTTPGetAction get = probe.getHttpGet();
        if (get.getPort().getStrVal() == null) {
            return get.getPort().getIntVal();
        }
        return container.getPorts().stream().filter(port -> port.getName().equals(get.getPort().getStrVal()))
                .mapToInt(ContainerPort::getContainerPort).findFirst().orElseThrow();
    }

    @Test
    void containerRunsNonRootOnAReadOnlyRootWithNoCapabilities() {
        SecurityContext security = container.getSecurityContext();

        assertThat(security.getRunAsNonRoot()).isTrue();
        assertThat(security.getRunAsUser()).isPositive();
        assertThat(security.getReadOnlyRootFilesystem()).isTrue();
        assertThat(security.getAllowPrivilegeEscalation()).isFalse();
        assertThat(security.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(security.getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(security.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(pod().getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod().getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(pod().getAutomountServiceAccountToken()).isFalse();
    }

    @Test
    void tmpIsAWritableEmptyDirForTomcat() {
        VolumeMount tmp = mount("/tmp");

        assertThat(tmp.getReadOnly()).isNotEqualTo(Boolean.TRUE);
        assertThat(volume(tmp.getName()).getEmptyDir()).isNotNull();
    }

    @Test
    void terminationGraceCoversThePreStopSleepTheConnectionDrainTheRequestsInFlightAndTheModulesClosing() {
        JsonNode applicationYml = HelmChart.readYaml(Path.of("application.yml"));
        Duration shutdownPhase = DurationStyle.detectAndParse(
                applicationYml.at("/spring/lifecycle/timeout-per-shutdown-phase").asString());
        int preStopSleep = container.getLifecycle().getPreStop().getSleep().getSeconds().intValue();

        // A reload under way, which the configuration's watcher waits for before the drain; the drain
        // and then the wait for the requests in flight: one shutdown phase each; then the modules'
        // closing (an audit webhook delivering its queue).
        long minimum = preStopSleep + PeriodicCheck.STOPPING.toSeconds() + 2 * shutdownPhase.toSeconds()
                + Generations.SHUTDOWN_BOUND.toSeconds();

        assertThat(applicationYml.at("/server/shutdown").asString()).isEqualTo("graceful");
        assertThat(preStopSleep).isPositive();
        assertThat(pod().getTerminationGracePeriodSeconds()).isGreaterThanOrEqualTo(minimum);
        // The chart's own check knows the gateway's shutdown phase.
        assertThatNoException().isThrownBy(() -> withGracePeriod(minimum));
        assertThatThrownBy(() -> withGracePeriod(minimum - 1)).hasMessageContaining("must cover preStopSleepSeconds");
    }

    private static Manifests withGracePeriod(long seconds) {
        return HelmChart.render(command -> command.set("gracefulShutdown.terminationGracePeriodSeconds", seconds),
                "defaults.yaml");
    }

    @Test
    void replicasSpreadOverZonesAndNodes() {
        List<TopologySpreadConstraint> spread = pod().getTopologySpreadConstraints();

        assertThat(spread).extracting(TopologySpreadConstraint::getTopologyKey)
                .containsExactly("topology.kubernetes.io/zone", "kubernetes.io/hostname");
        assertThat(spread).allSatisfy(constraint -> assertThat(constraint.getLabelSelector().getMatchLabels())
                .isEqualTo(deployment.getSpec().getSelector().getMatchLabels()));
    }

    @Test
    void requestsAndAMemoryLimitAreSet() {
        assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(container.getResources().getLimits()).containsKey("memory");
        assertThat(env("JAVA_TOOL_OPTIONS")).contains("-XX:MaxRAMPercentage=60");
    }

    /**
     * The process takes about 190 MiB besides its heap (docs/kubernetes.md): a heap grown to its
     * ceiling must leave that much of the limit, or the kernel kills the container, where a Java
     * OutOfMemoryError would at least say why.
     */
    @Test
    void theDefaultHeapCeilingLeavesTheRestOfTheProcessRoomWithinTheMemoryLimit() {
        long limit = Quantity.getAmountInBytes(container.getResources().getLimits().get("memory")).longValueExact();
        Matcher percentage = Pattern.compile("-XX:MaxRAMPercentage=(\\d+)").matcher(env("JAVA_TOOL_OPTIONS"));
        assertThat(percentage.find()).isTrue();

        long heap = limit * Long.parseLong(percentage.group(1)) / 100;

        assertThat(limit - heap).isGreaterThanOrEqualTo(190L << 20);
    }

    @Test
    void serviceExposesThePolicyApiButNotTheManagementPort() {
        Service service = manifests.one(Service.class);

        assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(service.getSpec().getSelector()).isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(port -> {
            assertThat(port.getPort()).isEqualTo(8090);
            assertThat(port.getTargetPort().getStrVal()).isEqualTo("policy-api");
        });
        assertThat(container.getPorts()).filteredOn(port -> port.getName().equals("policy-api"))
                .singleElement().extracting(ContainerPort::getContainerPort)
                .isEqualTo(HelmChart.applicationConfig(manifests).at("/server/port").asInt());
        assertThat(service.getSpec().getPorts()).extracting(ServicePort::getPort).doesNotContain(8091);
    }

    @Test
    void configMapHoldsTheModulesListFromValuesAndIsWhatThePodReads() {
        JsonNode values = HelmChart.readYaml(HelmChart.CHART.resolve("values.yaml"));
        JsonNode config = HelmChart.applicationConfig(manifests);
        VolumeMount configMount = mount("/etc/matrix-policy-gateway");

        assertThat(config.at("/policy-gateway/modules")).isEqualTo(values.at("/config/modules"));
        assertThat(config.at("/policy-gateway/modules/0/name").asString()).isEqualTo("no-directory-publishing");
        assertThat(volume(configMount.getName()).getConfigMap().getName()).isEqualTo(FULLNAME);
        assertThat(env("SPRING_CONFIG_ADDITIONAL_LOCATION"))
                .isEqualTo("file:" + configMount.getMountPath() + "/application.yml");
    }

    @Test
    void configLeavesTheServerSettingsOfApplicationYmlAlone() {
        JsonNode server = HelmChart.applicationConfig(manifests).get("server");

        // Graceful shutdown and the 180 s keep-alive come from the embedded application.yml.
        assertThat(server.properties()).extracting(Map.Entry::getKey).containsExactly("port");
    }

    @Test
    void tokenComesFromTheSecretAsAFileNeverAsAnEnvironmentVariable() {
        Secret secret = manifests.one(Secret.class);
        String tokenFile = HelmChart.applicationConfig(manifests).at("/policy-gateway/auth/token-file").asString();
        VolumeMount tokenMount = mount(Path.of(tokenFile).getParent().toString());
        Volume tokenVolume = volume(tokenMount.getName());

        assertThat(new String(Base64.getDecoder().decode(secret.getData().get("token")), StandardCharsets.UTF_8))
                .isEqualTo("test-token-0123456789abcdef");
        assertThat(tokenVolume.getSecret().getSecretName()).isEqualTo(secret.getMetadata().getName());
        assertThat(tokenVolume.getSecret().getItems()).singleElement()
                .satisfies(item -> assertThat(tokenMount.getMountPath() + "/" + item.getPath()).isEqualTo(tokenFile));
        assertThat(container.getEnv()).allSatisfy(variable -> {
            assertThat(variable.getValueFrom()).isNull();
            assertThat(variable.getValue()).doesNotContain("test-token");
        });
        assertThat(container.getEnvFrom()).isNullOrEmpty();
    }

    @Test
    void adminTokenComesFromASecretOfItsOwnAsAFileOfADirectoryMount() {
        Manifests withAdmin = withAdminToken(ADMIN_TOKEN);
        PodSpec pod = withAdmin.one(Deployment.class).getSpec().getTemplate().getSpec();
        Container gateway = HelmChart.gatewayContainer(pod.getContainers());
        JsonNode config = HelmChart.applicationConfig(withAdmin);
        Path adminTokenFile = Path.of(config.at("/policy-gateway/admin/token-file").asString());
        Path tokenFile = Path.of(config.at("/policy-gateway/auth/token-file").asString());
        VolumeMount adminMount = gateway.getVolumeMounts().stream()
                .filter(mount -> mount.getMountPath().equals(adminTokenFile.getParent().toString())).findFirst().orElseThrow();
        Volume adminVolume = pod.getVolumes().stream().filter(volume -> volume.getName().equals(adminMount.getName()))
                .findFirst().orElseThrow();
        Secret adminSecret = withAdmin.one(Secret.class, FULLNAME + "-admin");

        assertThat(new String(Base64.getDecoder().decode(adminSecret.getData().get("token")), StandardCharsets.UTF_8))
                .isEqualTo(ADMIN_TOKEN);
        assertThat(adminVolume.getSecret().getSecretName()).isEqualTo(adminSecret.getMetadata().getName());
        assertThat(adminVolume.getSecret().getItems()).singleElement()
                .satisfies(item -> assertThat(adminMount.getMountPath() + "/" + item.getPath()).isEqualTo(adminTokenFile.toString()));
        // Its own directory, mounted whole: the kubelet updates it in place and the gateway reloads it.
        assertThat(adminTokenFile.getParent()).isNotEqualTo(tokenFile.getParent());
        assertThat(adminMount.getSubPath()).isNull();
        assertThat(adminMount.getReadOnly()).isTrue();
        assertThat(withAdmin.one(Secret.class, FULLNAME).getData().get("token")).isEqualTo(manifests.one(Secret.class).getData().get("token"));
        assertThat(UnknownFields.in(withAdmin)).isEmpty();
    }

    @Test
    void withoutAnAdminTokenNothingOfItIsRenderedSoAdminEndpointsAnswerLoopbackCallersOnly() {
        JsonNode config = HelmChart.applicationConfig(manifests);

        assertThat(config.at("/policy-gateway/admin").isMissingNode()).isTrue();
        assertThat(manifests.all(Secret.class)).singleElement()
                .satisfies(secret -> assertThat(secret.getMetadata().getName()).isEqualTo(FULLNAME));
        assertThat(pod().getVolumes()).filteredOn(volume -> volume.getSecret() != null).singleElement()
                .satisfies(volume -> assertThat(volume.getSecret().getSecretName()).isEqualTo(FULLNAME));
        assertThat(container.getVolumeMounts()).extracting(VolumeMount::getMountPath)
                .containsExactly("/etc/matrix-policy-gateway", "/var/run/secrets/matrix-policy-gateway", "/tmp");
    }

    @Test
    void jsonLogsAreOnByDefault() {
        assertThat(HelmChart.applicationConfig(manifests).at("/spring/profiles/include").asString()).isEqualTo("json-logs");
    }

    private static Manifests withAdminToken(String token) {
        return HelmChart.render(command -> command.set("admin.token", token), "defaults.yaml");
    }

    private static String env(String name) {
        return container.getEnv().stream().filter(variable -> variable.getName().equals(name))
                .map(EnvVar::getValue).findFirst().orElseThrow();
    }

    private static VolumeMount mount(String path) {
        return container.getVolumeMounts().stream().filter(mount -> mount.getMountPath().equals(path))
                .findFirst().orElseThrow(() -> new AssertionError("nothing mounted at " + path));
    }

    private static Volume volume(String name) {
        return pod().getVolumes().stream().filter(volume -> volume.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void configAndTokenAreFilesOfDirectoryMountsSoTheKubeletUpdatesThemInPlace() {
        Path configFile = Path.of(env("SPRING_CONFIG_ADDITIONAL_LOCATION").substring("file:".length()));
        Path tokenFile = Path.of(HelmChart.applicationConfig(manifests).at("/policy-gateway/auth/token-file").asString());

        // Kubernetes never updates a subPath mount: the gateway would not see a change.
        assertThat(container.getVolumeMounts()).allSatisfy(mount -> assertThat(mount.getSubPath()).as(mount.getName()).isNull());
        assertThat(volume(mount(configFile.getParent().toString()).getName()).getConfigMap()).isNotNull();
        assertThat(volume(mount(tokenFile.getParent().toString()).getName()).getSecret()).isNotNull();
    }

    @Test
    void byDefaultAConfigOrTokenChangeLeavesThePodTemplateAloneForTheHotReload() {
        Manifests changed = HelmChart.render(command -> command.set("config.defaults.timeout", "3s")
                .set("auth.token", "another-token-0123456789abcdef"), "defaults.yaml");

        assertThat(podAnnotations(manifests)).containsOnlyKeys("checksum/startup-config");
        assertThat(changed.one(Deployment.class).getSpec().getTemplate()).isEqualTo(deployment.getSpec().getTemplate());
        assertThat(changed.one(ConfigMap.class).getData()).isNotEqualTo(manifests.one(ConfigMap.class).getData());
    }

    @Test
    void byDefaultAnAdminTokenChangeLeavesThePodTemplateAloneForTheHotReload() {
        Manifests before = withAdminToken(ADMIN_TOKEN);
        Manifests changed = withAdminToken("another-admin-token-0123456789");

        assertThat(podAnnotations(before)).containsOnlyKeys("checksum/startup-config");
        assertThat(changed.one(Deployment.class).getSpec().getTemplate())
                .isEqualTo(before.one(Deployment.class).getSpec().getTemplate());
    }

    @Test
    void restartOnConfigChangeRollsThePodsOnAnAdminTokenChange() {
        Map<String, String> before = podAnnotations(restartOnConfigChange(command -> command.set("admin.token", ADMIN_TOKEN)));
        Map<String, String> changed = podAnnotations(restartOnConfigChange(
                command -> command.set("admin.token", "another-admin-token-0123456789")));

        assertThat(before).containsKeys("checksum/token", "checksum/admin-token");
        assertThat(changed.get("checksum/admin-token")).isNotEqualTo(before.get("checksum/admin-token"));
        assertThat(changed.get("checksum/token")).isEqualTo(before.get("checksum/token"));
        assertThat(podAnnotations(restartOnConfigChange(UnaryOperator.identity()))).doesNotContainKey("checksum/admin-token");
    }

    @Test
    void restartOnConfigChangeRollsThePodsOnAConfigOrTokenChange() {
        Map<String, String> before = podAnnotations(restartOnConfigChange(UnaryOperator.identity()));
        Map<String, String> configChanged = podAnnotations(restartOnConfigChange(
                command -> command.set("config.defaults.timeout", "3s")));
        Map<String, String> tokenChanged = podAnnotations(restartOnConfigChange(
                command -> command.set("auth.token", "another-token-0123456789abcdef")));
        Map<String, String> replicasChanged = podAnnotations(restartOnConfigChange(command -> command.set("replicaCount", "3")));

        assertThat(before).containsKeys("checksum/config", "checksum/token");
        assertThat(before.get("checksum/config")).hasSize(64);
        assertThat(configChanged.get("checksum/config")).isNotEqualTo(before.get("checksum/config"));
        assertThat(tokenChanged.get("checksum/token")).isNotEqualTo(before.get("checksum/token"));
        assertThat(replicasChanged).isEqualTo(before);
    }

    /** Whoever may get pods reads the annotation: a plain SHA-256 of the token would let them test guesses at GPU speed. */
    @Test
    void theTokenAnnotationsAreASlowDerivationNotTheTokensHash() throws NoSuchAlgorithmException {
        UnaryOperator<TemplateCommand> adminToken = command -> command.set("admin.token", ADMIN_TOKEN);
        Map<String, String> annotations = podAnnotations(restartOnConfigChange(adminToken));
        Map<String, String> again = podAnnotations(restartOnConfigChange(adminToken));
        Map<String, String> otherRelease = podAnnotations(restartOnConfigChange(
                command -> adminToken.apply(command.set("fullnameOverride", "other-gateway"))));

        assertThat(annotations.get("checksum/token")).hasSize(64)
                .isNotEqualTo(sha256(HelmChart.readYaml(HelmChart.VALUES.resolve("defaults.yaml")).at("/auth/token").asString()));
        assertThat(annotations.get("checksum/admin-token")).hasSize(64).isNotEqualTo(sha256(ADMIN_TOKEN));
        assertThat(again).as("deterministic across renders").isEqualTo(annotations);
        assertThat(otherRelease.get("checksum/token")).as("keyed with the full name").isNotEqualTo(annotations.get("checksum/token"));
    }

    private static String sha256(String text) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aChangeTheGatewayAppliesOnlyAtStartupRollsThePodsWhateverTheSwitch() {
        String before = podAnnotations(manifests).get("checksum/startup-config");
        String logFormatChanged = podAnnotations(HelmChart.render(
                command -> command.set("logging.json", "false"), "defaults.yaml")).get("checksum/startup-config");

        assertThat(before).hasSize(64);
        assertThat(logFormatChanged).isNotEqualTo(before);
        assertThat(podAnnotations(restartOnConfigChange(UnaryOperator.identity())))
                .containsEntry("checksum/startup-config", before);
    }

    @Test
    void reloadAndDecisionLogSettingsReachTheGatewayAndRollThePodsAsTheGatewayReadsThemAtStartup() {
        Manifests interval = HelmChart.render(command -> command.set("config.reload.check-interval", "5s"), "defaults.yaml");
        Manifests otherInterval = HelmChart.render(command -> command.set("config.reload.check-interval", "10s"), "defaults.yaml");
        Manifests capacity = HelmChart.render(command -> command.set("config.decision-log.capacity", "5000"), "defaults.yaml");
        String before = podAnnotations(manifests).get("checksum/startup-config");

        assertThat(HelmChart.applicationConfig(interval).at("/policy-gateway/reload/check-interval").asString()).isEqualTo("5s");
        assertThat(HelmChart.applicationConfig(capacity).at("/policy-gateway/decision-log/capacity").asInt()).isEqualTo(5000);
        assertThat(podAnnotations(interval).get("checksum/startup-config")).isNotEqualTo(before)
                .isNotEqualTo(podAnnotations(otherInterval).get("checksum/startup-config"));
        assertThat(podAnnotations(capacity).get("checksum/startup-config")).isNotEqualTo(before);
    }

    private static Manifests restartOnConfigChange(UnaryOperator<TemplateCommand> change) {
        return HelmChart.render(command -> change.apply(command.set("restartOnConfigChange", "true")), "defaults.yaml");
    }

    /** The annotations on the pod template: a new value there means new pods. */
    private static Map<String, String> podAnnotations(Manifests rendered) {
        return rendered.one(Deployment.class).getSpec().getTemplate().getMetadata().getAnnotations();
    }
}
