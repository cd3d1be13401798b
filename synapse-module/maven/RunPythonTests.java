import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs the Synapse module's pytest suite in Maven's integration-test phase (see pom.xml).
 *
 * <p>Maven starts this file with the java of its JDK 25 toolchain; that java is handed to the
 * tests (GATEWAY_JAVA), which start the packaged gateway with it. The Python test tools come from
 * Debian packages (PyPI is not reachable where this project is built): when they are missing this
 * launcher installs them with apt-get, as root or through passwordless sudo, so that a plain
 * {@code ./mvnw verify} works on a fresh machine. Where it cannot, the build fails; it never skips.
 *
 * <p>Arguments: the packaged jar, the test classes folder, the synapse-module folder.
 */
public class RunPythonTests {
    private static final String PACKAGES = "python3-pytest python3-twisted python3-pytest-twisted";

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 3) {
            fail("usage: RunPythonTests <gateway jar> <test classes> <synapse-module folder>");
        }
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs this"));
        String python = System.getenv().getOrDefault("SHIM_TEST_PYTHON", "/usr/bin/python3");
        if (!Files.isExecutable(Path.of(python))) {
            fail(python + " not found. Install the Synapse module's test tools: apt-get install " + PACKAGES);
        }
        List<String> probe = List.of(python, "-c", "import pytest, twisted, pytest_twisted, attr");
        if (run(probe, Map.of(), null) != 0 && (!installTestTools() || run(probe, Map.of(), null) != 0)) {
            fail(python + " lacks pytest, Twisted or pytest-twisted, and installing them failed."
                    + " Install them: apt-get install " + PACKAGES);
        }
        File moduleFolder = new File(args[2]);
        int status = run(List.of(python, "-m", "pytest", "-p", "no:cacheprovider", "-ra", "tests"), Map.of(
                "GATEWAY_JAR", args[0],
                "GATEWAY_TEST_CLASSES", args[1],
                "GATEWAY_JAVA", java,
                "PYTHONDONTWRITEBYTECODE", "1"), moduleFolder);
        System.exit(status);
    }

    /** apt-get update + install, as root or through passwordless sudo; false when neither works. */
    private static boolean installTestTools() throws IOException, InterruptedException {
        System.err.println("[synapse-module tests] installing " + PACKAGES + " with apt-get");
        List<String> sudo = "root".equals(System.getProperty("user.name")) ? List.of() : List.of("sudo", "-n");
        Map<String, String> quiet = Map.of("DEBIAN_FRONTEND", "noninteractive");
        List<String> update = new java.util.ArrayList<>(sudo);
        update.addAll(List.of("apt-get", "update", "-qq"));
        List<String> install = new java.util.ArrayList<>(sudo);
        install.addAll(List.of("apt-get", "install", "-y", "-qq"));
        install.addAll(List.of(PACKAGES.split(" ")));
        return run(update, quiet, null) == 0 && run(install, quiet, null) == 0;
    }

    private static int run(List<String> command, Map<String, String> environment, File directory)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().putAll(environment);
        if (directory != null) {
            builder.directory(directory);
        }
        return builder.start().waitFor();
    }

    private static void fail(String message) {
        System.err.println("[synapse-module tests] " + message);
        System.exit(2);
    }
}
