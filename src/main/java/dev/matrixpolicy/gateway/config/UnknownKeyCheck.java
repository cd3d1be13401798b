package dev.matrixpolicy.gateway.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * Fails a binding when its sources hold keys under the bound name that bound to nothing, with
 * Spring Boot's {@link UnboundConfigurationPropertiesException}. It does what
 * {@code @ConfigurationProperties(ignoreUnknownFields = false)} and Boot's
 * {@code NoUnboundElementsBindHandler} do, with two differences that matter here:
 * <ul>
 * <li>It runs before validation. A misspelt required key ({@code sever-name}) is then reported as
 * the unknown key it is, not as a missing value ("must not be blank").
 * <li>Entries of a list that a source of higher precedence replaces are not checked, at any depth.
 * Spring Boot takes a list whole from one source, so the packaged default {@code modules} list is
 * replaced by an administrator's own; Boot's handler knows this for keys in the entries, but
 * checks lists within them ({@code users[0]} of the default's first entry) and fails.
 * </ul>
 * The process environment and system properties are not checked, as in Spring Boot: they hold much
 * that is not ours.
 */
final class UnknownKeyCheck extends AbstractBindHandler {
    private final ConfigurationPropertyName root;
    private final Set<ConfigurationPropertyName> bound = new HashSet<>();
    /** The names bound to a value or a list: every other name bound took keys (a record or a map). */
    private final Set<ConfigurationPropertyName> boundToValues = new HashSet<>();

    /** Checks whatever is bound through it. */
    UnknownKeyCheck(BindHandler parent) {
        this(parent, null);
    }

    /**
     * Checks a binding of {@code root} only: Spring Boot applies a
     * {@link org.springframework.boot.context.properties.ConfigurationPropertiesBindHandlerAdvisor}
     * to the binding of every {@code @ConfigurationProperties} class, its own ones included.
     */
    UnknownKeyCheck(BindHandler parent, ConfigurationPropertyName root) {
        super(parent);
        this.root = root;
    }

    @Override
    public Object onSuccess(ConfigurationPropertyName name, Bindable<?> target, BindContext context, Object result) {
        bound.add(name);
        if (!(result instanceof Record || result instanceof Map<?, ?>)) { // a list may be one value: "a, b"
            boundToValues.add(name);
        }
        return super.onSuccess(name, target, context, result);
    }

    @Override
    public Object onFailure(ConfigurationPropertyName name, Bindable<?> target, BindContext context, Exception error)
            throws Exception {
        if (error instanceof UnboundConfigurationPropertiesException) {
            throw error;
        }
        return super.onFailure(name, target, context, error);
    }

    @Override
    public void onFinish(ConfigurationPropertyName name, Bindable<?> target, BindContext context, Object result)
            throws Exception {
        if (context.getDepth() == 0 && (root == null || root.equals(name))) {
            check(name, context);
        }
        super.onFinish(name, target, context, result);
    }

    private void check(ConfigurationPropertyName root, BindContext context) {
        List<ConfigurationPropertySource> sources = new ArrayList<>();
        context.getSources().forEach(sources::add);
        Set<ConfigurationProperty> unknown = new TreeSet<>();
        for (int index = 0; index < sources.size(); index++) {
            if (sources.get(index) instanceof IterableConfigurationPropertySource source && checked(source)) {
                List<ConfigurationPropertySource> higher = sources.subList(0, index);
                source.stream()
                        .filter(candidate -> root.isAncestorOf(candidate) || root.equals(candidate))
                        .filter(candidate -> !known(candidate, source) && !replaced(candidate, higher))
                        .forEach(candidate -> unknown.add(source.getConfigurationProperty(candidate)));
            }
        }
        if (!unknown.isEmpty()) {
            throw new UnboundConfigurationPropertiesException(unknown);
        }
    }

    /**
     * Whether a key bound to something: to a value, or to keys with none of its own. A value written
     * where keys are expected ({@code auth: secret}, {@code policy-gateway: yes}) binds the record
     * from its keys, of which it has none, and would be dropped without a word; an empty one is how
     * YAML's {@code []} and {@code ~} reach a list or a record.
     */
    private boolean known(ConfigurationPropertyName candidate, ConfigurationPropertySource source) {
        if (boundToValues.contains(candidate)) {
            return true;
        }
        ConfigurationProperty property = source.getConfigurationProperty(candidate);
        return bound.contains(candidate) && (property == null || String.valueOf(property.getValue()).isEmpty());
    }

    /**
     * Whether the key lies inside a list that a source of higher precedence defines: with entries, or
     * as a value of its own ({@code modules: []}, which Boot reads as an empty list).
     */
    private static boolean replaced(ConfigurationPropertyName candidate, List<ConfigurationPropertySource> higher) {
        for (int element = 1; element < candidate.getNumberOfElements(); element++) {
            if (candidate.isNumericIndex(element)) {
                ConfigurationPropertyName list = candidate.chop(element);
                if (higher.stream().anyMatch(source -> source.containsDescendantOf(list) == ConfigurationPropertyState.PRESENT
                        || source.getConfigurationProperty(list) != null)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean checked(ConfigurationPropertySource source) {
        return !(source.getUnderlyingSource() instanceof PropertySource<?> underlying
                && (StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME.equals(underlying.getName())
                || StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME.equals(underlying.getName())));
    }
}
