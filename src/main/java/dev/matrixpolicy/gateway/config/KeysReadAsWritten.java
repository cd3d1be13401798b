package dev.matrixpolicy.gateway.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginLookup;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.Resource;

/**
 * A key in a configuration file must be bound as it is written. Outside {@code [brackets]}, Spring
 * Boot keeps only letters, digits, {@code -} and {@code _} of a key's part and drops the rest
 * without a word, and a part left with nothing drops out of the key: a password file's inline user
 * {@code alice+work} becomes {@code alicework}, an account nobody set up that then logs in, and
 * {@code café} becomes {@code caf}. The same holds for every map keyed by the administrator's own
 * names (users, rooms, servers, event types). Such a key stops startup, and a reload, naming the key,
 * the file and line, what Boot would read, and the bracketed spelling that keeps it.
 *
 * <p>A part Boot keeps, whatever its case or separator ({@code cacheTtl}, {@code cache_ttl}), and a
 * bracketed one ({@code "[alice+work]"}, {@code [com.example.key]}) pass: relaxed binding gives them
 * meaning, not a different name.
 */
final class KeysReadAsWritten {
    private KeysReadAsWritten() {
    }

    /** {@code read}, what {@code resource} gave, if Boot binds each of its keys as written. */
    static List<PropertySource<?>> of(Resource resource, List<PropertySource<?>> read) {
        for (PropertySource<?> source : read) {
            if (source instanceof EnumerablePropertySource<?> settings) {
                for (String key : settings.getPropertyNames()) {
                    Part changed = changedPart(key);
                    if (changed != null) {
                        throw changed(resource, settings, key, changed);
                    }
                }
            }
        }
        return read;
    }

    /**
     * The part of {@code key} that binding would change, or {@code null} when it binds as written:
     * an unbracketed part Boot does not keep, or a bracketed one when Boot splits the key otherwise
     * than its brackets read (a '[' never closed). An empty key is Boot's reading of {@code {}},
     * {@link SettingsRequired}'s to judge.
     */
    static Part changedPart(String key) {
        if (key == null || key.isEmpty()) {
            return null;
        }
        List<Part> written = Part.of(key);
        ConfigurationPropertyName read = ConfigurationPropertyName.adapt(key, '.');
        boolean same = written.size() == read.getNumberOfElements();
        for (int i = 0; same && i < written.size(); i++) {
            same = written.get(i).text().equals(read.getElement(i, Form.ORIGINAL));
        }
        if (same) {
            return null;
        }
        return written.stream().filter(part -> !part.bracketed() && !keptAlone(part.text())).findFirst()
                .orElseGet(() -> written.stream().filter(Part::bracketed).findFirst().orElse(new Part(key, true)));
    }

    /** Whether Boot keeps this unbracketed part of a key as it is. */
    private static boolean keptAlone(String part) {
        ConfigurationPropertyName read = ConfigurationPropertyName.adapt(part, '.');
        return read.getNumberOfElements() == 1 && part.equals(read.getElement(0, Form.ORIGINAL));
    }

    private static InvalidConfigurationException changed(Resource resource, EnumerablePropertySource<?> source, String key,
            Part changed) {
        Origin origin = Objects.requireNonNullElseGet(OriginLookup.getOrigin(source, key), () -> new TextResourceOrigin(resource, null));
        String part = changed.text();
        ConfigurationPropertyName read = ConfigurationPropertyName.adapt(part, '.');
        String problem = changed.bracketed() ? "Spring Boot would split it otherwise than its brackets read"
                : part.isEmpty() ? "its part '' (between two dots, or after a dot at its end) would be dropped from it"
                : read.getNumberOfElements() == 0 ? "its part '" + part + "' would be dropped from it"
                : "its part '" + part + "' would be read as '" + joined(read) + "'";
        boolean yaml = !Objects.requireNonNullElse(resource.getFilename(), "").endsWith(".properties");
        String bracketed = yaml ? " in quotes and brackets, \"[" + part + "]\":," : " in brackets, [" + part + "],";
        String fix = changed.bracketed() ? "Close every '[' of the key with a ']', around a whole part of the key."
                : part.isEmpty() ? "Remove the empty part, or write the name it stands for."
                : "If '" + part + "' is a name of your own (a user, room, server or event type), write it" + bracketed
                        + " and it is kept as written. If it names a setting, correct its spelling.";
        return new InvalidConfigurationException("Configuration key that would not be read as written", new BadSetting(key, null,
                origin, problem + ": outside [brackets], Spring Boot keeps only ASCII letters, digits, '-' and '_' of a key", fix),
                null);
    }

    private static String joined(ConfigurationPropertyName name) {
        List<String> elements = new ArrayList<>();
        for (int i = 0; i < name.getNumberOfElements(); i++) {
            elements.add(name.getElement(i, Form.ORIGINAL));
        }
        return String.join(".", elements);
    }

    /** A part of a key as written: between dots, or inside brackets. */
    record Part(String text, boolean bracketed) {

        static List<Part> of(String key) {
            List<Part> parts = new ArrayList<>();
            int i = 0;
            while (i <= key.length()) {
                if (i < key.length() && key.charAt(i) == '[') {
                    int close = closing(key, i);
                    if (close < 0) {
                        parts.add(new Part(key.substring(i), true)); // never closed: Boot reads it otherwise, and the key is shown whole
                        return parts;
                    }
                    parts.add(new Part(key.substring(i + 1, close), true));
                    i = close + 1;
                    if (i < key.length() && key.charAt(i) == '.') {
                        i++;
                    } else if (i == key.length()) {
                        return parts;
                    }
                } else {
                    int end = i;
                    while (end < key.length() && key.charAt(end) != '.' && key.charAt(end) != '[') {
                        end++;
                    }
                    parts.add(new Part(key.substring(i, end), false));
                    i = end < key.length() && key.charAt(end) == '.' ? end + 1 : end;
                    if (end == key.length()) {
                        return parts;
                    }
                }
            }
            return parts;
        }

        /** The index of the ']' closing the '[' at {@code open}, brackets inside it counted, or -1. */
        private static int closing(String key, int open) {
            int depth = 0;
            for (int i = open; i < key.length(); i++) {
                depth += key.charAt(i) == '[' ? 1 : key.charAt(i) == ']' ? -1 : 0;
                if (depth == 0) {
                    return i;
                }
            }
            return -1;
        }
    }
}
