package dev.matrixpolicy.gateway.deploy;

import static dev.matrixpolicy.gateway.deploy.BuildFiles.pom;
import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * One release, one number: the Maven project version is the chart's version and appVersion, and
 * the tag of the image Jib builds, which the chart deploys by default. Both image recipes run as
 * the user the chart's securityContext names.
 */
class HelmChartVersionTest {
    private static String projectVersion;
    private static JsonNode chart;

    @BeforeAll
    static void read() {
        projectVersion = pom("/project/version");
        chart = HelmChart.readYaml(HelmChart.CHART.resolve("Chart.yaml"));
    }

    @Test
    void chartVersionAndAppVersionAreTheProjectVersion() {
        assertThat(projectVersion).isNotBlank();
        assertThat(chart.get("appVersion").asString()).isEqualTo(projectVersion);
        assertThat(chart.get("version").asString()).isEqualTo(projectVersion);
    }

    @Test
    void jibTagsTheImageWithTheProjectVersion() {
        String jib = "/project/build/plugins/plugin[artifactId='jib-maven-plugin']";

        assertThat(pom(jib + "/configuration/to/image")).isEqualTo("matrix-policy-gateway:${project.version}");
        assertThat(pom(jib + "/executions")).as("Jib is bound to no lifecycle phase").isEmpty();
    }

    @Test
    void bothImagesRunAsTheNumericUserThePodRunsAs() {
        Deployment deployment = HelmChart.render("defaults.yaml").one(Deployment.class);
        long podUser = HelmChart.gatewayContainer(deployment.getSpec().getTemplate().getSpec().getContainers())
                .getSecurityContext().getRunAsUser();
        String jibUser = pom("/project/build/plugins/plugin[artifactId='jib-maven-plugin']/configuration/container/user");

        assertThat(jibUser).isEqualTo(podUser + ":" + podUser);
        assertThat(BuildFiles.dockerfile("USER")).containsExactly(podUser + ":" + podUser);
    }

    @Test
    void chartDeploysTheImageOfItsAppVersionByDefault() {
        assertThat(image(command -> command)).isEqualTo("matrix-policy-gateway:" + projectVersion);
    }

    @Test
    void aTagReplacesTheAppVersionAndADigestPinsTheImageWithoutAnyTag() {
        String digest = "sha256:" + "0123456789abcdef".repeat(4);

        assertThat(image(command -> command.set("image.repository", "registry.example.org:5000/matrix/gateway")
                .set("image.tag", "0.2.0"))).isEqualTo("registry.example.org:5000/matrix/gateway:0.2.0");
        assertThat(image(command -> command.set("image.tag", "0.2.0").set("image.digest", digest)))
                .isEqualTo("matrix-policy-gateway@" + digest);
    }

    /** A rebuilt snapshot keeps its tag: with IfNotPresent, a node that pulled an earlier build would keep running it. */
    @Test
    void aTagThatEachBuildTakesAgainIsPulledAtEachStartUnlessAPolicyIsSet() {
        String digest = "sha256:" + "0123456789abcdef".repeat(4);

        assertThat(container(command -> command.set("image.tag", "0.2.0-SNAPSHOT")).getImagePullPolicy()).isEqualTo("Always");
        assertThat(container(command -> command.set("image.tag", "latest")).getImagePullPolicy()).isEqualTo("Always");
        assertThat(container(command -> command.set("image.tag", "0.2.0")).getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(container(command -> command.set("image.tag", "0.2.0-SNAPSHOT").set("image.digest", digest)).getImagePullPolicy())
                .as("a digest names one build").isEqualTo("IfNotPresent");
        assertThat(container(command -> command.set("image.tag", "0.2.0-SNAPSHOT").set("image.pullPolicy", "IfNotPresent"))
                .getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(container(command -> command).getImagePullPolicy())
                .isEqualTo(projectVersion.endsWith("-SNAPSHOT") ? "Always" : "IfNotPresent");
    }

    private static String image(UnaryOperator<TemplateCommand> options) {
        return container(options).getImage();
    }

    private static Container container(UnaryOperator<TemplateCommand> options) {
        Deployment deployment = HelmChart.render(options, "defaults.yaml").one(Deployment.class);
        return HelmChart.gatewayContainer(deployment.getSpec().getTemplate().getSpec().getContainers());
    }
}
