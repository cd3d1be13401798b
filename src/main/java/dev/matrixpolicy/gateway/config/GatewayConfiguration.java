package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.MeterChanges;
import dev.matrixpolicy.gateway.module.ModuleType;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.validation.Validator;
import java.time.Clock;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.ConfigurationPropertiesBindHandlerAdvisor;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/** Builds the first generation of module instances and chains, and what reloads build the next ones with. */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(PolicyGatewayProperties.class)
class GatewayConfiguration {

    /**
     * Unknown keys under {@code policy-gateway} stop startup. Spring Boot's own
     * {@code ignoreUnknownFields = false} does not fit: see {@link UnknownKeyCheck}.
     */
    @Bean
    static ConfigurationPropertiesBindHandlerAdvisor unknownPolicyGatewayKeys() {
        return parent -> new UnknownKeyCheck(new ValuesReadAsWritten(parent, PropertiesFailureAnalyzer.ROOT), PropertiesFailureAnalyzer.ROOT);
    }

    /** What meter changes and Prometheus scrapes take turns under. */
    @Bean
    MeterChanges meterChanges() {
        return new MeterChanges();
    }

    @Bean
    InstanceMeters instanceMeters(MeterRegistry meterRegistry, MeterChanges changes) {
        return new InstanceMeters(meterRegistry, changes);
    }

    @Bean
    GenerationBuilder generationBuilder(List<ModuleType<?>> moduleTypes, Validator validator, InstanceMeters meters,
                                        ChainRunner runner) {
        return new GenerationBuilder(new ModuleInstanceFactory(moduleTypes, validator, meters), runner,
                Clock.systemUTC());
    }

    @Bean(destroyMethod = "close")
    ChainRunner chainRunner(ObjectProvider<ChainObserver> observer) {
        return new ChainRunner(observer.getIfAvailable(() -> ChainObserver.NONE));
    }

    /** The first generation, built from the settings Spring Boot bound at startup; reloads swap in the next ones. */
    @Bean(destroyMethod = "close")
    Generations generations(GenerationBuilder builder, PolicyGatewayProperties properties, Environment environment,
                            InstanceMeters meters) {
        return new Generations(builder.first(properties, environment), meters);
    }
}
