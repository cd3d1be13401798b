package dev.matrixpolicy.gateway.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.boot.context.config.ConfigDataEnvironmentUpdateListener;
import org.springframework.boot.context.config.ConfigDataLocation;
import org.springframework.boot.context.config.ConfigDataResource;
import org.springframework.boot.context.config.StandardConfigDataResource;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.IgnoreTopLevelConverterNotFoundBindHandler;
import org.springframework.boot.context.properties.bind.validation.ValidationBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.PropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.ResourceLoader;
import org.springframework.validation.beanvalidation.SpringValidatorAdapter;

/**
 * Reads the configuration again as startup read it: from the {@linkplain SettingSources sources the
 * application started with}, Spring Boot reads the configuration files (every location, profile and
 * import), and {@code policy-gateway} is bound and validated with the same checks, unknown keys
 * included (and {@linkplain SpringKeys keys Spring Boot does not read}). The running application's environment is not touched.
 */
public final class ConfigurationLoader {
    private final SettingSources startSources;
    private final ResourceLoader resourceLoader;
    private final SpringValidatorAdapter validator;

    public ConfigurationLoader(SettingSources startSources, ResourceLoader resourceLoader, jakarta.validation.Validator validator) {
        this.startSources = startSources;
        this.resourceLoader = resourceLoader;
        this.validator = new SpringValidatorAdapter(validator);
    }

    /**
     * @param properties  {@code policy-gateway}, bound and validated
     * @param environment where they were read, for building the modules and for naming the file and
     *                    line of a bad value
     */
    public record Loaded(PolicyGatewayProperties properties, ConfigurableEnvironment environment) {
    }

    /**
     * A configuration file that gave settings (Spring Boot passes over one that gives none: empty,
     * comments alone, {@code {}}): one of its documents.
     *
     * @param setsGateway whether any of them is a {@code policy-gateway} setting
     * @param document    the name Spring Boot gives the document's settings in an environment (file, location, document)
     * @param fingerprint the SHA-256 (hex) of the file's bytes the settings were read from: what the file
     *                    held when it was read, not when it was told of
     */
    public record FileRead(Path path, boolean setsGateway, String document, Optional<String> fingerprint) {
    }

    /**
     * A configuration file on disk a loader refused: one that does not parse, gives no settings or is
     * not UTF-8 text. Boot tells of no file read when one is refused, not even this one.
     *
     * @param fingerprint the SHA-256 (hex) of the bytes refused
     */
    public record FileRefused(Path path, String fingerprint) {
    }

    /** The configuration file on disk a loader refused, if that is why {@code refused} was thrown. */
    public static Optional<FileRefused> fileRefused(Throwable refused) {
        for (Throwable cause = refused; cause != null; cause = cause.getCause()) {
            if (cause instanceof InvalidConfigurationException invalid) {
                return invalid.settings().stream().flatMap(setting -> ReadOnce.refused(setting.origin()).stream()).findFirst();
            }
        }
        return Optional.empty();
    }

    /**
     * The configuration files on disk that {@code settings} (startup's) were read from, one for each
     * document that gave settings, as {@link #load} tells of them: what is known of the files when
     * reading them again fails.
     */
    public static List<FileRead> filesRead(PropertySources settings) {
        List<FileRead> files = new ArrayList<>();
        for (PropertySource<?> source : settings) {
            if (SettingsRequired.givesSettings(source)) {
                ReadOnce.file(source).ifPresent(path -> files.add(fileRead(path, source)));
            }
        }
        return files;
    }

    private static FileRead fileRead(Path path, PropertySource<?> source) {
        return new FileRead(path, setsGateway(source), source.getName(), ReadOnce.fingerprint(source));
    }

