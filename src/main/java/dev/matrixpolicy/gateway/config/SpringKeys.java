package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.module.ConfigValues;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.boot.env.ConfigTreePropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginLookup;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every key written in a configuration file outside {@code policy-gateway} must be one Spring Boot
 * reads. Boot passes over a key it does not know without a word, so a misspelt root ({@code
 * policy-gatway:}) served the packaged demo chain in place of the administrator's, and {@code
 * sever.port} or {@code management.endpoints.web.exposur.include} left their settings at the
 * default. Such a key stops startup, and a reload, as an unknown {@code policy-gateway} key does
 * ({@link UnknownKeyCheck}), naming the key, the file and line, and the closest known key.
 *
 * <p>What Boot reads is what its jars describe in {@code META-INF/spring-configuration-metadata.json},
 * the data IDEs complete keys from: a key is known when it, or a key above it (a map such as {@code
 * logging.level}, a list such as {@code management.endpoints.web.exposure.include}), is described
 * there and not marked as no longer read ({@code "level": "error"}, for which the replacement is
 * named). Three families Boot reads for any endpoint, health indicator or info contributor, the
 * gateway's own among them, are known by their shape: {@code management.endpoint.<id>.access} (and
 * {@code .enabled}, {@code .cache.time-to-live}), {@code management.health.<id>.enabled} and
 * {@code management.info.<id>.enabled}; and {@code info}, whose keys the info endpoint shows as they
 * are, takes any key. Only keys written in configuration files are checked: environment
 * variables, system properties, command-line arguments and config trees (a Secret's files
 * imported with {@code configtree:}) hold much besides the gateway's settings.
 *
 * <p>The descriptions, some half a megabyte of JSON in about sixteen jars, are read once per class
 * loader, on a thread of their own started before Spring Boot reads the configuration files, so that
 * a start does not wait for them.
 */
final class SpringKeys {
    static final String METADATA = "META-INF/spring-configuration-metadata.json";
    private static final String WHY = "Unknown keys stop startup so that a misspelt one cannot leave a setting at its default.";
    private static final String ANY = "*";
    private static final Map<ClassLoader, CompletableFuture<SpringKeys>> READ = Collections.synchronizedMap(new WeakHashMap<>());

    /** One element of a key, with the keys below it. */
    private static final class Node {
        final String written;
        final Map<String, Node> below = new HashMap<>();
        boolean setting;
        /** For a key Boot no longer reads: what replaces it, or the empty string for nothing. */
        String replacedBy;

        Node(String written) {
            this.written = written;
        }

        Node child(String uniform, String written) {
            return below.computeIfAbsent(uniform, key -> new Node(written));
        }
    }

    private final Node root = new Node("");

    private SpringKeys() {
        root.child("policygateway", PropertiesFailureAnalyzer.ROOT.toString()).setting = true; // checked by its own binding
        root.child("info", "info").setting = true;
        Node management = root.child("management", "management");
        for (String family : List.of("endpoint", "health", "info")) {
            Node any = management.child(family, family).child(ANY, "<id>");
            any.child("enabled", "enabled").setting = true;
            if (family.equals("endpoint")) {
                any.child("access", "access").setting = true;
                any.child("cache", "cache").child("timetolive", "time-to-live").setting = true;
            }
        }
    }

    /** The keys described by the metadata {@code classLoader} finds, read once, on a thread of their own the first time. */
    static CompletableFuture<SpringKeys> of(ClassLoader classLoader) {
        return READ.computeIfAbsent(classLoader, loader -> CompletableFuture.supplyAsync(() -> read(loader),
                runnable -> Thread.ofVirtual().name("spring-keys").start(runnable)));
    }

    private static SpringKeys read(ClassLoader classLoader) {
        SpringKeys keys = new SpringKeys();
        List<URL> descriptions;
        try {
            descriptions = Collections.list(classLoader.getResources(METADATA));
        } catch (IOException unlisted) {
            keys.root.setting = true; // nothing to check against: every key passes, as Spring Boot lets it
            return keys;
        }
        JsonMapper json = JsonMapper.builder().build();
        for (URL description : descriptions) {
            try (InputStream in = description.openStream()) {
                for (JsonNode property : json.readTree(in).path("properties")) {
                    keys.add(property);
                }
            } catch (IOException | JacksonException unreadable) {
                // a jar whose description cannot be read describes nothing: a key of its own is refused, and named
            }
        }
        keys.giveEveryIdTheFamilyKeys();
        return keys;
    }

    /**
     * Gives each endpoint, health indicator and info contributor the metadata names, such as {@code
     * management.endpoint.health}, the keys Boot reads for any of them, which its description may leave out.
     */
    private void giveEveryIdTheFamilyKeys() {
        Node management = root.below.get("management");
        for (Node family : management.below.values()) {
            Node any = family.below.get(ANY);
            if (any != null) {
                family.below.forEach((id, node) -> {
                    if (node != any) {
                        any.below.forEach(node.below::putIfAbsent);
                    }
                });
            }
        }
    }

    private void add(JsonNode property) {
        String name = property.path("name").asString("");
        ConfigurationPropertyName parsed = ConfigurationPropertyName.ofIfValid(name);
        if (parsed == null || parsed.isEmpty()) {
            return;
        }
        Node node = root;
        for (int i = 0; i < parsed.getNumberOfElements(); i++) {
            node = node.child(parsed.getElement(i, Form.UNIFORM), parsed.getElement(i, Form.ORIGINAL));
        }
        JsonNode deprecation = property.path("deprecation");
        if (deprecation.path("level").asString("").equals("error")) {
            if (!node.setting) { // the same name read elsewhere in another jar stays read
                node.replacedBy = deprecation.path("replacement").asString("");
            }
        } else {
            node.setting = true;
            node.replacedBy = null;
        }
    }

