package dev.matrixpolicy.gateway.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build's background installation of test tools (synapse-module/maven/RunPythonTests.java,
 * {@code install}, begun by {@code prepare} on a fresh machine) and a Java test that needs one of them:
 * the test waits for the installation to end, then finds its program, and runs no apt-get of its own.
 * The installation is made with an {@code apt-get} of the test's own on the launcher's PATH, which
 * takes a second and then writes the program.
 */
class DebianPackagesTest {
    private static final Path LAUNCHER = Path.of("synapse-module", "maven", "RunPythonTests.java");
    private static final Path TOOLS_LOCK = Path.of("target", "test-tools.lock");

    @Test
    void aTestWaitsForTheBuildsInstallationThenFindsItsProgramWithoutInstallingAgain(@TempDir Path folder)
            throws IOException, InterruptedException {
        Path program = folder.resolve("tool");
        Path bin = Files.createDirectory(folder.resolve("bin"));
        Path aptGet = bin.resolve("apt-get");
        Files.writeString(aptGet, "#!/bin/sh\ncase \"$*\" in *install*) sleep 1; printf '#!/bin/sh\\n' > " + program
                + "; chmod +x " + program + ";; esac\n");
        Files.setPosixFilePermissions(aptGet, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path holding = folder.resolve("installing");
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder builder = new ProcessBuilder(java, "-Duser.name=root", LAUNCHER.toAbsolutePath().toString(), "install",
                TOOLS_LOCK.toAbsolutePath().toString(), holding.toString(), "some-tool")
                .redirectErrorStream(true)
                .redirectOutput(folder.resolve("installer.log").toFile());
        builder.environment().put("PATH", bin + ":/usr/bin:/bin");
        Process installer = builder.start();
        while (!Files.exists(holding) && installer.isAlive()) {
            Thread.sleep(10);
        }
        assertThat(installer.isAlive()).as("the installer holds the lock").isTrue();
        Path ownLog = folder.resolve("own-install.log");

        DebianPackages.require("The tool's tests", List.of(program), "some-tool", ownLog);

        assertThat(Files.isExecutable(program)).isTrue();
        assertThat(ownLog).as("the test ran no apt-get of its own").doesNotExist();
        assertThat(installer.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(installer.exitValue()).as(Files.readString(folder.resolve("installer.log"), StandardCharsets.UTF_8))
                .isZero();
        assertThat(holding).doesNotExist();
    }
}
