import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * <p>Arguments: the packaged jar, the test classes folder, and the folder of each suite to run
 * ({@code synapse-module}, and {@code e2e}: the end-to-end suite against a real Synapse, which also
 * needs Synapse's own dependencies from Debian unless {@code SYNAPSE_PYTHON} names a Python that
 * has Synapse installed already).
 *
 * <p>Several suites run at once, each on its own slice of free ports: the end-to-end suite spends most of
 * its time waiting on Synapse, which leaves the module's suite a core. Each one's output is kept in
 * {@code target/python-tests/<folder>.log} and printed whole once it ends, so that the two never
 * interleave; the run fails if any suite does.
 */
public class RunPythonTests {
    private static final String TEST_TOOLS = "python3-pytest python3-twisted python3-pytest-twisted python3-yaml";
    private static final String TEST_IMPORTS = "import pytest, twisted, pytest_twisted, attr, yaml";
    /** The end-to-end harness itself, which runs in this python whichever Synapse it drives: YAML
     *  (in TEST_TOOLS: the module's tests read the docs' examples too), certificates, bcrypt hashes, and signedjson with unpaddedbase64 for the policy server tests
     *  (they sign and verify as a homeserver does). Installed even when SYNAPSE_PYTHON is set. */
    private static final String E2E_TOOLS = "python3-cryptography python3-bcrypt python3-signedjson"
            + " python3-unpaddedbase64";
    private static final String E2E_IMPORTS = ", cryptography, bcrypt, signedjson, unpaddedbase64";
    /** Synapse 1.67's mandatory dependencies (its pyproject.toml), as Debian packages, less those
     *  E2E_TOOLS has already (signedjson, unpaddedbase64). */
    private static final String SYNAPSE_DEPENDENCIES = "python3-treq python3-canonicaljson"
            + " python3-nacl python3-jsonschema python3-frozendict python3-msgpack"
            + " python3-phonenumbers python3-pil python3-pymacaroons python3-service-identity"
            + " python3-prometheus-client python3-netaddr python3-jinja2 python3-bleach python3-typing-extensions"
            + " python3-ijson python3-pydantic python3-matrix-common python3-openssl python3-pyasn1"
            + " python3-pyasn1-modules python3-sortedcontainers python3-packaging python3-idna";
    private static final String SYNAPSE_IMPORTS = ", treq, canonicaljson, nacl,"
            + " jsonschema, frozendict, msgpack, phonenumbers, PIL, pymacaroons, service_identity, prometheus_client,"
            + " netaddr, jinja2, bleach, typing_extensions, ijson, pydantic, matrix_common, OpenSSL, pyasn1,"
            + " pyasn1_modules, sortedcontainers, packaging, idna";

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length < 3) {
            fail("usage: RunPythonTests <gateway jar> <test classes> <synapse-module or e2e folder>...");
        }
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs this"));
        String python = System.getenv().getOrDefault("SHIM_TEST_PYTHON", "/usr/bin/python3");
        if (!Files.isExecutable(Path.of(python))) {
            fail(python + " not found. Install Debian's python3 and: apt-get install " + TEST_TOOLS);
        }
        List<File> suites = List.of(args).subList(2, args.length).stream().map(File::new).toList();
        boolean endToEnd = suites.stream().anyMatch(suite -> suite.getName().equals("e2e"));
        boolean debianSynapse = endToEnd && System.getenv("SYNAPSE_PYTHON") == null;
        String packages = TEST_TOOLS + (endToEnd ? " " + E2E_TOOLS : "") + (debianSynapse ? " " + SYNAPSE_DEPENDENCIES : "");
        String imports = TEST_IMPORTS + (endToEnd ? E2E_IMPORTS : "") + (debianSynapse ? SYNAPSE_IMPORTS : "");
        List<String> probe = List.of(python, "-c", imports);
        if (run(probe, Map.of(), null) != 0 && (!install(packages) || run(probe, Map.of(), null) != 0)) {
            fail(python + " lacks some of its test tools, and installing them failed."
                    + " Install them: apt-get install " + packages);
        }
        Map<String, String> environment = Map.of(
                "GATEWAY_JAR", args[0],
                "GATEWAY_TEST_CLASSES", args[1],
                "GATEWAY_JAVA", java,
                "PYTHONDONTWRITEBYTECODE", "1");
        Path logs = Path.of(args[1]).getParent().resolve("python-tests");
        Files.createDirectories(logs);
        List<Process> running = new ArrayList<>();
        for (int i = 0; i < suites.size(); i++) {
            File suite = suites.get(i);
            // Quiet when passing: dots and one summary line. A failure still prints its traceback, its
            // captured output and logs, and a summary line (-rfE: failures and errors only).
            ProcessBuilder pytest = new ProcessBuilder(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
                    suite.getName().equals("e2e") ? "." : "tests")
                    .directory(suite)
                    .redirectErrorStream(true)
                    .redirectOutput(logs.resolve(suite.getName() + ".log").toFile());
            pytest.environment().putAll(environment);
            // Each suite's servers listen on its own slice of ports (gateway_process.free_port).
            pytest.environment().put("TEST_PORT_SLICE", i + "/" + suites.size());
            running.add(pytest.start());
        }
        // Maven stopped (a TERM, a Ctrl-C): no suite goes on without it.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> running.forEach(Process::destroy)));
        int status = 0;
        for (int i = 0; i < suites.size(); i++) {
            int exit = running.get(i).waitFor();
            System.out.println("[python tests] " + suites.get(i) + (exit == 0 ? "" : ": exit " + exit));
            System.out.print(Files.readString(logs.resolve(suites.get(i).getName() + ".log")));
            System.out.flush();
            status = Math.max(status, exit);
        }
        System.exit(status);
    }

    /** apt-get update + install, as root or through passwordless sudo; false when neither works.
     *  Waits up to 5 minutes for the dpkg lock: a fresh machine may be running its own updates. */
    private static boolean install(String packages) throws IOException, InterruptedException {
        System.err.println("[python tests] installing " + packages + " with apt-get");
        List<String> sudo = "root".equals(System.getProperty("user.name")) ? List.of() : List.of("sudo", "-n");
        Map<String, String> quiet = Map.of("DEBIAN_FRONTEND", "noninteractive");
        List<String> update = new ArrayList<>(sudo);
        update.addAll(List.of("apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq"));
        List<String> install = new ArrayList<>(sudo);
        install.addAll(List.of("apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq"));
        install.addAll(List.of(packages.split(" ")));
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
        System.err.println("[python tests] " + message);
        System.exit(2);
    }
}
