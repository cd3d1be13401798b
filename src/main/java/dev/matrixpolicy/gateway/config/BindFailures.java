package dev.matrixpolicy.gateway.config;

import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.origin.Origin;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/**
 * What went wrong binding one configuration record, setting by setting: unknown keys, values that
 * do not convert, validation failures, and checks in a record's constructor. One translation for {@code policy-gateway} and for every module's {@code config:},
 * in the administrator's words: keys and values, never Java types.
 */
final class BindFailures {

    private BindFailures() {
    }

    /**
     * @param failed    the failure to bind {@code root}
     * @param root      the name the record was bound from
     * @param rootType  the record
     * @param shownRoot how messages name the root: {@code policy-gateway}, or {@code config} within a module entry
     * @param elsewhere keys that belong outside the record (see {@link UnknownKeys#describe})
     */
    static List<BadSetting> describe(BindException failed, ConfigurationPropertyName root, Class<?> rootType,
                                     String shownRoot, Map<String, List<String>> elsewhere) {
        if (failed.getCause() instanceof UnboundConfigurationPropertiesException unknown) {
            return UnknownKeys.describe(unknown, root, rootType, shownRoot, elsewhere);
        }
        if (failed.getCause() instanceof BindValidationException invalid && !invalid.getValidationErrors().getAllErrors().isEmpty()) {
            return invalid.getValidationErrors().getAllErrors().stream()
                    .map(error -> violation(error, root, shownRoot))
                    .toList();
        }
        ConfigurationProperty property = failed.getProperty();
        if (property == null) {
            // A record's own check (its constructor), whose message names the key itself.
            String key = shown(failed.getName(), root, shownRoot);
            return List.of(new BadSetting(key, null, null, rootMessage(failed), "Correct " + key + "."));
        }
        String key = shown(property.getName(), root, shownRoot);
        return List.of(new BadSetting(key, property.getValue(), property.getOrigin(), rootMessage(failed), "Correct " + key + "."));
    }

    private static BadSetting violation(ObjectError error, ConfigurationPropertyName root, String shownRoot) {
        // Validation names fields after record components (loginType), and a nested record's
        // violations carry the record's property name as the object name.
        String path = error instanceof FieldError field
                ? field.getObjectName() + "." + KeyNames.kebabCase(field.getField()) : error.getObjectName();
        String prefix = root.toString();
        String key = path.startsWith(prefix) ? KeyNames.join(shownRoot, path.substring(prefix.length()).replaceFirst("^\\.", ""))
                : KeyNames.join(shownRoot, path);
        // No value: the file and line point at it, and validated values include secrets (tokens).
        return new BadSetting(key, null, Origin.from(error), error.getDefaultMessage(), "Correct " + key + ".");
    }

    private static String shown(ConfigurationPropertyName name, ConfigurationPropertyName root, String shownRoot) {
        int start = root.isAncestorOf(name) ? root.getNumberOfElements() : name.getNumberOfElements();
        return KeyNames.join(shownRoot, KeyNames.written(name, start, name.getNumberOfElements()));
    }

    static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }
}
