package dev.matrixpolicy.gateway.config;

import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * Turns unknown keys under {@code policy-gateway} into one message: each key, its file and line,
 * the keys expected there and the closest of them. Runs ahead of Spring Boot's own analyzer, which
 * names none of these.
 */
final class PropertiesFailureAnalyzer extends AbstractFailureAnalyzer<BindException> implements Ordered {
    static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("policy-gateway");

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, BindException cause) {
        if (!ROOT.equals(cause.getName()) || !(cause.getCause() instanceof UnboundConfigurationPropertiesException)) {
            return null;
        }
        List<BadSetting> settings = BindFailures.describe(cause, ROOT, PolicyGatewayProperties.class,
                ROOT.toString(), Map.of());
        return new FailureAnalysis("Invalid configuration:\n\n" + BadSetting.describe(settings, "key"),
                BadSetting.fixes(settings), cause);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