    /** Runs the check when Spring Boot has read the configuration files. */
    static final class Check implements EnvironmentPostProcessor, Ordered {
        @Override
        public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
            requireKnown(environment, application.getClassLoader());
        }

        @Override
        public int getOrder() {
            return ConfigDataEnvironmentPostProcessor.ORDER + 1;
        }
    }

    /** Starts reading the descriptions before Spring Boot reads the configuration files. */
    static final class Prefetch implements EnvironmentPostProcessor, Ordered {
        @Override
        public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
            of(application.getClassLoader());
        }

        @Override
        public int getOrder() {
            return ConfigDataEnvironmentPostProcessor.ORDER - 1;
        }
    }

    /**
     * Refuses the keys written in {@code environment}'s configuration files that Spring Boot does not read.
     *
     * @throws InvalidConfigurationException naming each, in the order of the files' lines
     */
    static void requireKnown(ConfigurableEnvironment environment, ClassLoader classLoader) {
        SpringKeys keys = join(of(classLoader));
        Map<String, BadSetting> unknown = new LinkedHashMap<>();
        for (PropertySource<?> source : environment.getPropertySources()) {
            if (!(source instanceof EnumerablePropertySource<?> settings) || !(source instanceof OriginLookup<?>)
                    || source instanceof ConfigTreePropertySource) {
                continue; // a config tree is a mounted Secret's files, which may hold more than settings (tls.key)
            }
            for (String key : settings.getPropertyNames()) {
                Origin origin = OriginLookup.getOrigin(source, key);
                ConfigurationPropertyName name = key == null ? null : ConfigurationPropertyName.adapt(key, '.');
                if (origin == null || BadSetting.text(origin).isEmpty() || name == null || name.isEmpty()) {
                    continue; // not written in a file, or {} (SettingsRequired's to judge)
                }
                keys.problem(name, origin).ifPresent(problem -> unknown.putIfAbsent(problem.key(), problem));
            }
        }
        if (!unknown.isEmpty()) {
            List<BadSetting> found = new ArrayList<>(unknown.values());
            found.sort(Comparator.comparing((BadSetting setting) -> BadSetting.text(setting.origin()).orElseThrow().getResource().toString())
                    .thenComparingInt(setting -> BadSetting.text(setting.origin()).orElseThrow().getLocation().getLine()));
            BadSetting last = found.removeLast();
            found.add(new BadSetting(last.key(), null, last.origin(), last.problem(), last.fix() + " " + WHY));
            throw new InvalidConfigurationException("Unknown configuration key", found, null);
        }
    }

    private static SpringKeys join(CompletableFuture<SpringKeys> reading) {
        try {
            return reading.join();
        } catch (CompletionException failed) {
            throw failed.getCause() instanceof RuntimeException cause ? cause : failed;
        }
    }

    /** What is wrong with {@code name}, written at {@code origin}; empty when Spring Boot reads it. */
    Optional<BadSetting> problem(ConfigurationPropertyName name, Origin origin) {
        Node node = root;
        for (int i = 0; i < name.getNumberOfElements(); i++) {
            if (node.setting) {
                return Optional.empty(); // below a map, a list or a value Boot reads as a whole
            }
            Node next = node.below.get(name.getElement(i, Form.UNIFORM));
            if (next == null && !name.isNumericIndex(i)) {
                next = node.below.get(ANY);
            }
            if (next == null) {
                return Optional.of(unknownBelow(node, name, i, origin));
            }
            node = next;
        }
        if (node.setting) {
            return Optional.empty();
        }
        String key = KeyNames.written(name, 0, name.getNumberOfElements());
        if (node.replacedBy != null) {
            return Optional.of(new BadSetting(key, null, origin, "Spring Boot no longer reads " + key,
                    node.replacedBy.isEmpty() ? "Remove " + key + "." : "Write " + node.replacedBy + " instead of " + key + "."));
        }
        // keys are described below it, but it is none itself: a value where keys are expected
        return Optional.of(new BadSetting(key, null, origin, key + " takes keys, not a value",
                "Write the keys of " + key + " below it, indented."));
    }

    private static BadSetting unknownBelow(Node parent, ConfigurationPropertyName name, int element, Origin origin) {
        String key = KeyNames.written(name, 0, element + 1);
        String above = KeyNames.written(name, 0, element);
        String written = name.getElement(element, Form.ORIGINAL);
        List<String> siblings = parent.below.values().stream().map(node -> node.written)
                .filter(sibling -> !sibling.equals("<id>")).sorted().toList();
        Optional<String> closest = ConfigValues.closest(written, siblings);
        String problem = above.isEmpty()
                ? "unknown key; neither the gateway (policy-gateway) nor Spring Boot (" + String.join(", ", siblings.stream()
                        .filter(root -> !root.equals(PropertiesFailureAnalyzer.ROOT.toString())).toList()) + ") reads it"
                : "unknown key; Spring Boot reads no " + written + " under " + above;
        String fix = closest.map(known -> "Did you mean " + KeyNames.join(above, known) + "?")
                .orElse("Remove " + key + ", or correct it to a key Spring Boot documents under " + (above.isEmpty() ? "its settings" : above) + ".");
        return new BadSetting(key, null, origin, problem, fix);
    }

    /** For tests: the keys Boot reads as {@code classLoader} describes them, read now. */
    static SpringKeys readNow(ClassLoader classLoader) {
        return read(classLoader);
    }
}
