package dev.matrixpolicy.gateway.config;

import java.util.Collection;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;
import org.springframework.boot.context.properties.bind.DataObjectPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;

/**
 * Configuration keys as the administrator wrote them, and the known key closest to a misspelt one.
 * Spring Boot's relaxed binding takes {@code cache-ttl}, {@code cache_ttl} and {@code cacheTtl}
 * alike, so keys are compared in its uniform form (lower case letters and digits) and shown in the
 * style the administrator used: Synapse's snake case, or Spring's kebab case.
 */
final class KeyNames {

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
    static String kebabCase(String path) {
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

    /**
     * The known key closest to a misspelt one, if one is close enough to be the key meant: one edit
     * away for keys of up to 4 characters, two for longer ones. The first of equally close keys wins.
     */
    static Optional<String> closest(String misspelt, Collection<String> known) {
        String wrong = uniform(misspelt);
        int allowed = wrong.length() <= 4 ? 1 : 2;
        return known.stream()
                .filter(candidate -> distance(wrong, uniform(candidate)) <= allowed)
                .min(Comparator.comparingInt(candidate -> distance(wrong, uniform(candidate))));
    }

    /**
     * The optimal string alignment distance: Levenshtein's insertions, deletions and substitutions,
     * plus swapping two neighbours ({@code modlues}), each one edit. A few lines do; a library would
     * be a dependency for one function.
     */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int substitution = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + substitution);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
