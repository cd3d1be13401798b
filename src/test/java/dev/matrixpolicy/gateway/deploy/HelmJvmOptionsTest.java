package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.TemplateCommand;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The JAVA_TOOL_OPTIONS the chart renders from jvm.*: the collector and the young generation. */
class HelmJvmOptionsTest {

    @Test
    void defaultFlagsChooseTheSerialCollectorAndA64mYoungGeneration() {
        assertThat(javaToolOptions(command -> command))
                .isEqualTo("-XX:+UseSerialGC -Xmn64m -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"serial, -XX:+UseSerialGC", "g1, -XX:+UseG1GC", "parallel, -XX:+UseParallelGC", "zgc, -XX:+UseZGC"})
    void eachGcValueSelectsItsCollector(String gc, String flag) {
        assertThat(javaToolOptions(command -> command.set("jvm.gc", gc))).startsWith(flag + " -Xmn64m ");
    }

    @Test
    void g1WithAnEmptyYoungGenerationDropsXmn() {
        assertThat(javaToolOptions(command -> command.set("jvm.gc", "g1").set("jvm.youngGeneration", "")))
                .isEqualTo("-XX:+UseG1GC -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError");
    }

    @Test
    void anEmptyGcLetsTheJvmChoose() {
        assertThat(javaToolOptions(command -> command.set("jvm.gc", "")))
                .isEqualTo("-Xmn64m -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError");
    }

    @Test
    void aCollectorInExtraOptionsFailsRenderingUnlessJvmGcIsEmpty() {
        // The JVM refuses to start with two collectors: "Multiple garbage collectors selected".
        assertThatThrownBy(() -> javaToolOptions(command -> command.set("jvm.extraOptions", "-Xss512k -XX:+UseG1GC")))
                .hasMessageContaining("jvm.extraOptions selects a garbage collector (-XX:+UseG1GC) and so does jvm.gc (serial)");
        assertThat(javaToolOptions(command -> command.set("jvm.gc", "").set("jvm.extraOptions", "-XX:+UseG1GC")))
                .isEqualTo("-Xmn64m -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError -XX:+UseG1GC");
    }

    @Test
    void otherFlagsNamedUseSomethingGcPassWithJvmGc() {
        assertThat(javaToolOptions(command -> command.set("jvm.extraOptions", "-XX:+UseGCOverheadLimit")))
                .endsWith("-XX:+ExitOnOutOfMemoryError -XX:+UseGCOverheadLimit");
    }

    @Test
    void aFlagOfTheChosenCollectorWhoseNameEndsInGcIsNoSecondCollector() {
        // A Parallel collector setting of JDK 25, meaningful with jvm.gc: parallel only.
        assertThat(javaToolOptions(command -> command.set("jvm.gc", "parallel")
                .set("jvm.extraOptions", "-XX:+UseAdaptiveSizePolicyWithSystemGC")))
                .isEqualTo("-XX:+UseParallelGC -Xmn64m -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError"
                        + " -XX:+UseAdaptiveSizePolicyWithSystemGC");
        assertThatThrownBy(() -> javaToolOptions(command -> command.set("jvm.extraOptions", "-XX:+UseShenandoahGC")))
                .hasMessageContaining("jvm.extraOptions selects a garbage collector (-XX:+UseShenandoahGC)");
    }

    private static String javaToolOptions(UnaryOperator<TemplateCommand> options) {
        return HelmChart.javaToolOptions(HelmChart.render(options, "defaults.yaml"));
    }
}
