package dev.matrixpolicy.gateway.config;

import java.io.IOException;
import java.nio.charset.Charset;
import java.util.List;
import org.springframework.boot.env.PropertiesPropertySourceLoader;
import org.springframework.boot.env.PropertySourceLoader;
import org.springframework.core.Ordered;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.Resource;

/**
 * Spring Boot's properties loader, with a file that gives no settings ({@link SettingsRequired}) or a
 * key Boot would not bind as written ({@link KeysReadAsWritten}) refused, ordered just ahead of {@link YamlFileLoader}. Boot
 * lets the loader listed first decide which of two files of one name in one place wins
 * ({@code application.properties} over {@code application.yml}); putting {@link YamlFileLoader}
 * ahead of Boot's properties loader alone would turn that around.
 */
final class PropertiesFileLoader implements PropertySourceLoader, Ordered {
    static final int ORDER = Ordered.HIGHEST_PRECEDENCE;

    private final PropertiesPropertySourceLoader properties = new PropertiesPropertySourceLoader();

    @Override
    public String[] getFileExtensions() {
        return properties.getFileExtensions();
    }

    @Override
    public List<PropertySource<?>> load(String name, Resource file) throws IOException {
        return load(name, file, null);
    }

    /**
     * @param encoding the one a location names ({@code file:gateway.properties[encoding=utf-8]}), which Boot's
     *                 loader reads the file in; null for Boot's default, ISO-8859-1
     */
    @Override
    public List<PropertySource<?>> load(String name, Resource file, Charset encoding) throws IOException {
        try (ReadOnce read = ReadOnce.of(file)) {
            Resource resource = read.resource();
            return SettingsRequired.of(resource, KeysReadAsWritten.of(resource, properties.load(name, resource, encoding)));
        }
    }

    @Override
    public int getOrder() {
        return ORDER;
    }
}
