import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Synapse module's pytest suite and the end-to-end suite for {@code ./mvnw verify} (see
 * pom.xml), alongside the unit tests: they need the packaged jar, which the build makes before the
 * unit tests for this reason, and they spend most of their time waiting on Synapse, while the unit
 * tests keep one core of two busy.
 *
 * <ul>
 *   <li>{@code prepare} (initialize, before anything is compiled): when the Debian packages the tests
 *       will need are missing (a fresh machine), starts installing them all in the background, in one
 *       apt-get transaction ({@code install}), so that the installation overlaps the compilation and the
 *       Java tests instead of holding up either: the suites' tools when the goals reach
 *       post-integration-test, and the Java tests' Chromium and Redis. Whoever needs a tool later, the
 *       suites' supervisor or a Java test ({@code DebianPackages}), first waits for the installation's
 *       lock ({@code target/test-tools.lock}), then checks for the tool itself, and installs it if it is
 *       still missing.</li>
 *   <li>{@code start} (process-test-classes, right after the jar): starts the suites in the background
 *       and returns. It starts nothing when Maven's goals stop short of post-integration-test
 *       ({@code ./mvnw test}, {@code package}), where nothing would read their results.</li>
 *   <li>{@code supervise}: that background process. It installs the suites' tools if they are still
 *       missing, runs the suites one after another (two at once beside the unit tests would leave
 *       those less than a core), records their exit codes, and ends them, with every Synapse and
 *       gateway they started, if Maven ends first (a failed unit test, a Ctrl-C).</li>
 *   <li>{@code join} (post-integration-test, after the Java integration tests): waits for the suites
 *       this build started, or runs them now, all at once, if it started none; prints each suite's output whole
 *       (kept in {@code target/python-tests/<folder>.log}, so the two never interleave), and fails
 *       when any suite failed.</li>
 * </ul>
 *
 * <p>Maven starts this file with the java of its JDK 25 toolchain; that java is handed to the
 * tests (GATEWAY_JAVA), which start the packaged gateway with it. The Python test tools come from
 * Debian packages (PyPI is not reachable where this project is built): when they are missing this
 * launcher installs them with apt-get, as root or through passwordless sudo, so that a plain
 * {@code ./mvnw verify} works on a fresh machine. Where it cannot, the build fails; it never skips.
 *
 * <p>After the mode: the time Maven took as the build's start (with Maven's process ID, it tells this
 * build's files in target/python-tests from an earlier one's), for {@code start} whether to start early
 * at all ({@code -Dpython.tests.background=false} runs the suites at {@code join}, after the Java
 * tests, as a machine too small for both at once would need), then the packaged jar, the test classes
 * folder, and the folder of each suite to run
 * ({@code synapse-module}, and {@code e2e}: the end-to-end suite against a real Synapse, which also
 * needs Synapse's own dependencies from Debian unless {@code SYNAPSE_PYTHON} names a Python that
 * has Synapse installed already).
 */