    /**
     * Reads the files and binds the settings.
     *
     * @param fileRead told of each configuration file read (once for each of its documents), even when binding them
     *                 fails; of none when a file cannot be read or parsed (Boot adds the settings once all are read)
     * @throws RuntimeException what would stop startup; {@link #describe} says it in one line
     */
    public Loaded load(Consumer<FileRead> fileRead) {
        StandardEnvironment environment = new StandardEnvironment() {
            @Override
            protected void customizePropertySources(MutablePropertySources sources) {
                // none: the start sources below are the ones the application started with
            }
        };
        startSources.sources().forEach(environment.getPropertySources()::addLast);
        ConfigDataEnvironmentPostProcessor.applyTo(environment, resourceLoader, null, startSources.profiles(),
                new ConfigDataEnvironmentUpdateListener() {
                    @Override
                    public void onPropertySourceAdded(PropertySource<?> source, ConfigDataLocation location,
                                                      ConfigDataResource resource) {
                        if (SettingsRequired.givesSettings(source)) {
                            file(resource).ifPresent(path -> fileRead.accept(fileRead(path, source)));
                        }
                    }
                });
        SpringKeys.requireKnown(environment, resourceLoader.getClassLoader());
        try {
            PolicyGatewayProperties properties = Binder.get(environment).bindOrCreate(PropertiesFailureAnalyzer.ROOT,
                    Bindable.of(PolicyGatewayProperties.class),
                    new UnknownKeyCheck(new ValuesReadAsWritten(new ValidationBindHandler(
                            new IgnoreTopLevelConverterNotFoundBindHandler(), validator), PropertiesFailureAnalyzer.ROOT),
                            PropertiesFailureAnalyzer.ROOT));
            return new Loaded(properties, environment);
        } catch (RuntimeException invalid) {
            throw new InvalidIn(environment, invalid);
        }
    }

    /**
     * What startup would print for this failure, in one line: the same analyzers, with the file and
     * line of a bad value looked up where it was read.
     *
     * @param environment where the settings were read; empty when the files could not be read
     */
    public static String describe(RuntimeException failure, Optional<Environment> environment) {
        Throwable cause = failure instanceof InvalidIn in ? in.getCause() : failure;
        Environment where = failure instanceof InvalidIn in ? in.environment : environment.orElse(null);
        List<FailureAnalyzer> analyzers = List.of(new PropertiesFailureAnalyzer(where), new ModuleFailureAnalyzer(where),
                new ChainFailureAnalyzer(), new ConfigurationFailureAnalyzer(where), new ConfigLocationFailureAnalyzer());
        for (FailureAnalyzer analyzer : analyzers) {
            FailureAnalysis analysis = where == null && analyzer instanceof PropertiesFailureAnalyzer ? null : analyzer.analyze(cause);
            if (analysis != null) {
                return sentence(oneLine(analysis.getDescription())) + " Fix: " + oneLine(analysis.getAction());
            }
        }
        return oneLine(String.valueOf(cause.getMessage()));
    }

    /** The environment a binding failure happened in, so its description can name file and line. */
    private static final class InvalidIn extends RuntimeException {
        private final transient Environment environment;

        InvalidIn(Environment environment, RuntimeException cause) {
            super(cause.getMessage(), cause, false, false);
            this.environment = environment;
        }
    }

    /** A screen's lines as one: a line after a heading ({@code :}) or a sentence ({@code .}, {@code ?})
     *  follows it after a space, any other after a {@code ;}. */
    private static String oneLine(String text) {
        StringBuilder joined = new StringBuilder();
        Stream.of(text.split("\n")).map(String::strip).filter(line -> !line.isEmpty()).forEach(line -> {
            if (!joined.isEmpty()) {
                char last = joined.charAt(joined.length() - 1);
                joined.append(last == ':' || last == '.' || last == '?' ? " " : "; ");
            }
            joined.append(line);
        });
        return joined.toString();
    }

    private static String sentence(String text) {
        return text.isEmpty() || text.endsWith(".") || text.endsWith("?") ? text : text + ".";
    }

    /** Whether a source names a {@code policy-gateway} setting, in any form Spring binds ({@code policyGateway}, {@code policy_gateway}). */
    private static boolean setsGateway(PropertySource<?> source) {
        return source instanceof EnumerablePropertySource<?> settings && Stream.of(settings.getPropertyNames())
                .map(name -> name == null ? null : ConfigurationPropertyName.adapt(name, '.'))
                .anyMatch(name -> name != null && PropertiesFailureAnalyzer.ROOT.isAncestorOf(name));
    }

    private static Optional<Path> file(ConfigDataResource resource) {
        if (resource instanceof StandardConfigDataResource standard && standard.getResource().isFile()) {
            try {
                return Optional.of(standard.getResource().getFile().toPath());
            } catch (IOException notAFile) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
