package dev.matrixpolicy.gateway.deploy;

import static dev.matrixpolicy.gateway.deploy.BuildFiles.pom;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * One set of default JVM flags on every launch path. The pom's gateway.jvm.flags is the source;
 * the Dockerfile and the chart's jvm.* defaults cannot refer to it, so they are compared with it
 * here, as sets: JVM flags take effect in any order. The flags themselves are pinned in
 * HelmJvmOptionsTest.
 */
class JvmDefaultFlagsTest {
    private static final String POM_FLAGS = "/project/properties/gateway.jvm.flags";

    @Test
    void jibImageStartsWithThePomFlags() {
        assertThat(pom("/project/build/plugins/plugin[artifactId='jib-maven-plugin']/configuration/container/environment/JAVA_TOOL_OPTIONS"))
                .isEqualTo("${gateway.jvm.flags}");
    }

    @Test
    void springBootRunStartsWithThePomFlags() {
        assertThat(pom("/project/build/plugins/plugin[artifactId='spring-boot-maven-plugin']/configuration/jvmArguments"))
                .isEqualTo("${gateway.jvm.flags}");
    }

    @Test
    void dockerImageStartsWithThePomFlags() {
        String prefix = "JAVA_TOOL_OPTIONS=";
        String dockerfileFlags = BuildFiles.dockerfile("ENV").stream().filter(env -> env.startsWith(prefix))
                .map(env -> env.substring(prefix.length()).replace("\"", "")).findFirst().orElseThrow();

        assertThat(flags(dockerfileFlags)).isEqualTo(flags(pom(POM_FLAGS)));
    }

    @Test
    void chartRendersThePomFlagsByDefault() {
        String rendered = HelmChart.javaToolOptions(HelmChart.render("defaults.yaml"));

        assertThat(flags(rendered)).isEqualTo(flags(pom(POM_FLAGS)));
    }

    private static Set<String> flags(String options) {
        return Arrays.stream(options.strip().split("\\s+")).collect(Collectors.toSet());
    }
}
