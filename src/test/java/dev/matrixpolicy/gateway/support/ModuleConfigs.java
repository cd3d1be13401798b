package dev.matrixpolicy.gateway.support;

import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** A module's config record bound from plain key-value pairs, as the gateway binds an entry's {@code config:} block. */
public final class ModuleConfigs {
    private ModuleConfigs() {
    }

    /**
     * @param defaults  the test's defaults, keys as in YAML ({@code retry-backoff}, {@code callbacks[0]})
     * @param overrides keys that replace or add to the defaults
     */
    public static <C> C bind(Class<C> type, Map<String, String> defaults, Map<String, String> overrides) {
        Map<String, String> properties = new HashMap<>();
        defaults.forEach((key, value) -> properties.put("config." + key, value));
        overrides.forEach((key, value) -> properties.put("config." + key, value));
        return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate("config", Bindable.of(type));
    }
}
