package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.module.ModuleInstance;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.support.AbstractBeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionBuilder;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

/**
 * Registers one {@link ModuleInstance} bean per {@code policy-gateway.modules} entry, named
 * {@code policyModule.<instance name>}. Each bean is built lazily by {@link ModuleInstanceFactory}
 * when the chains are assembled, so module types can use injected beans, and instances that hold
 * resources are closed on shutdown.
 */
final class ModuleBeanRegistrar implements BeanDefinitionRegistryPostProcessor, EnvironmentAware {
    static final String BEAN_PREFIX = "policyModule.";

    private Environment environment;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
        List<Map<String, Object>> entries = Binder.get(environment)
                .bind("policy-gateway.modules", Bindable.listOf(Map.class))
                .map(list -> list.stream().map(ModuleBeanRegistrar::asMap).toList())
                .orElse(List.of());
        Map<String, Integer> positions = new HashMap<>();
        BeanFactory beanFactory = (BeanFactory) registry;
        for (int position = 0; position < entries.size(); position++) {
            String type = String.valueOf(entries.get(position).getOrDefault("module", ""));
            String name = ModuleInstanceFactory.instanceName(entries.get(position).get("name"), type, position);
            Integer previous = positions.putIfAbsent(name, position);
            if (previous != null) {
                throw new InvalidModuleException(position, type, "name", "instance name '" + name
                        + "' is already used by policy-gateway.modules[" + previous + "]; names must be unique", null);
            }
            int index = position;
            AbstractBeanDefinition definition = BeanDefinitionBuilder
                    .genericBeanDefinition(ModuleInstance.class,
                            () -> beanFactory.getBean(ModuleInstanceFactory.class).build(index))
                    .setDestroyMethodName(AbstractBeanDefinition.INFER_METHOD)
                    .getBeanDefinition();
            registry.registerBeanDefinition(BEAN_PREFIX + name, definition);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object entry) {
        return entry instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }
}
