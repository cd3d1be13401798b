package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.TemplateCommand;
import dev.matrixpolicy.gateway.deploy.HelmChart.Manifests;
import dev.matrixpolicy.gateway.support.Markdown;
import dev.matrixpolicy.gateway.support.Markdown.Block;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * docs/kubernetes.md followed as written: its `helm install` with each `# my-values.yaml` block of
 * the page, then each `helm upgrade` on top, for the release `policy` in the namespace `matrix` the
 * page names. (The blocks' `config` is started as a gateway configuration by DocumentedConfigurationTest.)
 */
class HelmDocumentedInstallTest {
    private static final Markdown PAGE = Markdown.read(Path.of("docs/kubernetes.md"));
    private static final String RELEASE = "policy";
    private static final String FULLNAME = RELEASE + "-matrix-policy-gateway";
    private static final Pattern SET = Pattern.compile("--set ([\\w.]+)=(\\S+)");

    @TempDir
    Path dir;

    @Test
    void theInstallCommandRendersWithEveryValuesFileOfThePage() throws IOException {
        List<Block> valuesFiles = blocks("yaml", "# my-values.yaml");
        assertThat(valuesFiles).hasSizeGreaterThanOrEqualTo(2);

        for (Block values : valuesFiles) {
            Manifests manifests = install(values);

            JsonNode written = HelmChart.readYaml(values.text());
            JsonNode config = HelmChart.readYaml(manifests.one(ConfigMap.class, FULLNAME).getData().get("application.yml"));
            written.at("/config").propertyNames().forEach(key -> assertThat(config.at("/policy-gateway").get(key))
                    .as("config.%s of %s", key, PAGE.at(values.firstLine())).isEqualTo(written.at("/config").get(key)));
            assertThat(manifests.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().getFirst().getImage())
                    .startsWith(installSets().get("image.repository") + ":");
        }
    }

    @Test
    void theRedisTlsValuesMountBothSecretsInABundleReadAgainWhenRenewed() throws IOException {
        Block values = PAGE.section("redis-over-tls").stream().filter(block -> block.language().equals("yaml")).findFirst().orElseThrow();
        Manifests manifests = install(values);

        JsonNode config = HelmChart.readYaml(manifests.one(ConfigMap.class, FULLNAME).getData().get("application.yml"));
        assertThat(config.at("/policy-gateway/state/redis/ssl-bundle").asString()).isEqualTo("redis");
        assertThat(config.at("/spring/ssl/bundle/pem/redis/reload-on-update").asBoolean()).isTrue();
        assertThat(manifests.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().getFirst()
                .getVolumeMounts()).filteredOn(mount -> mount.getName().startsWith("policy-gateway-redis-"))
                .extracting(VolumeMount::getReadOnly).containsExactly(true, true);
    }

    @Test
    void theHomeserverCallsTheAddressTheInstallNotesPrint() {
        String baseUrl = blocks("yaml", "# homeserver.yaml").getFirst().lines().stream()
                .filter(line -> line.strip().startsWith("base_url:")).findFirst().orElseThrow()
                .replaceFirst("^\\s*base_url:\\s*", "");
        List<String> install = commands("helm install").getFirst();
        UnaryOperator<InstallCommand> sets = command -> {
            InstallCommand named = command.withName(RELEASE);
            for (Map.Entry<String, String> set : sets(install).entrySet()) {
                named = named.set(set.getKey(), set.getValue());
            }
            return named;
        };

        assertThat(HelmChart.notes(sets)).contains("base_url: " + baseUrl);
    }

    @Test
    void eachUpgradeCommandRendersOnTheInstalledValues() throws IOException {
        List<List<String>> upgrades = commands("helm upgrade");
        assertThat(upgrades).hasSizeGreaterThanOrEqualTo(2);
        Block firstValues = blocks("yaml", "# my-values.yaml").getFirst();

        for (List<String> upgrade : upgrades) {
            Map<String, String> sets = new LinkedHashMap<>(installSets());
            sets.putAll(sets(upgrade));
            Manifests manifests = render(firstValues, sets);

            if ("true".equals(sets.get("autoscaling.enabled"))) {
                assertThat(manifests.kinds()).contains("HorizontalPodAutoscaler");
                assertThat(manifests.one(Deployment.class).getSpec().getReplicas()).isNull();
            }
            if ("true".equals(sets.get("policyServer.enabled"))) {
                assertThat(manifests.one(Service.class, FULLNAME + "-policy-server").getSpec().getPorts())
                        .singleElement().satisfies(port -> assertThat(port.getPort()).isEqualTo(8448));
            }
        }
    }

    private Manifests install(Block values) throws IOException {
        return render(values, installSets());
    }

    private Manifests render(Block values, Map<String, String> sets) throws IOException {
        Path file = Files.writeString(dir.resolve("my-values-" + values.firstLine() + ".yaml"), values.text());
        return HelmChart.render(command -> {
            TemplateCommand named = command.withName(RELEASE);
            for (Map.Entry<String, String> set : sets.entrySet()) {
                named = named.set(set.getKey(), set.getValue());
            }
            return named;
        }, file.toAbsolutePath().toString());
    }

    private static Map<String, String> installSets() {
        return sets(commands("helm install").getFirst());
    }

    private static Map<String, String> sets(List<String> command) {
        Map<String, String> sets = new LinkedHashMap<>();
        for (String line : command) {
            Matcher set = SET.matcher(line);
            while (set.find()) {
                sets.put(set.group(1), set.group(2));
            }
        }
        return sets;
    }

    /** Each shell command of the page that starts with {@code start}, with its continuation lines. */
    private static List<List<String>> commands(String start) {
        List<List<String>> commands = new ArrayList<>();
        for (Block block : PAGE.blocks()) {
            if (!block.language().equals("sh")) {
                continue;
            }
            List<String> current = null;
            for (String line : block.lines()) {
                if (line.startsWith(start)) {
                    current = new ArrayList<>();
                    commands.add(current);
                }
                if (current != null) {
                    current.add(line);
                    if (!line.endsWith("\\")) {
                        current = null;
                    }
                }
            }
        }
        assertThat(commands).as("`%s` commands in %s", start, PAGE.file()).isNotEmpty();
        return commands;
    }

    private static List<Block> blocks(String language, String firstLine) {
        return PAGE.blocks().stream().filter(block -> block.language().equals(language))
                .filter(block -> !block.lines().isEmpty() && block.lines().getFirst().equals(firstLine)).toList();
    }
}
