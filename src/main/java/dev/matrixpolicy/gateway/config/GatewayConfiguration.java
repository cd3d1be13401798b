package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.ModuleType;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.validation.Validator;
import java.util.Comparator;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.ConfigurationPropertiesBindHandlerAdvisor;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/** Wires the configured modules into chains. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(PolicyGatewayProperties.class)
class GatewayConfiguration {

    @Bean
    static ModuleBeanRegistrar moduleBeanRegistrar() {
        return new ModuleBeanRegistrar();
    }

    /**
     * Unknown keys under {@code policy-gateway} stop startup. Spring Boot's own
     * {@code ignoreUnknownFields = false} does not fit: see {@link UnknownKeyCheck}.
     */
    @Bean
    static ConfigurationPropertiesBindHandlerAdvisor unknownPolicyGatewayKeys() {
        return parent -> new UnknownKeyCheck(parent, PropertiesFailureAnalyzer.ROOT);
    }

    @Bean
    ModuleInstanceFactory moduleInstanceFactory(List<ModuleType<?>> moduleTypes, PolicyGatewayProperties properties,
                                                Environment environment, Validator validator, MeterRegistry meterRegistry) {
        return new ModuleInstanceFactory(moduleTypes, properties, environment, validator, meterRegistry);
    }

    @Bean(destroyMethod = "close")
    ChainRunner chainRunner(ObjectProvider<ChainObserver> observer) {
        return new ChainRunner(observer.getIfAvailable(() -> ChainObserver.NONE));
    }

    /** Configuration position is the only order: bean order plays no part. */
    @Bean
    CallbackChains callbackChains(ObjectProvider<ModuleInstance> instances, ChainRunner runner) {
        List<ModuleInstance> ordered = instances.stream().sorted(Comparator.comparingInt(ModuleInstance::position)).toList();
        return new CallbackChains(ordered, runner);
    }
}
