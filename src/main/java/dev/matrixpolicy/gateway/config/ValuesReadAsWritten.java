package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.replies.Durations;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hibernate.validator.constraints.time.DurationMax;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.core.ResolvableType;
import org.springframework.util.unit.DataSize;

/**
 * Refuses a value that Spring would read otherwise than it is written. A duration or a size without
 * a unit: Spring reads {@code stale-after: 3600} as 3,600 milliseconds and {@code max-size: 256} as
 * 256 bytes, where an admin who wrote them meant an hour and 256 MB: the gateway would then call
 * every list stale between two reads, time every request out, or refuse every list, without a word
 * at startup. A fraction where a whole number is expected: YAML reads {@code capacity: 1.9} as a
 * floating-point number, and Spring drops its fraction. And text that YAML read as a boolean or a
 * number ({@link RetypedScalar}): {@code keywords: [no, on]} would block "false" and "true", and
 * {@code room-version: 010} would be "8". And a {@code ${NAME}} placeholder that nothing sets
 * ({@link PlaceholderNotSet}), which Spring would keep as written. One rule for every setting of the
 * gateway's configuration, its modules' included: a unit, always ({@code 500ms}, {@code 10s},
 * {@code 1h}; {@code 512KB}, {@code 1MB}), whole numbers written whole ({@code 2.0} is 2), such text
 * in quotes ({@code "no"}), and every placeholder set. A boolean or number setting takes {@code yes},
 * {@code off} or {@code 0x1F} as YAML reads them. And, in the same pass over every duration, one
 * longer than {@link #LONGEST_DURATION}, which the gateway could not count.
 */
