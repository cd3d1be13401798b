package dev.matrixpolicy.gateway.config;

import java.math.BigDecimal;
import java.time.Duration;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.util.unit.DataSize;

/**
 * Refuses a number that Spring would read otherwise than it is written. A duration or a size without
 * a unit: Spring reads {@code stale-after: 3600} as 3,600 milliseconds and {@code max-size: 256} as
 * 256 bytes, where an admin who wrote them meant an hour and 256 MB: the gateway would then call
 * every list stale between two reads, time every request out, or refuse every list, without a word
 * at startup. And a fraction where a whole number is expected: YAML reads {@code capacity: 1.9} as a
 * floating-point number, and Spring drops its fraction. One rule for every setting of the gateway's
 * configuration, its modules' included: a unit, always ({@code 500ms}, {@code 10s}, {@code 1h};
 * {@code 512KB}, {@code 1MB}), and whole numbers written whole ({@code 2.0} is 2).
 */
final class UnitsRequired extends AbstractBindHandler {
    private final ConfigurationPropertyName root;

    /**
     * @param root the name whose values are checked; null for everything bound through it (a Spring
     *             Boot advisor applies to every {@code @ConfigurationProperties} class, Boot's own included)
     */
    UnitsRequired(BindHandler parent, ConfigurationPropertyName root) {
        super(parent);
        this.root = root;
    }

    @Override
    public Object onSuccess(ConfigurationPropertyName name, Bindable<?> target, BindContext context, Object result) {
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
