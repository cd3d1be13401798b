package dev.matrixpolicy.gateway.server;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The carrier threads under the virtual threads that serve requests, sized before the web servers
 * start, and the connection drain, with {@code server.shutdown: graceful} (Boot's default, and
 * application.yml's).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
class ServerConfiguration {

    @Bean
    CarrierThreads carrierThreads() {
        return CarrierThreads.apply();
    }

    @Bean
    @ConditionalOnProperty(name = "server.shutdown", havingValue = "graceful", matchIfMissing = true)
    ConnectionDrain connectionDrain(ApplicationContext context, LifecycleProperties lifecycle) {
        return new ConnectionDrain(context, lifecycle.getTimeoutPerShutdownPhase());
    }
}