public class RunPythonTests {
    private static final String TEST_TOOLS = "python3-pytest python3-twisted python3-pytest-twisted python3-yaml";
    private static final String TEST_IMPORTS = "import pytest, twisted, pytest_twisted, attr, yaml";
    /** The end-to-end harness itself, which runs in this python whichever Synapse it drives: YAML
     *  (in TEST_TOOLS: the module's tests read the docs' examples too), certificates, bcrypt hashes, and signedjson with unpaddedbase64 for the policy server tests
     *  (they sign and verify as a homeserver does). Installed even when SYNAPSE_PYTHON is set. */
    private static final String E2E_TOOLS = "python3-cryptography python3-bcrypt python3-signedjson"
            + " python3-unpaddedbase64 redis-server redis-tools";
    /** Redis, for the end-to-end suite's shared-state tests (e2e/harness/redis.py). */
    private static final List<Path> REDIS = List.of(Path.of("/usr/bin/redis-server"), Path.of("/usr/bin/redis-cli"));
    /** The Java tests' own: the admin console's browser tests and the shared state's Redis tests
     *  (support/ChromiumBrowser, support/RedisServer), installed in the early transaction too when missing. */
    private static final String JAVA_TEST_TOOLS = "chromium chromium-driver redis-server";
    private static final List<Path> JAVA_TEST_PROGRAMS = List.of(Path.of("/usr/bin/chromium"), Path.of("/usr/bin/chromedriver"),
            Path.of("/usr/bin/redis-server"), Path.of("/usr/bin/redis-cli"));
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
        if (args.length == 4 && args[0].equals("install")) {
            System.exit(installHoldingTheLock(Path.of(args[1]), Path.of(args[2]), args[3]));
        }
        if (args.length < 5 || !List.of("prepare", "start", "join", "supervise").contains(args[0])) {
            fail("usage: RunPythonTests prepare|start <build start> <background> | join <build start> | supervise <build> <Maven pid>,"
                    + " then <gateway jar> <test classes> <synapse-module or e2e folder>...");
        }
        String mode = args[0];
        int first = mode.equals("join") ? 2 : 3;
        // prepare, start and join are given the time Maven took as the build's start, and add Maven's process ID
        String build = mode.equals("supervise") ? args[1] : maven().pid() + "@" + args[1];
        Run run = new Run(build, Path.of(args[first]), Path.of(args[first + 1]),
                List.of(args).subList(first + 2, args.length).stream().map(File::new).toList());
        if (mode.equals("prepare")) {   // before the test classes are compiled
            prepare(run);
            return;
        }
        if (!Files.isDirectory(run.testClasses())) {
            // -Dmaven.test.skip: no test classes compiled, which the suites need (GATEWAY_TEST_CLASSES)
            System.out.println("[python tests] skipped: no test classes in " + run.testClasses());
            return;
        }
        switch (mode) {
            case "start" -> start(run, Boolean.parseBoolean(args[2]));
            case "supervise" -> System.exit(supervise(run, Long.parseLong(args[2])));
            default -> System.exit(join(run));
        }
    }

    /**
     * The jar and test classes the suites run against, and the suites' folders.
     *
     * @param build this Maven build, told apart from any earlier one whose files are left in target/:
     *              Maven's process ID and the time Maven took as the build's start
     */
    private record Run(String build, Path jar, Path testClasses, List<File> suites) {
        Path logs() {
            return testClasses.getParent().resolve("python-tests");
        }

        Path log(File suite) {
            return logs().resolve(suite.getName() + ".log");
        }

        /**
         * Where every Python process of the suites (pytest, Synapse, its helpers) keeps its compiled
         * modules: Synapse and the module are compiled once, not at each of the suites' few dozen
         * Python starts, and the checkout gets no {@code __pycache__}.
         */
        Path bytecode() {
            return testClasses.getParent().resolve("python-bytecode");
        }

        /** Written by {@code start}: which build started the suites, and the process that runs them. */
        Path started() {
            return logs().resolve("started.properties");
        }

        /** Written by {@code supervise} once every suite has ended: which build, and each suite's exit code. */
        Path ended() {
            return logs().resolve("ended.properties");
        }

        Path supervisorLog() {
            return logs().resolve("supervisor.log");
        }

        /** Held while test tools are installed: by {@code install}, this file's other modes and DebianPackages. */
        Path toolsLock() {
            return testClasses.getParent().resolve("test-tools.lock");
        }

        /** What {@code file} holds, if it was written by this build. */
        Optional<Properties> ofThisBuild(Path file) throws IOException {
            return read(file).filter(written -> build.equals(written.getProperty("build")));
        }
    }

    /**
     * In process-test-classes, once the jar is built: installs the test tools if need be, then runs the
     * suites in the background ({@code supervise}) while Maven goes on with the unit tests, when the
     * build goes as far as {@code join}. Otherwise (./mvnw test, package; {@code background} false, or a
     * second start in one build, as a lifecycle forked by another goal makes) it starts nothing.
     */
    private static void start(Run run, boolean background) throws IOException, InterruptedException {
        if (!background || !collects() || run.ofThisBuild(run.started()).isPresent()) {
            return;
        }
        Files.createDirectories(run.logs());
        for (Path stale : List.of(run.started(), run.ended(), run.supervisorLog())) {
            Files.deleteIfExists(stale);
        }
        for (File suite : run.suites()) {
            Files.deleteIfExists(run.log(suite));
        }
        List<String> command = new ArrayList<>(List.of(java(), launcher(), "supervise", run.build(),
                String.valueOf(maven().pid()), run.jar().toString(), run.testClasses().toString()));
        run.suites().forEach(suite -> command.add(suite.toString()));
        // Its output goes to a file, never to Maven's pipe: Maven would otherwise wait for this
        // process to close it, that is, for the suites to end.
        Process supervisor = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(run.supervisorLog().toFile())
                .start();
        Properties started = new Properties();
        started.setProperty("build", run.build());
        started.setProperty("pid", String.valueOf(supervisor.pid()));
        write(started, run.started());
        System.out.println("[python tests] started in the background: " + run.suites().stream().map(File::getName).toList()
                + "; their results are read after the integration tests");
    }

    /**
     * Whether Maven was asked for a phase that reaches post-integration-test, where {@code join} reads
     * the results: read from Maven's command line (MAVEN_ARGS included, which Maven's script appends
     * to it); an expression in pom.xml gives the goals only one index at a time. Where the command line
     * cannot be read, nothing starts early and {@code join} runs the suites.
     */
    private static boolean collects() {
        return goalsInclude(List.of("post-integration-test", "verify", "install", "deploy"));
    }

    private static boolean goalsInclude(List<String> phases) {
        return Arrays.stream(mavenArguments()).anyMatch(phases::contains);
    }

    private static String[] mavenArguments() {
        return maven().info().arguments().orElse(new String[0]);
    }

    /**
     * In initialize: starts installing, in the background, the packages the tests of this build will
     * need and the machine lacks, and returns once the installation holds the tools lock. The Java
     * tests' tools only when the goals run the Java tests, all of them ({@code ./mvnw test -Dtest=...}
     * installs what its tests ask for, when they ask); the suites' when the goals reach
     * post-integration-test. Nothing for other goals ({@code spring-boot:run}).
     */
    private static void prepare(Run run) throws IOException, InterruptedException {
        if (Arrays.stream(mavenArguments()).anyMatch(List.of("-Dmaven.test.skip", "-Dmaven.test.skip=true")::contains)) {
            return;
        }
        boolean javaTests = goalsInclude(List.of("test", "package", "integration-test", "post-integration-test", "verify",
                "install", "deploy")) && Arrays.stream(mavenArguments()).noneMatch(argument -> argument.startsWith("-Dtest="));
        List<String> missing = new ArrayList<>();
        if (javaTests && !JAVA_TEST_PROGRAMS.stream().allMatch(Files::isExecutable)) {
            missing.add(JAVA_TEST_TOOLS);
        }
        SuiteTools suites = SuiteTools.of(run);
        if (collects() && Files.isExecutable(Path.of(python())) && !suites.present()) {
            missing.add(suites.packages());
        }
        if (missing.isEmpty()) {
            return;
        }
        String packages = String.join(" ", missing);
        Path lock = run.toolsLock();
        Path holding = lock.resolveSibling("test-tools.installing");
        Path log = lock.resolveSibling("test-tools-install.log");
        Files.createDirectories(lock.getParent());
        Files.deleteIfExists(holding);
        Process installer = new ProcessBuilder(java(), launcher(), "install", lock.toString(), holding.toString(), packages)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(holding) && installer.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (Files.exists(holding) || installer.isAlive()) {
            System.out.println("[test tools] installing in the background, beside the build: " + packages + " (" + log + ")");
        } else {
            // Ended already: it could not install (not root, no apt-get), or could not even start.
            // Whoever needs a tool later installs it or names what is missing, as without prepare.
            System.out.println("[test tools] installing " + packages + " ended at once, with exit code " + installer.exitValue()
                    + " (" + log + "); the tests that need them install them themselves or name them");
        }
    }

    /** {@code install}: the packages installed while holding the tools lock, {@code holding} there meanwhile. */
    private static int installHoldingTheLock(Path lock, Path holding, String packages) throws IOException, InterruptedException {
        try (FileChannel held = toolsLocked(lock)) {
            Files.writeString(holding, String.valueOf(ProcessHandle.current().pid()));
            try {
                return install(packages) ? 0 : 1;
            } finally {
                Files.deleteIfExists(holding);
            }
        }
    }

    /** Runs the suites one after another, and ends them, and all they started, if Maven ends first. */
    private static int supervise(Run run, long mavenPid) throws IOException, InterruptedException {
        Optional<ProcessHandle> maven = ProcessHandle.of(mavenPid);
        if (maven.isEmpty()) {
            return 1;
        }
        endWith(maven.get());
        installTools(run);
        // One after another: beside the unit tests, two at once would leave those less than a core.
        Properties ended = runSuites(run, true);
        ended.setProperty("build", run.build());
        write(ended, run.ended());
        return 0;
    }

    /**
     * Ends this process, and with it (the shutdown hook) the suites and all they started, when Maven
     * ends first: a TERM or a KILL that Maven's own shutdown does not pass on to its children.
     */
    private static void endWith(ProcessHandle maven) {
        Runtime.getRuntime().addShutdownHook(new Thread(RunPythonTests::endDescendants));
        // A thread of its own: onExit's callbacks run in the common pool, which the shutdown hook's
        // waits would otherwise find busy with this exit.
        Thread watcher = new Thread(() -> {
            maven.onExit().join();
            System.out.println("[python tests] Maven ended before the suites: ending them");
            System.exit(1);
        }, "maven-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    /**
     * Runs the suites, each on its own slice of ports: one after another, or all at once.
     *
     * @return each suite's exit code, by its folder's name
     */
    private static Properties runSuites(Run run, boolean oneAfterAnother) throws IOException, InterruptedException {
        List<Process> running = new ArrayList<>();
        for (int i = 0; i < run.suites().size(); i++) {
            Process suite = launch(run, i);
            if (oneAfterAnother) {
                suite.waitFor();
            }
            running.add(suite);
        }
        Properties exits = new Properties();
        for (int i = 0; i < running.size(); i++) {
            exits.setProperty(run.suites().get(i).getName(), String.valueOf(running.get(i).waitFor()));
        }
        return exits;
    }

    /**
     * In post-integration-test: waits for the suites {@code start} began in this build and prints each
     * one's output whole; or, when none was begun, runs them now. Fails the build when any suite failed.
     */
    private static int join(Run run) throws IOException, InterruptedException {
        Optional<Properties> started = run.ofThisBuild(run.started());
        Optional<Properties> exits;
        if (started.isEmpty()) {
            installTools(run);
            endWith(maven());
            exits = Optional.of(runSuites(run, false));
        } else {
            exits = run.ofThisBuild(run.ended());
            if (exits.isEmpty()) {
                System.out.println("[python tests] waiting for the suites started with the unit tests");
                ProcessHandle.of(Long.parseLong(started.get().getProperty("pid")))
                        .ifPresent(supervisor -> supervisor.onExit().join());
                exits = run.ofThisBuild(run.ended());
            }
        }
        boolean passed = exits.isPresent();
        for (File suite : run.suites()) {
            String exit = exits.map(codes -> codes.getProperty(suite.getName(), "none")).orElse("none");
            passed &= exit.equals("0");
            System.out.println("[python tests] " + suite + (exit.equals("0") ? "" : ": exit " + exit));
            if (Files.exists(run.log(suite))) {
                System.out.print(Files.readString(run.log(suite)));
            }
        }
        if (exits.isEmpty()) {
            System.out.println("[python tests] the suites ended without a result; what ran them printed:");
            System.out.print(Files.readString(run.supervisorLog()));
        }
        System.out.flush();
        return passed ? 0 : 1;
    }

    /** Starts the {@code i}-th suite, on its own slice of ports. */
    private static Process launch(Run run, int i) throws IOException {
        File suite = run.suites().get(i);
        Files.createDirectories(run.logs());
        // Quiet when passing: dots and one summary line. A failure still prints its traceback, its
        // captured output and logs, and a summary line (-rfE: failures and errors only).
        ProcessBuilder pytest = new ProcessBuilder(python(), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
                suite.getName().equals("e2e") ? "." : "tests")
                .directory(suite)
                .redirectErrorStream(true)
                .redirectOutput(run.log(suite).toFile());
        pytest.environment().putAll(Map.of(
                "GATEWAY_JAR", run.jar().toString(),
                "GATEWAY_TEST_CLASSES", run.testClasses().toString(),
                "GATEWAY_JAVA", java(),
                "PYTHONPYCACHEPREFIX", run.bytecode().toString(),
                // Each suite's servers listen on its own slice of ports (gateway_process.free_port).
                "TEST_PORT_SLICE", i + "/" + run.suites().size()));
        pytest.environment().remove("PYTHONDONTWRITEBYTECODE"); // it would keep the cache above empty
        return pytest.start();
    }

    /**
     * Ends every process below this one, Synapses and gateways included, not only the pytest
     * processes: a pytest ended by a TERM runs no fixture teardown (or, with Twisted's handler, goes
     * on with its next test), and what it started would otherwise live on. The tree is read before
     * anything ends, as an orphan leaves it; the pytest processes are killed first, so that none
     * starts anything more, then the rest are asked to stop, and killed after 10 s.
     */
    private static void endDescendants() {
        List<ProcessHandle> tree = ProcessHandle.current().descendants().toList();
        ProcessHandle.current().children().forEach(ProcessHandle::destroyForcibly);
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (tree.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException interrupted) {
                break;
            }
        }
        tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    /**
     * The suites' tools, installed with apt-get when missing, once an installation begun by {@code prepare}
     * has ended; the build fails where that cannot be done.
     */
    private static void installTools(Run run) throws IOException, InterruptedException {
        String python = python();
        if (!Files.isExecutable(Path.of(python))) {
            fail(python + " not found. Install Debian's python3 and: apt-get install " + TEST_TOOLS);
        }
        SuiteTools tools = SuiteTools.of(run);
        try (FileChannel held = toolsLocked(run.toolsLock())) {
            if (!tools.present() && (!install(tools.packages()) || !tools.present())) {
                fail(python + " lacks some of its test tools" + (tools.endToEnd() ? " (or redis-server is missing)" : "")
                        + ", and installing them failed (apt-get as root, or through passwordless sudo). Install them: apt-get install "
                        + tools.packages());
            }
        }
    }

    /**
     * The tools lock, held until the channel is closed: one installation at a time, and nobody looks
     * for a tool while one is under way. The Java tests take the same lock ({@code support/DebianPackages}).
     */
    private static FileChannel toolsLocked(Path lock) throws IOException {
        Files.createDirectories(lock.getParent());
        FileChannel channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            channel.lock();
            return channel;
        } catch (IOException | RuntimeException failed) {
            channel.close();
            throw failed;
        }
    }

    /** The Debian packages the suites need, and the imports that tell whether Python has them. */
    private record SuiteTools(String packages, String imports, boolean endToEnd) {
        static SuiteTools of(Run run) {
            boolean endToEnd = run.suites().stream().anyMatch(suite -> suite.getName().equals("e2e"));
            boolean debianSynapse = endToEnd && System.getenv("SYNAPSE_PYTHON") == null;
            return new SuiteTools(TEST_TOOLS + (endToEnd ? " " + E2E_TOOLS : "") + (debianSynapse ? " " + SYNAPSE_DEPENDENCIES : ""),
                    TEST_IMPORTS + (endToEnd ? E2E_IMPORTS : "") + (debianSynapse ? SYNAPSE_IMPORTS : ""), endToEnd);
        }

        /** Whether they are all there; the import's error, when one is missing, is not printed. */
        boolean present() throws InterruptedException {
            ProcessBuilder probe = new ProcessBuilder(python(), "-c", imports).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            try {
                return probe.start().waitFor() == 0 && (!endToEnd || REDIS.stream().allMatch(Files::isExecutable));
            } catch (IOException cannotStart) {
                return false;
            }
        }
    }

    private static String python() {
        return System.getenv().getOrDefault("SHIM_TEST_PYTHON", "/usr/bin/python3");
    }

    /** The java running this file: the JDK 25 of Maven's toolchain. */
    private static String java() {
        return ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs this"));
    }

    /** This source file, as the java command named it. */
    private static String launcher() {
        return Arrays.stream(ProcessHandle.current().info().arguments().orElse(new String[0]))
                .filter(argument -> argument.endsWith("RunPythonTests.java")).findFirst()
                .orElseThrow(() -> new IllegalStateException("cannot tell where RunPythonTests.java is"));
    }

    /** Maven's own process: the one that starts this file in each phase. */
    private static ProcessHandle maven() {
        return ProcessHandle.current().parent().orElseThrow(() -> new IllegalStateException("cannot tell Maven's process"));
    }

    private static Optional<Properties> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties properties = new Properties();
        try (var in = Files.newInputStream(file)) {
            properties.load(in);
        }
        return Optional.of(properties);
    }

    /** Written whole or not at all: the reader never sees half a file. */
    private static void write(Properties properties, Path file) throws IOException {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        try (var out = Files.newOutputStream(partial)) {
            properties.store(out, null);
        }
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** apt-get update + install, as root or through passwordless sudo; false when neither works.
     *  Waits up to 5 minutes for the dpkg lock: a fresh machine may be running its own updates. */
    private static boolean install(String packages) throws InterruptedException {
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

    /** The command's exit code; 127, as a shell's, when it cannot start: a user who is not root on a
     *  machine without sudo, or a machine without apt-get, gets the message naming the packages. */
    private static int run(List<String> command, Map<String, String> environment, File directory)
            throws InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().putAll(environment);
        if (directory != null) {
            builder.directory(directory);
        }
        try {
            return builder.start().waitFor();
        } catch (IOException cannotStart) {
            System.err.println("[python tests] cannot run " + command.getFirst() + ": " + cannotStart.getMessage());
            return 127;
        }
    }

    private static void fail(String message) {
        System.err.println("[python tests] " + message);
        System.exit(2);
    }
}
