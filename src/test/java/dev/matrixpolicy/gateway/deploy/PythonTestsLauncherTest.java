package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * synapse-module/maven/RunPythonTests.java, the launcher ./mvnw verify starts the Python suites with,
 * where it cannot install the test tools it lacks: it names the packages to install and ends the
 * build, as its comment promises, for a user who is not root on a machine without sudo (the launcher
 * would run {@code sudo -n apt-get}) and for root on a machine without apt-get. Both are made here
 * with a PATH that holds neither, and a python that has no test tool (false). A non-root user is
 * {@code user.name}, which is what the launcher asks.
 */
class PythonTestsLauncherTest {
    private static final Path LAUNCHER = Path.of("synapse-module", "maven", "RunPythonTests.java");

    @ParameterizedTest
    @ValueSource(strings = {"builder", "root"})
    void missingTestToolsThatCannotBeInstalledAreNamedNotAStackTrace(String user, @TempDir Path folder)
            throws IOException, InterruptedException {
        Path emptyPath = Files.createDirectory(folder.resolve("bin"));
        Path testClasses = Files.createDirectory(folder.resolve("test-classes"));
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder launcher = new ProcessBuilder(java, "-Duser.name=" + user, LAUNCHER.toAbsolutePath().toString(),
                "join", "0", folder.resolve("gateway.jar").toString(), testClasses.toString(),
                Path.of("synapse-module").toAbsolutePath().toString())
                .redirectErrorStream(true);
        launcher.environment().put("PATH", emptyPath.toString());
        launcher.environment().put("SHIM_TEST_PYTHON", "/bin/false");
        Process process = launcher.start();
        process.getOutputStream().close();
        String said = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as(said).isTrue();

        assertThat(process.exitValue()).as(said).isEqualTo(2);
        assertThat(said).contains("/bin/false lacks some of its test tools, and installing them failed",
                        "Install them: apt-get install python3-pytest python3-twisted python3-pytest-twisted python3-yaml")
                .doesNotContain("Exception", "\tat ");
    }
}
