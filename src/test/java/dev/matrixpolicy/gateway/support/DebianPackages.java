package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
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
 *
 * <p>On a fresh machine the build has usually begun installing these packages already, in the
 * background (RunPythonTests {@code prepare}), holding {@link #TOOLS_LOCK}: a test waits for that
 * lock before it looks for its programs, so that it neither finds a package half unpacked nor runs
 * apt-get beside it.
 */
final class DebianPackages {
    /** Held by whoever installs test tools in this build (RunPythonTests' {@code toolsLock()}). */
    private static final Path TOOLS_LOCK = Path.of("target", "test-tools.lock");

    private DebianPackages() {
    }

    /**
     * Installs {@code packages} unless every one of {@code programs} is executable; once per JVM.
     *
     * @param what the tests that need them, for the message, e.g. {@code The browser tests}
     * @throws IllegalStateException naming the packages, the log and the fix when installing failed
     */
    static synchronized void require(String what, List<Path> programs, String packages, Path installLog) {
        holdingTheToolsLock(() -> installUnlessPresent(what, programs, packages, installLog));
    }

    private static void installUnlessPresent(String what, List<Path> programs, String packages, Path installLog) {
        if (present(programs)) {
            return;
        }
        List<String> install = apt("install", "-y", "-qq");
        install.addAll(List.of(packages.split(" ")));
        boolean done = run(null, apt("update", "-qq"), installLog) && run(null, install, installLog) && present(programs);
        if (!done) {
            throw new IllegalStateException(what + " need Debian's " + packages + " (" + programs.stream().map(Path::toString)
                    .reduce((a, b) -> a + ", " + b).orElse("") + ") and installing them failed (apt-get as root or through "
                    + "sudo -n; output in " + installLog.toAbsolutePath() + "). Install them: apt-get install " + packages);
        }
    }

    /**
     * Unpacks {@code pkg} into {@code directory} unless {@code program} (a path under it) is
     * executable: its .deb fetched with {@code apt-get download} (after {@code apt-get update} only if
     * apt does not know it yet), then {@code dpkg-deb -x}. Nothing is installed, so none of the
     * package's maintainer scripts runs (a server's would create a user and start the service).
     *
     * @throws IllegalStateException naming the package, the log and the fix when it could not be unpacked
     */
    static synchronized void unpack(String what, Path program, String pkg, Path directory, Path installLog) {
        holdingTheToolsLock(() -> unpackUnlessPresent(what, program, pkg, directory, installLog));
    }

    private static void unpackUnlessPresent(String what, Path program, String pkg, Path directory, Path installLog) {
        if (present(List.of(program))) {
            return;
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException cannotCreate) {
            throw new UncheckedIOException(cannotCreate);
        }
        List<String> download = List.of("apt-get", "download", "-qq", pkg);
        boolean downloaded = run(directory, download, installLog)
                || run(null, apt("update", "-qq"), installLog) && run(directory, download, installLog);
        boolean done = downloaded && debs(directory).stream()
                .allMatch(deb -> run(null, List.of("dpkg-deb", "-x", deb.toString(), directory.toString()), installLog))
                && present(List.of(program));
        if (!done) {
            throw new IllegalStateException(what + " need " + program + " from Debian's " + pkg + " package, and unpacking it "
                    + "failed (apt-get download, with apt-get update as root or through sudo -n, then dpkg-deb -x; output in "
                    + installLog.toAbsolutePath() + "). Unpack it: cd " + directory + " && apt-get download " + pkg
                    + " && dpkg-deb -x " + pkg + "_*.deb .");
        }
    }

    /** {@code work} done while this JVM holds {@link #TOOLS_LOCK}, once whoever held it has let go. */
    private static void holdingTheToolsLock(Runnable work) {
        try {
            Files.createDirectories(TOOLS_LOCK.toAbsolutePath().getParent());
            try (FileChannel channel = FileChannel.open(TOOLS_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock held = channel.lock()) {
                work.run();
            }
        } catch (IOException unlockable) {
            throw new UncheckedIOException(unlockable);
        }
    }

    private static List<Path> debs(Path directory) {
        try (var files = Files.list(directory)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".deb")).toList();
        } catch (IOException unreadable) {
            throw new UncheckedIOException(unreadable);
        }
    }

    /** apt-get with these arguments, as root or through sudo -n, waiting up to 5 minutes for the dpkg lock. */
    private static List<String> apt(String... arguments) {
        List<String> apt = new ArrayList<>("root".equals(System.getProperty("user.name")) ? List.of() : List.of("sudo", "-n"));
        // A fresh machine may be running its own updates.
        apt.addAll(List.of("apt-get", "-o", "DPkg::Lock::Timeout=300"));
        apt.addAll(List.of(arguments));
        return apt;
    }

    private static boolean present(List<Path> programs) {
        return programs.stream().allMatch(Files::isExecutable);
    }

    /** Runs {@code command} in {@code directory} (null: the working directory), its output appended to the log. */
    private static boolean run(Path directory, List<String> command, Path installLog) {
        try {
            Files.createDirectories(installLog.toAbsolutePath().getParent());
            Files.writeString(installLog, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder builder = new ProcessBuilder(command).directory(directory == null ? null : directory.toFile())
                    .redirectErrorStream(true)
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
