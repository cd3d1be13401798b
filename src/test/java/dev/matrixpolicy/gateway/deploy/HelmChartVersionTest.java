package dev.matrixpolicy.gateway.deploy;

import static dev.matrixpolicy.gateway.deploy.BuildFiles.pom;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
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
        Deployment deployment = HelmChart.render("defaults.yaml").one(Deployment.class);

        assertThat(HelmChart.gatewayContainer(deployment.getSpec().getTemplate().getSpec().getContainers()).getImage())
                .isEqualTo("matrix-policy-gateway:" + projectVersion);
    }
}
