package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Installs the Debian packages a test needs when their programs are missing, with apt-get, as root or
 * through passwordless sudo, as {@code synapse-module/maven/RunPythonTests.java} installs the Python
 * test tools (that launcher runs as a single-file program, so it cannot share this code). Where
 * installing is impossible the test fails; it never skips.
 */
final class DebianPackages {
    private DebianPackages() {
    }

    /**
     * Installs {@code packages} unless every one of {@code programs} is executable; once per JVM.
     *
     * @param what the tests that need them, for the message, e.g. {@code The browser tests}
     * @throws IllegalStateException naming the packages, the log and the fix when installing failed
     */
    static synchronized void require(String what, List<Path> programs, String packages, Path installLog) {
        if (present(programs)) {
            return;
        }
        List<String> sudo = "root".equals(System.getProperty("user.name")) ? List.of() : List.of("sudo", "-n");
        // A fresh machine may be running its own updates: wait up to 5 minutes for the dpkg lock.
        List<String> apt = new ArrayList<>(sudo);
        apt.addAll(List.of("apt-get", "-o", "DPkg::Lock::Timeout=300"));
        List<String> update = new ArrayList<>(apt);
        update.addAll(List.of("update", "-qq"));
        List<String> install = new ArrayList<>(apt);
        install.addAll(List.of("install", "-y", "-qq"));
        install.addAll(List.of(packages.split(" ")));
        boolean done = run(update, installLog) && run(install, installLog) && present(programs);
        if (!done) {
            throw new IllegalStateException(what + " need Debian's " + packages + " (" + programs.stream().map(Path::toString)
                    .reduce((a, b) -> a + ", " + b).orElse("") + ") and installing them failed (apt-get as root or through "
                    + "sudo -n; output in " + installLog.toAbsolutePath() + "). Install them: apt-get install " + packages);
        }
    }

    private static boolean present(List<Path> programs) {
        return programs.stream().allMatch(Files::isExecutable);
    }

    private static boolean run(List<String> command, Path installLog) {
        try {
            Files.createDirectories(installLog.toAbsolutePath().getParent());
            Files.writeString(installLog, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(installLog.toFile()));
            builder.environment().putAll(Map.of("DEBIAN_FRONTEND", "noninteractive"));
            return builder.start().waitFor() == 0;
        } catch (IOException cannotStart) {
            return false;
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
