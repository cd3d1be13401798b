package dev.matrixpolicy.gateway.api;

import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Whether {@code policy-gateway.policy-server.enabled} is true as the settings bind it: {@code true},
 * {@code yes}, {@code on} or {@code 1}, in any case and from any source Spring Boot binds
 * ({@code POLICYGATEWAY_POLICYSERVER_ENABLED} included). A property condition compares the text with
 * {@code true} alone, so {@code enabled: yes} bound the settings as enabled, and required their
 * signing key, while no listener started.
 */
final class PolicyServerEnabled implements Condition {
    static final String KEY = "policy-gateway.policy-server.enabled";

    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
        return in(context.getEnvironment());
    }

    static boolean in(Environment environment) {
        try {
            return Binder.get(environment).bind(KEY, Boolean.class).orElse(false);
        } catch (BindException notABoolean) {
            return false; // binding the settings refuses it, naming the file, the key and the value
        }
    }
}
