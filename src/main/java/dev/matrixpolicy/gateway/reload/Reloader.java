package dev.matrixpolicy.gateway.reload;

import dev.matrixpolicy.gateway.config.ConfigurationLoader;
import dev.matrixpolicy.gateway.config.Generation;
import dev.matrixpolicy.gateway.config.GenerationBuilder;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.config.KeyNames;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.config.SpringSettingsCheck;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.SecretFile;
import dev.matrixpolicy.gateway.reload.ReloadResult.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.PropertySources;

/**
 * Applies the configuration on disk: reads and binds it ({@link ConfigurationLoader}), builds the
 * next generation beside the serving one ({@link GenerationBuilder}), and swaps it in
 * ({@link Generations}). One reload at a time. Whatever fails before the swap changes nothing: the
 * serving generation goes on, one WARN line says what startup would have said, the
 * {@code policy.config.reloads{result="failed"}} counter moves and {@code policy.config.reload.failing}
 * reads 1 until a reload succeeds.
 */
final class Reloader {
    private static final Logger log = LoggerFactory.getLogger(Reloader.class);
    /**
     * The prefixes of Spring Boot's settings read at startup only that {@link #springSettings} compares: a
     * reload binds {@code policy-gateway} alone, so every one of Spring's, {@code spring.*} included
     * ({@code spring.lifecycle.timeout-per-shutdown-phase}), waits for a restart.
     */
    private static final List<String> SPRING_AT_STARTUP = List.of("server.", "management.", "logging.", "spring.");
    /**
     * The gateway's own settings read at startup only, by their path of {@link PolicyGatewayProperties}'
     * record components, in alphabetical order (that of their keys too): a reload that changes only
     * these has nothing to apply. The policy server reads all its settings as it starts, its rooms and
     * its rate limit aside: its listener, its key, its name and how it fetches other servers' keys.
     */
    static final List<String> STARTUP_ONLY = List.of("decisionLog", "policyServer.address", "policyServer.enabled",
            "policyServer.ipRangeAllowlist", "policyServer.ipRangeBlocklist", "policyServer.keyCacheServers",
            "policyServer.keyFetchTimeout", "policyServer.keyFile", "policyServer.maxConnections",
            "policyServer.maxRequestsInProgress", "policyServer.name", "policyServer.notaries",
            "policyServer.port", "policyServer.servers", "policyServer.signatureCacheSize", "reload", "state");

