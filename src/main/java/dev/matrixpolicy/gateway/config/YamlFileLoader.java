package dev.matrixpolicy.gateway.config;

import java.io.IOException;
import java.util.List;
import org.springframework.boot.env.PropertySourceLoader;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.Ordered;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.Resource;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Spring Boot's YAML loader, with a file that cannot be parsed reported in one message naming the
 * file, the line and the fix. Boot's loader lets SnakeYAML's exception through, which names the
 * line but not the file ({@code in 'reader', line 3}), under some 65 stack frames; and it is thrown
 * while the configuration is loaded, before there is an application context, so no bean could
 * catch it: a {@link PropertySourceLoader}, the extension point Boot offers there, does.
 *
 * <p>Registered in {@code spring.factories} ahead of Boot's loaders, it takes the YAML extensions
 * from Boot's own loader. {@link PropertiesFileLoader} comes first, as Boot's properties loader does
 * before its YAML loader, so that which format wins when both are present stays Boot's.
 */
final class YamlFileLoader implements PropertySourceLoader, Ordered {
    private final YamlPropertySourceLoader yaml = new YamlPropertySourceLoader();

    @Override
    public String[] getFileExtensions() {
        return yaml.getFileExtensions();
    }

    @Override
    public List<PropertySource<?>> load(String name, Resource resource) throws IOException {
        try {
            return yaml.load(name, resource);
        } catch (MarkedYAMLException malformed) {
            Mark mark = malformed.getProblemMark();
            String file = BadSetting.file(resource);
            String problem = malformed.getProblem() + (malformed.getContext() == null ? "" : " (" + malformed.getContext() + ")")
                    + "\n" + mark.get_snippet(8, 100);
            throw new InvalidConfigurationException("Malformed configuration file", new BadSetting(null, null,
                    new TextResourceOrigin(resource, new TextResourceOrigin.Location(mark.getLine(), mark.getColumn())), problem,
                    "Correct the YAML at line " + (mark.getLine() + 1) + " of " + file + ". Keys of one level start in the same"
                            + " column, indented with spaces, not tabs; a ':' after a key and a '-' before a list item are followed"
                            + " by a space; a key appears once in its level."), malformed);
        }
    }

    @Override
    public int getOrder() {
        return PropertiesFileLoader.ORDER + 1;
    }
}
