package dev.matrixpolicy.gateway.config;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.boot.context.config.ConfigDataLocation;
import org.springframework.boot.context.config.ConfigDataLocationResolver;
import org.springframework.boot.context.config.ConfigDataLocationResolverContext;
import org.springframework.boot.context.config.StandardConfigDataResource;
import org.springframework.boot.env.PropertySourceLoader;
import org.springframework.core.io.ResourceLoader;
import org.springframework.core.io.support.SpringFactoriesLoader;

/**
 * An optional location naming a file on disk by a name without an extension a loader reads by
 * ({@code optional:file:/etc/gateway/config}): Spring Boot passes over it without a word even when the
 * file is there, and the packaged demo chain would serve in its place. Refused as Boot refuses the
 * same location without {@code optional:}, with the one screen {@link ConfigLocationFailureAnalyzer} makes of both.
 * Absent, it stays optional. Asked before Boot's own resolver, which Boot always asks last.
 */
final class OptionalLocationWithoutFormat implements ConfigDataLocationResolver<StandardConfigDataResource> {
    private final Set<String> extensions;

    OptionalLocationWithoutFormat(ResourceLoader resources) {
        extensions = SpringFactoriesLoader.loadFactories(PropertySourceLoader.class, resources.getClassLoader()).stream()
                .flatMap(loader -> Arrays.stream(loader.getFileExtensions()))
                .map(extension -> extension.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
    }

    @Override
    public boolean isResolvable(ConfigDataLocationResolverContext context, ConfigDataLocation location) {
        String value = location.getValue();
        if (!location.isOptional() || value.endsWith("/") || value.endsWith("]") || value.contains("*")
                || (value.contains(":") && !value.startsWith("file:"))) {
            return false;
        }
        String path = value.startsWith("file:") ? value.substring("file:".length()) : value;
        String name = path.substring(path.lastIndexOf('/') + 1);
        int dot = name.lastIndexOf('.');
        if (dot >= 0 && extensions.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT))) {
            return false;
        }
        try {
            return Files.exists(Path.of(path));
        } catch (InvalidPathException notAPath) {
            return false;
        }
    }

    @Override
    public List<StandardConfigDataResource> resolve(ConfigDataLocationResolverContext context, ConfigDataLocation location) {
        throw new ConfigLocationFailureAnalyzer.WithoutFormat(location);
    }
}