    private final Generations generations;
    private final GenerationBuilder builder;
    private final ConfigurationLoader loader;
    private final SpringSettingsCheck springSettingsCheck;
    private final Clock clock;
    private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);
    private volatile ReloadResult last;
    /** The files the last reload (or the start) left to watch, with what it found in them. */
    private volatile WatchedFiles watched;
    /** The settings the gateway started with: those read at startup only are compared with them. */
    private final PolicyGatewayProperties startup;
    /** The configuration files the serving generation was read from. */
    private volatile List<ConfigurationLoader.FileRead> configurationFiles = List.of();
    /**
     * Spring Boot's own settings the gateway started with ({@link #springSettings}), which only a restart
     * applies: as the reloader read them while the gateway started, reading as a reload does; else, when
     * the files had turned wrong by then, as the running application holds them.
     */
    private Map<String, String> startupSpring = Map.of();
    /**
     * The watched files' fingerprints as startup read them: the file watcher's first start begins from
     * them, so that a file changed since (while the gateway finished starting: a ConfigMap update during
     * a rollout) is seen by its first check. A configuration file has the fingerprint of the bytes startup
     * read its settings from; one startup did not read, or read without one, has
     * {@link #CHANGED_WHILE_STARTING}, which no file's fingerprint is, so that the first check reloads it.
     * A token or secret file has its fingerprint right after the constructor read the files, or
     * {@link #CHANGED_WHILE_STARTING} if it no longer holds the secret the serving generation read (a
     * Secret rotated after startup read it).
     */
    private Map<Path, String> startFingerprints = Map.of();
    static final String CHANGED_WHILE_STARTING = "changed while the gateway started";
    /** The settings startup read, the running application's: what the constructor's read is compared with. */
    private final PropertySources startupSettings;

    Reloader(Generations generations, GenerationBuilder builder, ConfigurationLoader loader,
             SpringSettingsCheck springSettingsCheck, PropertySources startupSettings, MeterRegistry registry, Clock clock) {
        this.generations = generations;
        this.startupSettings = startupSettings;
        this.builder = builder;
        this.loader = loader;
        this.springSettingsCheck = springSettingsCheck;
        this.clock = clock;
        for (Outcome outcome : Outcome.values()) {
            outcomes.put(outcome, Counter.builder("policy.config.reloads")
                    .description("Configuration reloads, by result: reloaded, unchanged or failed (the old chains kept serving)")
                    .tag("result", outcome.wireName())
                    .register(registry));
        }
        Gauge.builder("policy.config.generation", generations, serving -> serving.current().number())
                .description("The configuration generation serving: 1 at startup, one more for each reload applied")
                .register(registry);
        Gauge.builder("policy.config.reload.failing", this, reloader -> reloader.failing() ? 1 : 0)
                .description("1 while the last reload failed and the gateway serves an older configuration")
                .register(registry);
        Generation first = generations.current();
        this.startup = first.properties();
        this.last = new ReloadResult(Outcome.RELOADED, first.number(), "startup", first.appliedAt(), Optional.empty(), List.of());
        learnFiles();
    }

    /**
     * Reads the configuration once to learn which files it comes from: the ones to watch, and the
     * ones a reload requires (whether or not they are watched).
     */
    private void learnFiles() {
        List<ConfigurationLoader.FileRead> files = new ArrayList<>();
        try {
            startupSpring = springSettings(loader.load(files::add).environment().getPropertySources());
        } catch (RuntimeException ignored) {
            // the files changed since startup and are wrong now: the first check reloads and reports them. A file
            // that no longer parses leaves Boot telling of none: the files to watch are those startup read.
            startupSpring = springSettings(startupSettings);
            files.clear();
            files.addAll(ConfigurationLoader.filesRead(startupSettings));
        }
        configurationFiles = List.copyOf(files);
        Generation serving = generations.current();
        watched = WatchedFiles.after(List.of(), files, Optional.empty(), Map.of(), serving);
        // A configuration file starts from the bytes startup read its settings from: one startup did not
        // read, or read without a fingerprint, is reloaded by the first check.
        Map<String, Optional<String>> readAtStartup = new HashMap<>();
        ConfigurationLoader.filesRead(startupSettings).forEach(file -> readAtStartup.put(file.document(), file.fingerprint()));
        Map<Path, String> fingerprints = new HashMap<>();
        for (ConfigurationLoader.FileRead file : files) {
            String atStartup = readAtStartup.getOrDefault(file.document(), Optional.empty()).orElse(CHANGED_WHILE_STARTING);
            fingerprints.merge(file.path(), atStartup, (one, other) -> one.equals(other) ? one : CHANGED_WHILE_STARTING);
        }
        // A token or secret file starts as it is now, if it still holds the secret the serving generation read.
        for (Path file : watched.files()) {
            if (!fingerprints.containsKey(file)) {
                String taken = FileWatcher.fingerprint(file); // before the question, as the watcher does
                fingerprints.put(file, serving.holdsWhatItRead(file) ? taken : CHANGED_WHILE_STARTING);
            }
        }
        startFingerprints = fingerprints;
    }

    /** The watched files' fingerprints as this reloader read them while the gateway started. */
    Map<Path, String> startFingerprints() {
        return startFingerprints;
    }

    /** The files whose change triggers a reload: configuration files read and the token files. */
    List<Path> watchedFiles() {
        return watched.files();
    }

    /** The files the last reload (or the start) left to watch, with what it found in them. */
    WatchedFiles watched() {
        return watched;
    }

    /** The result of the last reload, or of startup. */
    ReloadResult last() {
        return last;
    }

    boolean failing() {
        return last.outcome() == Outcome.FAILED;
    }

    /**
     * Reads the configuration and applies it if it differs from the serving one.
     *
     * @param trigger what asked, for the log and the result
     */
    ReloadResult reload(String trigger) {
        return reload(trigger, () -> false).orElseThrow();
    }

    /**
     * Reads the configuration and applies it if it differs from the serving one, for one that may stop
     * meanwhile: a reload that fails while {@code stopping} says so was cut short by the stop (the
     * interruption breaks whatever step waits), not refused by the files. It leaves one DEBUG line,
     * counts as no reload and leaves the last result standing.
     *
     * @param trigger  what asked, for the log and the result
     * @param stopping whether the one asking is stopping
     * @return how it ended; empty when cut short
     */
    synchronized Optional<ReloadResult> reload(String trigger, BooleanSupplier stopping) {
        Generation serving = generations.current();
        List<ConfigurationLoader.FileRead> files = new ArrayList<>();
        Optional<Environment> readIn = Optional.empty();
        ReloadResult result;
        Map<Path, Optional<String>> secretsRefused = Map.of();
        Optional<ConfigurationLoader.FileRefused> fileRefused = Optional.empty();
        SecretFile.Reads secretsRead = SecretFile.Reads.record();
        try {
            requireConfigurationFiles();
            ConfigurationLoader.Loaded loaded = loader.load(files::add);
            readIn = Optional.of(loaded.environment());
            requireSettingsStill(files);
            requireStartable(loaded.properties());
            List<String> waiting = new ArrayList<>(startupOnlyChanged(startup, loaded.properties()));
            List<String> springChanged = changed(startupSpring, springSettings(loaded.environment().getPropertySources()));
            springSettingsCheck.requireBindable(loaded.environment(), springChanged);
            waiting.addAll(springChanged);
            if (readsAs(serving, loaded.properties())) {
                result = new ReloadResult(Outcome.UNCHANGED, serving.number(), trigger, clock.instant(), Optional.empty(), waiting);
            } else {
                Generation next = builder.next(serving, loaded.properties(), loaded.environment());
                generations.swap(next);
                configurationFiles = List.copyOf(files);
                result = new ReloadResult(Outcome.RELOADED, next.number(), trigger, clock.instant(), Optional.empty(), waiting);
                GenerationBuilder.logServing(log, "Configuration reloaded (" + trigger + "): generation " + next.number(), next,
                        "; " + kept(serving, next) + " kept from generation " + serving.number());
            }
            if (!waiting.isEmpty()) {
                log.warn("Configuration {} ({}), but {} differ(s) from what the gateway started with and take(s) effect"
                        + " only at its next restart", result.outcome() == Outcome.RELOADED ? "reloaded" : "unchanged",
                        trigger, String.join(", ", waiting));
            }
        } catch (RuntimeException refused) {
            if (stopping.getAsBoolean()) {
                log.debug("Configuration reload ({}) cut short by the stop: {}", trigger, refused.toString());
                return Optional.empty();
            }
            String problem = ConfigurationLoader.describe(refused, readIn);
            secretsRefused = secretsRead.read();
            fileRefused = ConfigurationLoader.fileRefused(refused);
            result = new ReloadResult(Outcome.FAILED, serving.number(), trigger, clock.instant(), Optional.of(problem), List.of());
            log.warn("Configuration reload refused ({}), generation {} keeps serving: {}", trigger, serving.number(), problem);
        } catch (Error broke) {
            // The heap or the stack ran out reading it: the serving generation is untouched, so say so and go on
            // serving it, rather than leave the result of the reload before this one standing.
            result = new ReloadResult(Outcome.FAILED, serving.number(), trigger, clock.instant(),
                    Optional.of("reading the configuration failed: " + broke), List.of());
            log.error("Configuration reload failed ({}), generation {} keeps serving", trigger, serving.number(), broke);
        } finally {
            secretsRead.close();
        }
        // A configuration read whole names every file to watch, so files it no longer names are dropped. A file
        // that fails to parse leaves none among those read (Boot tells of them once all are read): the ones watched before stay.
        watched = WatchedFiles.after(result.outcome() == Outcome.FAILED ? watched.files() : List.of(), files, fileRefused,
                secretsRefused, generations.current());
        // The result first, then its count: a scrape or a test that sees the count also sees the
        // failing gauge and the health that the result sets.
        last = result;
        outcomes.get(result.outcome()).increment();
        return Optional.of(result);
    }

    /** Whether {@code now} gives what {@code serving} applies: its settings, tokens and modules' secrets. */
    private static boolean readsAs(Generation serving, PolicyGatewayProperties now) {
        return !differInReloadable(serving.properties(), now)
                && now.auth().sharedToken().equals(serving.sharedToken())
                && now.adminToken().equals(serving.adminToken())
                && serving.modules().stream().noneMatch(ModuleInstance::secretFilesChanged);
    }

    /**
     * A configuration file the serving generation was read from that is gone or empty now is refused,
     * not read as "no settings": Spring Boot would skip it, and the packaged defaults would serve. It is
     * what an editor that truncates before writing, or a deleted mount, looks like for a moment. One that
     * is no regular file now is left to the loader ({@code RegularFileRequired}), which says so.
     */
    private void requireConfigurationFiles() {
        for (Path file : paths(configurationFiles)) {
            long size;
            try {
                size = Files.size(file);
            } catch (IOException gone) {
                throw new IllegalStateException("the configuration file " + file + " the serving configuration was read from"
                        + " cannot be read now (" + gone.getClass().getSimpleName() + "). Fix: restore it; to run without"
                        + " it, restart the gateway.");
            }
            // a named pipe has no size: the loader refuses it as at startup, before it would open it
            if (size == 0 && Files.isRegularFile(file)) {
                throw new IllegalStateException("the configuration file " + file + " is empty. Fix: write the"
                        + " configuration into it; to run without it, restart the gateway.");
            }
        }
    }

    /**
     * A configuration file the serving generation was read from that gives no settings now (comments
     * alone, {@code {}}, {@code ~}, a directory in its place), or no {@code policy-gateway} settings
     * where it gave some ({@code policy-gateway:} with nothing under it), is refused too: the
     * packaged demo chain, without tokens, would serve in its place. It is what a file cut short by
     * a writer looks like, or a template that rendered nothing.
     */
    private void requireSettingsStill(List<ConfigurationLoader.FileRead> read) {
        for (ConfigurationLoader.FileRead before : configurationFiles) {
            List<ConfigurationLoader.FileRead> now = read.stream().filter(file -> file.path().equals(before.path())).toList();
            if (now.isEmpty()) {
                throw new IllegalStateException("the configuration file " + before.path() + " holds no settings now (only"
                        + " comments, an empty document, or no file). Fix: write the configuration into it; to run without"
                        + " it, restart the gateway.");
            }
            if (before.setsGateway() && now.stream().noneMatch(ConfigurationLoader.FileRead::setsGateway)) {
                throw new IllegalStateException("the configuration file " + before.path() + " holds no policy-gateway"
                        + " settings now, and the packaged defaults would serve in their place. Fix: write the policy-gateway"
                        + " settings into it; to run on the defaults, restart the gateway.");
            }
        }
    }

    /**
     * What startup reads from a file a setting read at startup only names, read as startup reads it:
     * the policy server's signing key. A reload cannot apply it, but one that accepted a key file the
     * next start cannot read would leave every restarted replica failing to start.
     */
    private static void requireStartable(PolicyGatewayProperties settings) {
        if (settings.policyServer().enabled()) {
            settings.policyServer().signingKey();
        }
    }

    /** The settings read at startup only that differ between two configurations, by key. */
    static List<String> startupOnlyChanged(PolicyGatewayProperties startup, PolicyGatewayProperties now) {
        List<String> changed = new ArrayList<>();
        for (String path : STARTUP_ONLY) {
            if (!Objects.equals(component(startup, path), component(now, path))) {
                changed.add("policy-gateway." + KeyNames.kebabCase(path));
            }
        }
        return changed;
    }

    /** Whether two configurations differ in anything a reload applies: in any setting but those read at startup only. */
    static boolean differInReloadable(PolicyGatewayProperties serving, PolicyGatewayProperties now) {
        return differBeyondStartupOnly(serving, now, "");
    }

    private static boolean differBeyondStartupOnly(Record serving, Record now, String prefix) {
        for (RecordComponent component : serving.getClass().getRecordComponents()) {
            String path = prefix + component.getName();
            if (STARTUP_ONLY.contains(path)) {
                continue;
            }
            Object before = component(serving, component);
            Object after = component(now, component);
            boolean holdsStartupOnly = STARTUP_ONLY.stream().anyMatch(key -> key.startsWith(path + "."));
            if (holdsStartupOnly ? differBeyondStartupOnly((Record) before, (Record) after, path + ".") : !Objects.equals(before, after)) {
                return true;
            }
        }
        return false;
    }

    /** A setting by its path of record components, such as {@code policyServer.port}. */
    private static Object component(Record settings, String path) {
        Object value = settings;
        for (String name : path.split("\\.")) {
            Record record = (Record) value;
            value = component(record, Arrays.stream(record.getClass().getRecordComponents())
                    .filter(component -> component.getName().equals(name)).findFirst().orElseThrow());
        }
        return value;
    }

    private static Object component(Record settings, RecordComponent component) {
        try {
            return component.getAccessor().invoke(settings);
        } catch (ReflectiveOperationException broken) {
            throw new IllegalStateException("cannot read " + component + " of the settings", broken);
        }
    }

    /**
     * Spring Boot's settings that the gateway reads once, as the configuration writes them (a
     * placeholder unresolved, so that {@code ${random.int}} reads the same each time): its listeners
     * ({@code server.*}, {@code management.*}), its logging ({@code logging.*}) and its own ({@code spring.*}),
     * by key.
     */
    static Map<String, String> springSettings(PropertySources sources) {
        Map<String, String> settings = new TreeMap<>();
        for (PropertySource<?> source : sources) {
            if (source instanceof EnumerablePropertySource<?> enumerable) {
                for (String key : enumerable.getPropertyNames()) {
                    // as Spring binds it: Server.Port and server.port are one setting
                    String name = ConfigurationPropertyName.adapt(key, '.').toString();
                    if (SPRING_AT_STARTUP.stream().anyMatch(name::startsWith)) {
                        settings.computeIfAbsent(name, adapted -> String.valueOf(enumerable.getProperty(key)));
                    }
                }
            }
        }
        return settings;
    }

    /** The keys whose values differ between two sets of settings, one set lacking it included. */
    static List<String> changed(Map<String, String> before, Map<String, String> after) {
        Set<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        return keys.stream().filter(key -> !Objects.equals(before.get(key), after.get(key))).toList();
    }

    private static List<Path> paths(List<ConfigurationLoader.FileRead> files) {
        return files.stream().map(ConfigurationLoader.FileRead::path).distinct().toList();
    }

    private static long kept(Generation before, Generation after) {
        return after.modules().stream()
                .filter(instance -> before.modules().stream().anyMatch(old -> old.module() == instance.module()))
                .count();
    }
}
