package dev.matrixpolicy.gateway.config;

import java.util.Locale;
import org.springframework.boot.context.properties.bind.DataObjectPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;

/**
 * Configuration keys as the administrator wrote them (the known key closest to a misspelt one is
 * {@link dev.matrixpolicy.gateway.module.ConfigValues#closest}, which module types use too).
 * Spring Boot's relaxed binding takes {@code cache-ttl}, {@code cache_ttl} and {@code cacheTtl}
 * alike, so keys are compared in its uniform form (lower case letters and digits) and shown in the
 * style the administrator used: Synapse's snake case, or Spring's kebab case.
 */
public final class KeyNames {

    private KeyNames() {
    }

    /** Elements {@code [from, to)} of a property name as written, e.g. {@code routes[0].sources}. */
    static String written(ConfigurationPropertyName name, int from, int to) {
        StringBuilder key = new StringBuilder();
        for (int i = from; i < to; i++) {
            String element = name.getElement(i, Form.ORIGINAL);
            if (name.isNumericIndex(i)) {
                key.append('[').append(element).append(']');
            } else {
                key.append(key.isEmpty() ? "" : ".").append(element);
            }
        }
        return key.toString();
    }

    /** A key below a shown prefix: {@code policy-gateway} and {@code auth.token}, {@code config.routes} and {@code [0]}. */
    static String join(String prefix, String relative) {
        if (prefix.isEmpty() || relative.isEmpty()) {
            return prefix + relative;
        }
        return relative.startsWith("[") ? prefix + relative : prefix + "." + relative;
    }

    /**
     * Validation names fields after record components ({@code loginType}); binding errors and YAML use
     * Boot's canonical kebab case ({@code login-type}). Messages always use the latter.
     */
    public static String kebabCase(String path) {
        StringBuilder kebab = new StringBuilder(path.length() + 8);
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0 && path.charAt(i - 1) != '.' && path.charAt(i - 1) != '[') {
                    kebab.append('-');
                }
                kebab.append(Character.toLowerCase(c));
            } else {
                kebab.append(c);
            }
        }
        return kebab.toString();
    }

    /** Whether a key is written Synapse-style, {@code cache_ttl} rather than {@code cache-ttl}. */
    static boolean snakeCase(String written) {
        return written.contains("_") && !written.contains("-");
    }

    /** The key of a record component, in kebab case or, for an administrator who writes them so, in snake case. */
    static String key(String componentName, boolean snakeCase) {
        String dashed = DataObjectPropertyName.toDashedForm(componentName);
        return snakeCase ? dashed.replace('-', '_') : dashed;
    }

    /** The form in which relaxed binding compares keys. */
    static String uniform(String key) {
        StringBuilder uniform = new StringBuilder(key.length());
        key.toLowerCase(Locale.ROOT).chars().filter(Character::isLetterOrDigit).forEach(c -> uniform.append((char) c));
        return uniform.toString();
    }
}
