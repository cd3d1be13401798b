package dev.matrixpolicy.gateway.server;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The connection drain, with {@code server.shutdown: graceful} (Boot's default, and application.yml's). */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
class ServerConfiguration {

    @Bean
    @ConditionalOnProperty(name = "server.shutdown", havingValue = "graceful", matchIfMissing = true)
    ConnectionDrain connectionDrain(ApplicationContext context, LifecycleProperties lifecycle) {
        return new ConnectionDrain(context, lifecycle.getTimeoutPerShutdownPhase());
    }
}