final class ValuesReadAsWritten extends AbstractBindHandler {
    /**
     * The longest duration any setting takes, unless its field names its own with {@code @DurationMax}.
     * Timeouts and intervals become deadlines in nanoseconds ({@code System.nanoTime() + timeout}),
     * which overflow some 292 years on: such a value would be accepted, then fail every call with
     * {@code ArithmeticException: long overflow}. A year is far past any sensible setting, and leaves
     * the arithmetic room to add and multiply.
     */
    static final Duration LONGEST_DURATION = Duration.ofDays(366);
    /** A placeholder without a default, as Spring leaves one that nothing sets. */
    private static final Pattern UNRESOLVED = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_.\\-]*)}");
    private final ConfigurationPropertyName root;
    /**
     * The maps bound so far whose values may be anything ({@code Map<String, Object>}: a static
     * answer, a media config): a list among their values is a value, which Spring binds as a map keyed
     * {@code 0}, {@code 1}, ... and the module reads as the list it is.
     */
    private final Set<ConfigurationPropertyName> mapsOfAnyValue = ConcurrentHashMap.newKeySet();

    /**
     * @param root the name whose values are checked; null for everything bound through it (a Spring
     *             Boot advisor applies to every {@code @ConfigurationProperties} class, Boot's own included)
     */
    ValuesReadAsWritten(BindHandler parent, ConfigurationPropertyName root) {
        super(parent);
        this.root = root;
    }

    @Override
    public <T> Bindable<T> onStart(ConfigurationPropertyName name, Bindable<T> target, BindContext context) {
        ResolvableType type = target.getType();
        if (Map.class.isAssignableFrom(type.resolve(Object.class)) && type.asMap().resolveGeneric(1) == Object.class) {
            mapsOfAnyValue.add(name);
        }
        return super.onStart(name, target, context);
    }

    @Override
    public Object onSuccess(ConfigurationPropertyName name, Bindable<?> target, BindContext context, Object result) {
        ConfigurationProperty property = context.getConfigurationProperty();
        if (!(result instanceof Boolean || result instanceof Number) && target.getType().resolve(Object.class) != Object.class
                && property != null && (root == null || root.isAncestorOf(name) && !isModuleConfig(name))) {
            RetypedScalar.of(property.getOrigin()).ifPresent(retyped -> {
                throw new TextRetyped(retyped, String.valueOf(property.getValue()));
            });
            if (result instanceof CharSequence text && text.toString().contains("${")) { // most hold none: no matcher
                Matcher unresolved = UNRESOLVED.matcher(text);
                while (unresolved.find()) {
                    if (writtenUnescaped(String.valueOf(property.getValue()), unresolved.group())) {
                        throw new PlaceholderNotSet(unresolved.group(1), property);
                    }
                }
            }
        }
        if ((result instanceof Duration || result instanceof DataSize) && (root == null || root.isAncestorOf(name))
                && isBareNumber(context.getConfigurationProperty())) {
            Object written = context.getConfigurationProperty().getValue();
            throw new IllegalArgumentException(result instanceof Duration
                    ? "a duration needs a unit: " + written + " alone would be read as " + written + "ms; write "
                      + written + "ms, " + written + "s or " + written + "m"
                    : "a size needs a unit: " + written + " alone would be read as " + written + " bytes; write "
                      + written + "B, " + written + "KB or " + written + "MB");
        }
        if (result instanceof Duration duration && (root == null || root.isAncestorOf(name))
                && duration.compareTo(LONGEST_DURATION) > 0 && target.getAnnotation(DurationMax.class) == null) {
            throw new IllegalArgumentException("must be at most " + LONGEST_DURATION.toDays() + "d, got "
                    + Durations.format(duration) + ": no setting waits longer than a year, and the clock arithmetic of"
                    + " some overflows past 292 years");
        }
        if (result instanceof Map<?, ?> map && !map.isEmpty() && (root == null || root.isAncestorOf(name))
                && !isValueOfAMapOfAnyValue(name) && writtenAsList(name, context)) {
            throw new IllegalArgumentException("takes keys, not a list: write each entry as its key, a colon and its"
                    + " value (name: value), indented below " + name.getLastElement(Form.ORIGINAL) + ", without '- '");
        }
        if ((result instanceof Integer || result instanceof Long) && (root == null || root.isAncestorOf(name))
                && hasFraction(context.getConfigurationProperty())) {
            Object written = context.getConfigurationProperty().getValue();
            throw new IllegalArgumentException("expected a whole number: " + written + " would be read as " + result);
        }
        return super.onSuccess(name, target, context, result);
    }

    /**
     * Whether {@code name} lies in a module entry's {@code config:}, which the gateway's own settings
     * hold as text only to tell whether a reload changed it: the module binds it, and checks it, by type.
     */
    private boolean isModuleConfig(ConfigurationPropertyName name) {
        int modules = root.getNumberOfElements();
        return name.getNumberOfElements() > modules + 2 && name.getElement(modules, Form.UNIFORM).equals("modules")
                && name.isNumericIndex(modules + 1) && name.getElement(modules + 2, Form.UNIFORM).equals("config");
    }

    /** Whether {@code written} holds {@code placeholder} other than escaped, as {@code \${NAME}} writes it as text. */
    private static boolean writtenUnescaped(String written, String placeholder) {
        for (int at = written.indexOf(placeholder); at >= 0; at = written.indexOf(placeholder, at + 1)) {
            if (at == 0 || written.charAt(at - 1) != '\\') {
                return true;
            }
        }
        return false;
    }

    /** A value refused for being read otherwise than written: the setting, as a refusal describes it. */
    abstract static sealed class ReadOtherwise extends IllegalArgumentException permits TextRetyped, PlaceholderNotSet {
        ReadOtherwise(String message) {
            super(message);
        }

        /** The refused setting, its problem and fix, in the words of a configuration file; no value named where it may be a secret. */
        abstract BadSetting setting(String key);
    }

    /**
     * A {@code ${NAME}} placeholder that nothing sets, not the environment, a system property or a
     * setting: Spring leaves it as written, so {@code token: ${GATEWAY_TOKEN}} with the variable
     * missing from a pod would make the literal text {@code ${GATEWAY_TOKEN}}, which anyone can
     * guess, the token. A placeholder with a default ({@code ${NAME:value}}) always resolves.
     */
    static final class PlaceholderNotSet extends ReadOtherwise {
        private final String placeholder;
        private final transient ConfigurationProperty property;

        PlaceholderNotSet(String placeholder, ConfigurationProperty property) {
            super("the placeholder ${" + placeholder + "} is set nowhere");
            this.placeholder = placeholder;
            this.property = property;
        }

        @Override
        BadSetting setting(String key) {
            return new BadSetting(key, property.getValue(), property.getOrigin(), "the placeholder ${" + placeholder
                    + "} is set nowhere (no environment variable, system property or setting of that name), so the text"
                    + " ${" + placeholder + "} itself would be taken as the value",
                    "Set " + placeholder + " in the gateway's environment, or write the value of " + key + " itself.");
        }
    }

    /** Text that YAML read as a boolean or a number, bound where the text written was meant. */
    static final class TextRetyped extends ReadOtherwise {
        private final transient RetypedScalar retyped;
        private final String read;

        TextRetyped(RetypedScalar retyped, String read) {
            super("'" + retyped.written() + "' would be read as '" + read + "'");
            this.retyped = retyped;
            this.read = read;
        }

        @Override
        BadSetting setting(String key) {
            String written = retyped.written();
            boolean secret = BadSetting.mayBeSecret(key);
            return new BadSetting(key, written, retyped, "YAML reads " + (secret ? "it" : "'" + written + "'")
                    + ", written without quotes, as " + retyped.readAs() + ", so it would be taken as "
                    + (secret ? "other text" : "'" + read + "'"),
                    "Write the value of " + key + " in quotes" + (secret ? "" : ", \"" + written + "\"") + ", and it is kept as written.");
        }
    }

    /** A number written with a fraction other than zero. */
    private static boolean hasFraction(ConfigurationProperty property) {
        if (property == null || !(property.getValue() instanceof Number || property.getValue() instanceof CharSequence)) {
            return false;
        }
        try {
            BigDecimal value = new BigDecimal(String.valueOf(property.getValue()).strip());
            return value.signum() != 0 && value.stripTrailingZeros().scale() > 0;
        } catch (NumberFormatException notADecimal) {
            return false; // 0x1F, say: Spring's own conversion decides
        }
    }

    /** Whether {@code name} is within a map whose values may be anything, where a list is a value like any other. */
    private boolean isValueOfAMapOfAnyValue(ConfigurationPropertyName name) {
        return mapsOfAnyValue.stream().anyMatch(map -> map.isAncestorOf(name));
    }

    /**
     * Whether a map's entries were written as a list ({@code results: [user_may_invite]}), which Spring
     * binds to a map keyed {@code 0}, {@code 1}, ...: its first entry is found under {@code name[0]}.
     * The module would then refuse key {@code 0} as no callback, with no word of the list.
     */
    private static boolean writtenAsList(ConfigurationPropertyName name, BindContext context) {
        ConfigurationPropertyName first = ConfigurationPropertyName.of(name + "[0]");
        for (ConfigurationPropertySource source : context.getSources()) {
            if (source.getConfigurationProperty(first) != null
                    || source.containsDescendantOf(first) == ConfigurationPropertyState.PRESENT) {
                return true;
            }
        }
        return false;
    }

    /** A number with no unit, other than zero, which is the same in every unit. */
    private static boolean isBareNumber(ConfigurationProperty property) {
        if (property == null) {
            return false;
        }
        String value = String.valueOf(property.getValue()).strip();
        return (property.getValue() instanceof Number || property.getValue() instanceof CharSequence)
                && value.matches("[-+]?\\d+") && !value.matches("[-+]?0+");
    }
}
