package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecretVolumeSource;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MappingIterator;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The chart under helm/, rendered by real Helm (helm-java bundles it) and read back as typed
 * fabric8 Kubernetes objects.
 */
final class HelmChart {
    static final Path CHART = Path.of("helm/matrix-policy-gateway");
    static final Path VALUES = Path.of("src/test/resources/helm");
    static final String RELEASE = "gateway";
    static final String NAMESPACE = "matrix";
    /** helm-java's Helm assumes Kubernetes 1.20 unless told; the chart needs 1.30 or later. */
    static final String KUBE_VERSION = "v1.33.0";
    /** The object name prefix for {@link #RELEASE}: "<release>-<chart>". */
    static final String FULLNAME = RELEASE + "-matrix-policy-gateway";

    /** fabric8 8's models are Jackson 3 types, like the gateway's own JSON and YAML. */
    static final YAMLMapper YAML = YAMLMapper.builder().build();

    private HelmChart() {
    }

    /** Renders the chart with the given values files from src/test/resources/helm (none: the defaults). */
    static Manifests render(String... valuesFiles) {
        return render(command -> command, valuesFiles);
    }

    /** Renders the chart with the values files and whatever else {@code options} adds (e.g. --set). */
    static Manifests render(UnaryOperator<TemplateCommand> options, String... valuesFiles) {
        return Manifests.parse(template(CHART, options, valuesFiles));
    }

    static String template(Path chart, UnaryOperator<TemplateCommand> options, String... valuesFiles) {
        TemplateCommand command = new Helm(chart).template().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        for (String file : valuesFiles) {
            command = command.withValuesFile(VALUES.resolve(file));
        }
        return options.apply(command).call();
    }

    /** What {@code helm install} prints after the objects (NOTES.txt), by a client-only dry run. */
    static String notes(UnaryOperator<InstallCommand> options, String... valuesFiles) {
        InstallCommand command = new Helm(CHART).install().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION).clientOnly().dryRun();
        for (String file : valuesFiles) {
            command = command.withValuesFile(VALUES.resolve(file));
        }
        return options.apply(command).call().getOutput();
    }

    static JsonNode readYaml(Path file) {
        try {
            return readYaml(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A YAML document as Spring reads application.yml: with SnakeYAML, where {@code ~} is null
     * (Jackson 3.1's YAML parser reads it as the string "~").
     */
    static JsonNode readYaml(String text) {
        return YAML.valueToTree(new Yaml().load(text));
    }

    /** The gateway's container in a pod template, found by name wherever it is (containers or initContainers). */
    static Container gatewayContainer(List<Container> containers) {
        return containers.stream().filter(c -> c.getName().equals("policy-gateway")).findFirst().orElseThrow();
    }

    /** The JVM flags of the gateway's container in a standalone render. */
    static String javaToolOptions(Manifests manifests) {
        return gatewayContainer(manifests.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers())
                .getEnv().stream().filter(variable -> variable.getName().equals("JAVA_TOOL_OPTIONS"))
                .map(EnvVar::getValue).findFirst().orElseThrow();
    }

    /**
     * Where the file {@code path} that the gateway's configuration names ({@code file:} or not) comes
     * from in {@code pod}, as "secret/key": the read-only directory mount of its parent (never a
     * subPath, which the kubelet never updates) and the item of that volume's Secret.
     */
    static String secretKeyBehind(PodSpec pod, Container container, String path) {
        Path file = Path.of(path.replaceFirst("^file:", ""));
        VolumeMount mount = container.getVolumeMounts().stream()
                .filter(candidate -> Path.of(candidate.getMountPath()).equals(file.getParent())).findFirst()
                .orElseThrow(() -> new AssertionError("no mount of " + file.getParent() + " for " + path));
        assertThat(mount.getReadOnly()).as("mount of %s read-only", mount.getMountPath()).isTrue();
        assertThat(mount.getSubPath()).isNull();
        SecretVolumeSource secret = pod.getVolumes().stream().filter(volume -> volume.getName().equals(mount.getName()))
                .findFirst().orElseThrow().getSecret();
        return secret.getItems().stream().filter(item -> item.getPath().equals(file.getFileName().toString()))
                .map(item -> secret.getSecretName() + "/" + item.getKey()).findFirst()
                .orElseThrow(() -> new AssertionError("no item of volume " + mount.getName() + " is " + file.getFileName()));
    }

    /** The application.yml the chart's ConfigMap holds, as a tree. */
    static JsonNode applicationConfig(Manifests manifests) {
        return readYaml(manifests.one(ConfigMap.class, FULLNAME).getData().get("application.yml"));
    }

    static void copyTree(Path from, Path to) {
        try (var files = Files.walk(from)) {
            for (Path source : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every object of one `helm template` run, in order. */
    record Manifests(List<HasMetadata> objects) {

        static Manifests parse(String rendered) {
            List<HasMetadata> objects = new ArrayList<>();
            try (MappingIterator<JsonNode> documents = YAML.readerFor(JsonNode.class).readValues(rendered)) {
                while (documents.hasNext()) {
                    JsonNode document = documents.next();
                    if (document != null && !document.isNull() && !document.isEmpty()) {
                        // fabric8 picks the model class by apiVersion and kind; other kinds stay generic.
                        objects.add((HasMetadata) YAML.treeToValue(document, KubernetesResource.class));
                    }
                }
            }
            return new Manifests(List.copyOf(objects));
        }

        List<String> kinds() {
            return objects.stream().map(HasMetadata::getKind).toList();
        }

        <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T extends HasMetadata> T one(Class<T> type) {
            List<T> found = all(type);
            assertThat(found).as("rendered %s objects", type.getSimpleName()).hasSize(1);
            return found.getFirst();
        }

        <T extends HasMetadata> T one(Class<T> type, String name) {
            return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " named " + name + " in " + names()));
        }

        HasMetadata one(String kind) {
            List<HasMetadata> found = objects.stream().filter(o -> o.getKind().equals(kind)).toList();
            assertThat(found).as("rendered %s objects", kind).hasSize(1);
            return found.getFirst();
        }

        private List<String> names() {
            return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
        }
    }
}
