package dev.matrixpolicy.gateway.config;

import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;

/**
 * Turns a failure to bind {@code policy-gateway} into one message: each bad setting's key, value,
 * file and line, what is wrong and the fix. Runs ahead of Spring Boot's own binding analyzers,
 * whose messages name Java types ({@code No enum constant ...FailurePolicy.FAIL_SOMETIMES}).
 */
final class PropertiesFailureAnalyzer extends AbstractFailureAnalyzer<BindException> implements Ordered {
    static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("policy-gateway");

    private final Environment environment;

    /** Spring Boot passes the failed application's environment, where refused values are looked up. */
    PropertiesFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, BindException cause) {
        if (!ROOT.equals(cause.getName()) && !ROOT.isAncestorOf(cause.getName())) {
            return null;
        }
        InvalidModuleException module = findCause(rootFailure, InvalidModuleException.class);
        if (module != null && module.configType().isPresent() && cause.getCause() instanceof UnboundConfigurationPropertiesException) {
            // An unknown key in a module's config:, which policy-gateway's record holds as a map and so
            // cannot name the keys of ("takes keys (), not a value"): the module's own record does.
            List<BadSetting> settings = BindFailures.describe(cause, cause.getName(), module.configType().get(),
                    cause.getName().toString(), Map.of(), ConfigurationPropertySources.get(environment));
            return BadSetting.analysis("Invalid configuration", settings, cause);
        }
        List<BadSetting> settings = BindFailures.describe(cause, ROOT, PolicyGatewayProperties.class, ROOT.toString(),
                Map.of(), ConfigurationPropertySources.get(environment));
        return BadSetting.analysis("Invalid configuration", settings, cause);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
