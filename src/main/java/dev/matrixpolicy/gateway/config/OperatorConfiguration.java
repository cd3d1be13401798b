package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.decisions.DecisionLog;
import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * What operating the gateway live needs: the decision log, sized by
 * {@code policy-gateway.decision-log.capacity}, and the admin token.
 */
@Configuration(proxyBeanMethods = false)
class OperatorConfiguration {

    @Bean
    DecisionLog decisionLog(PolicyGatewayProperties properties) {
        return new DecisionLog(properties.decisionLog().capacity(), Clock.systemUTC());
    }
}
