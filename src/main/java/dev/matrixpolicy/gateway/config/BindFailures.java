package dev.matrixpolicy.gateway.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.origin.Origin;
import org.springframework.core.convert.ConversionFailedException;
import org.springframework.core.convert.ConverterNotFoundException;
import org.springframework.core.convert.TypeDescriptor;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/**
 * What went wrong binding one configuration record, setting by setting: unknown keys, values that
 * do not convert (with the values that would), validation failures, and the checks in a record's
 * constructor. One translation for {@code policy-gateway} and for every module's {@code config:},
 * in the words of a configuration file: keys and values, never Java types.
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
     * @param sources   where to find the value of a setting that a record's constructor refuses
     */
    static List<BadSetting> describe(BindException failed, ConfigurationPropertyName root, Class<?> rootType,
                                     String shownRoot, Map<String, List<String>> elsewhere,
                                     Iterable<ConfigurationPropertySource> sources) {
        if (failed.getCause() instanceof UnboundConfigurationPropertiesException unknown) {
            return UnknownKeys.describe(unknown, root, rootType, shownRoot, elsewhere);
        }
        if (failed.getCause() instanceof BindValidationException invalid && !invalid.getValidationErrors().getAllErrors().isEmpty()) {
            return invalid.getValidationErrors().getAllErrors().stream()
                    .map(error -> violation(error, root, shownRoot))
                    .toList();
        }
        Optional<InvalidSettingException> refused = find(failed, InvalidSettingException.class);
        if (refused.isPresent()) {
            String key = shown(failed.getName().append(refused.get().key()), root, shownRoot);
            return List.of(new BadSetting(key, null, null, refused.get().problem(), "Correct " + key + ".").locatedIn(sources));
        }
        Optional<ValuesReadAsWritten.ReadOtherwise> otherwise = find(failed, ValuesReadAsWritten.ReadOtherwise.class);
        if (otherwise.isPresent()) {
            return List.of(otherwise.get().setting(shown(failed.getName(), root, shownRoot)));
        }
        ConfigurationProperty property = failed.getProperty();
        Optional<ConverterNotFoundException> notFound = find(failed, ConverterNotFoundException.class);
        if (notFound.isPresent() && notFound.get().getTargetType() != null) {
            String key = shown(property == null ? failed.getName() : property.getName(), root, shownRoot);
            return List.of(valueForAShape(key, property, notFound.get().getTargetType()).locatedIn(sources));
        }
        Optional<ConversionFailedException> conversion = find(failed, ConversionFailedException.class);
        if (property == null || conversion.isEmpty()) {
            String key = shown(property == null ? failed.getName() : property.getName(), root, shownRoot);
            return List.of(new BadSetting(key, property == null ? null : property.getValue(),
                    property == null ? null : property.getOrigin(), rootMessage(failed), "Correct " + key + "."));
        }
        String key = shown(property.getName(), root, shownRoot);
        Optional<String> expected = expected(conversion.get());
        return List.of(new BadSetting(key, property.getValue(), property.getOrigin(),
                expected.map(values -> "expected " + values).orElseGet(() -> rootMessage(failed)),
                expected.map(values -> "Set " + key + " to " + values + ".").orElse("Correct " + key + ".")));
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

    /**
     * A single value written where a list, a map or a record's keys go ({@code sources: bans.txt}),
     * which Spring refuses with the Java types it found no converter between.
     */
    private static BadSetting valueForAShape(String key, ConfigurationProperty property, TypeDescriptor target) {
        Object value = property == null ? null : property.getValue();
        Origin origin = property == null ? null : property.getOrigin();
        if (target.isCollection() || target.isArray()) {
            return new BadSetting(key, value, origin, key + " takes a list, not a single value",
                    "Write the entries of " + key + " below it, each on a line of its own after '- '.");
        }
        Class<?> type = target.getObjectType();
        String keys = type.isRecord() ? " (" + Arrays.stream(type.getRecordComponents())
                .map(component -> KeyNames.kebabCase(component.getName())).collect(Collectors.joining(", ")) + ")" : "";
        return new BadSetting(key, value, origin, key + " takes keys" + keys + ", not a value",
                "Write the keys of " + key + " below it, indented.");
    }

    /** The values a conversion would have taken, in the words of a configuration file. */
    private static Optional<String> expected(ConversionFailedException conversion) {
        Class<?> target = conversion.getTargetType().getObjectType();
        if (target.isEnum()) {
            return Optional.of("one of " + Arrays.stream(target.getEnumConstants())
                    .map(constant -> ((Enum<?>) constant).name().toLowerCase(Locale.ROOT).replace('_', '-'))
                    .collect(Collectors.joining(", ")));
        }
        if (target == Boolean.class) {
            return Optional.of("true or false");
        }
        if (target == Integer.class || target == Long.class || target == Short.class) {
            return Optional.of("a whole number");
        }
        if (target == Double.class || target == Float.class) {
            return Optional.of("a number such as 0.5 or 10");
        }
        if (target == Duration.class) {
            return Optional.of("a duration such as 500ms, 5s or 1m");
        }
        if (target == DataSize.class) {
            return Optional.of("a size such as 512KB or 1MB");
        }
        return Optional.empty();
    }

    private static String shown(ConfigurationPropertyName name, ConfigurationPropertyName root, String shownRoot) {
        int start = root.isAncestorOf(name) ? root.getNumberOfElements() : name.getNumberOfElements();
        return KeyNames.join(shownRoot, KeyNames.written(name, start, name.getNumberOfElements()));
    }

    private static <T extends Throwable> Optional<T> find(Throwable failure, Class<T> type) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (type.isInstance(cause)) {
                return Optional.of(type.cast(cause));
            }
        }
        return Optional.empty();
    }

    static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }
}
