package dev.matrixpolicy.gateway.config;

import java.math.BigDecimal;
import java.time.Duration;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName.Form;
import org.springframework.util.unit.DataSize;

/**
 * Refuses a value that Spring would read otherwise than it is written. A duration or a size without
 * a unit: Spring reads {@code stale-after: 3600} as 3,600 milliseconds and {@code max-size: 256} as
 * 256 bytes, where an admin who wrote them meant an hour and 256 MB: the gateway would then call
 * every list stale between two reads, time every request out, or refuse every list, without a word
 * at startup. A fraction where a whole number is expected: YAML reads {@code capacity: 1.9} as a
 * floating-point number, and Spring drops its fraction. And text that YAML read as a boolean or a
 * number ({@link RetypedScalar}): {@code keywords: [no, on]} would block "false" and "true", and
 * {@code room-version: 010} would be "8". One rule for every setting of the gateway's configuration,
 * its modules' included: a unit, always ({@code 500ms}, {@code 10s}, {@code 1h}; {@code 512KB},
 * {@code 1MB}), whole numbers written whole ({@code 2.0} is 2), and such text in quotes
 * ({@code "no"}). A boolean or number setting takes {@code yes}, {@code off} or {@code 0x1F} as YAML
 * reads them.
 */
final class ValuesReadAsWritten extends AbstractBindHandler {
    private final ConfigurationPropertyName root;

    /**
     * @param root the name whose values are checked; null for everything bound through it (a Spring
     *             Boot advisor applies to every {@code @ConfigurationProperties} class, Boot's own included)
     */
    ValuesReadAsWritten(BindHandler parent, ConfigurationPropertyName root) {
        super(parent);
        this.root = root;
    }

    @Override
    public Object onSuccess(ConfigurationPropertyName name, Bindable<?> target, BindContext context, Object result) {
        if (!(result instanceof Boolean || result instanceof Number) && target.getType().resolve(Object.class) != Object.class
                && context.getConfigurationProperty() != null && (root == null || root.isAncestorOf(name) && !isModuleConfig(name))) {
            ConfigurationProperty property = context.getConfigurationProperty();
            RetypedScalar.of(property.getOrigin()).ifPresent(retyped -> {
                throw new TextRetyped(retyped, String.valueOf(property.getValue()));
            });
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

    /** Text that YAML read as a boolean or a number, bound where the text written was meant. */
    static final class TextRetyped extends IllegalArgumentException {
        private final transient RetypedScalar retyped;
        private final String read;

        TextRetyped(RetypedScalar retyped, String read) {
            super("'" + retyped.written() + "' would be read as '" + read + "'");
            this.retyped = retyped;
            this.read = read;
        }

        /** The refused setting, its problem and fix, in the words of a configuration file; no value named where it may be a secret. */
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
