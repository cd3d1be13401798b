package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.module.ConfigValues;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.origin.Origin;
import org.springframework.core.ResolvableType;

/**
 * Keys that bound to nothing, described for the administrator who wrote them: the key, the file and
 * line of the first value under it, the keys expected at that level of the configuration record,
 * and the closest of those, or where the key belongs when it is known at another level.
 * {@link UnknownKeyCheck} finds the keys; this class explains them.
 */
final class UnknownKeys {
    private static final String WHY = "Unknown keys stop startup so that a misspelt one cannot leave a setting at its default.";

    private UnknownKeys() {
    }

    /**
     * @param unknown   the unbound properties, as Spring Boot reports them
     * @param root      the name the record was bound from, e.g. {@code policy-gateway.modules[0].config}
     * @param rootType  the record bound there
     * @param shownRoot how messages name the root: {@code policy-gateway}, or {@code config} within a module entry
     * @param elsewhere keys that belong outside the record, which an administrator may have indented
     *                  into it: the {@linkplain KeyNames#uniform uniform} key to where it belongs
     */
    static List<BadSetting> describe(UnboundConfigurationPropertiesException unknown, ConfigurationPropertyName root,
                                     Class<?> rootType, String shownRoot, Map<String, List<String>> elsewhere) {
        Map<String, List<String>> known = new LinkedHashMap<>(keysBelow(rootType, shownRoot));
        elsewhere.forEach((key, places) -> known.merge(key, places, UnknownKeys::both));
        Map<String, Unknown> byKey = new LinkedHashMap<>();
        for (ConfigurationProperty property : unknown.getUnboundProperties()) {
            Unknown found = locate(property, root, rootType, shownRoot);
            byKey.merge(found.key(), found, (first, second) -> first.earlierThan(second) ? first : second);
        }
        List<BadSetting> settings = new ArrayList<>(byKey.values().stream()
                .sorted(Comparator.comparing(Unknown::line))
                .map(found -> found.describe(known))
                .toList());
        if (!settings.isEmpty() && settings.getLast().problem().startsWith("unknown key")) { // why, once: after the last fix
            BadSetting last = settings.removeLast();
            settings.add(new BadSetting(last.key(), last.value(), last.origin(), last.problem(), last.fix() + " " + WHY));
        }
        return List.copyOf(settings);
    }

    /** The keys of a record, and of the records below it, each to the places where it may be written. */
    static Map<String, List<String>> keysBelow(Class<?> type, String shown) {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        collectKeys(ResolvableType.forClass(type), shown, keys, 0);
        return keys;
    }

    private static void collectKeys(ResolvableType type, String shown, Map<String, List<String>> keys, int depth) {
        Class<?> raw = type.toClass();
        if (depth > 8) {
            return; // a record may hold itself
        }
        if (raw.isRecord()) {
            for (RecordComponent component : raw.getRecordComponents()) {
                String key = KeyNames.join(shown, KeyNames.key(component.getName(), false));
                keys.merge(KeyNames.uniform(component.getName()), List.of(key), UnknownKeys::both);
                collectKeys(ResolvableType.forType(component.getGenericType()), key, keys, depth + 1);
            }
        } else if (Collection.class.isAssignableFrom(raw)) {
            collectKeys(type.asCollection().getGeneric(0), shown + "[n]", keys, depth + 1);
        }
    }

    private static List<String> both(List<String> first, List<String> second) {
        List<String> joined = new ArrayList<>(first);
        second.stream().filter(place -> !joined.contains(place)).forEach(joined::add);
        return List.copyOf(joined);
    }

    /** Follows the property's name down the record's types to the first element that names nothing. */
    private static Unknown locate(ConfigurationProperty property, ConfigurationPropertyName root, Class<?> rootType,
                                  String shownRoot) {
        ConfigurationPropertyName name = property.getName();
        int start = root.getNumberOfElements();
        int end = name.getNumberOfElements();
        ResolvableType type = ResolvableType.forClass(rootType);
        int element = start;
        while (element < end) {
            Class<?> raw = type.toClass();
            if (raw.isRecord()) {
                Optional<RecordComponent> component = component(raw, name.getElement(element, Form.UNIFORM));
                if (component.isEmpty()) {
                    break;
                }
                type = ResolvableType.forType(component.get().getGenericType());
            } else if (Collection.class.isAssignableFrom(raw)) {
                type = type.asCollection().getGeneric(0);
            } else if (raw.isArray()) {
                type = type.getComponentType();
            } else if (Map.class.isAssignableFrom(raw)) {
                type = type.asMap().getGeneric(1);
            } else {
                break; // a value takes no keys
            }
            element++;
        }
        // element == end: every element named something, so a value was written where keys were expected
        int last = Math.min(element, end - 1);
        String written = name.getElement(last, Form.ORIGINAL);
        boolean snakeCase = KeyNames.snakeCase(written);
        Class<?> level = type.toClass();
        List<String> expected = level.isRecord()
                ? Arrays.stream(level.getRecordComponents()).map(c -> KeyNames.key(c.getName(), snakeCase)).toList()
                : List.of();
        return new Unknown(KeyNames.join(shownRoot, KeyNames.written(name, start, last + 1)), written,
                KeyNames.join(shownRoot, KeyNames.written(name, start, last)), expected, element == end, property.getOrigin());
    }

    private static Optional<RecordComponent> component(Class<?> record, String uniformKey) {
        return Arrays.stream(record.getRecordComponents())
                .filter(component -> KeyNames.uniform(component.getName()).equals(uniformKey))
                .findFirst();
    }

    /**
     * @param key      the unknown key, as shown
     * @param written  its last element, as written
     * @param parent   the level it was written at, as shown
     * @param expected the keys known at that level; empty when that level takes a value, not keys
     * @param valueForKeys whether the key is known, but has a value where it takes keys
     * @param origin   where the first value under it was written
     */
    private record Unknown(String key, String written, String parent, List<String> expected, boolean valueForKeys,
                           Origin origin) {

        int line() {
            return origin == null ? Integer.MAX_VALUE
                    : BadSetting.text(origin).map(text -> text.getLocation().getLine()).orElse(Integer.MAX_VALUE);
        }

        boolean earlierThan(Unknown other) {
            return line() <= other.line();
        }

        BadSetting describe(Map<String, List<String>> known) {
            if (valueForKeys && expected.isEmpty()) { // a value's key left with none: `timeout:` or `timeout: ~`
                return new BadSetting(key, null, origin, key + " has no value",
                        "Write a value after " + key + ", or remove the key to keep its default.");
            }
            if (valueForKeys) {
                return new BadSetting(key, null, origin, key + " takes keys (" + String.join(", ", expected) + "), not a value",
                        "Write the keys of " + key + " below it, indented.");
            }
            String problem = expected.isEmpty()
                    ? "unknown key; " + parent + " takes a value, not keys"
                    : "unknown key; the keys of " + parent + " are " + String.join(", ", expected);
            Optional<String> closest = ConfigValues.closest(written, expected);
            List<String> places = known.getOrDefault(KeyNames.uniform(written), List.of());
            String fix;
            if (closest.isPresent()) {
                fix = "Did you mean " + KeyNames.join(parent, closest.get()) + "?";
            } else if (!places.isEmpty()) {
                fix = "'" + written + "' belongs at " + String.join(" or ", places) + ", not under " + parent
                        + ": check the indentation.";
            } else {
                fix = "Remove " + key + ", or correct it to one of the keys of " + parent + ".";
            }
            return new BadSetting(key, null, origin, problem, fix);
        }
    }
}
