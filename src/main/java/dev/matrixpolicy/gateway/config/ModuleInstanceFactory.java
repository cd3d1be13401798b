package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties.ModuleEntry;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.validation.Validator;
import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver;
import org.springframework.boot.context.properties.bind.validation.ValidationBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.core.env.Environment;
import org.springframework.validation.beanvalidation.SpringValidatorAdapter;

/**
 * Builds the module instance of one {@code modules} entry: finds its module type by name, binds and
 * validates its {@code config:} block from the live Environment (so errors keep their origin,
 * file and line), and lets the type create the instance.
 */
final class ModuleInstanceFactory {
    private final Map<String, ModuleType<?>> types;
    private final PolicyGatewayProperties properties;
    private final Binder binder;
    private final SpringValidatorAdapter validator;
    private final MeterRegistry meterRegistry;

    ModuleInstanceFactory(List<ModuleType<?>> moduleTypes, PolicyGatewayProperties properties, Environment environment,
                          Validator validator, MeterRegistry meterRegistry) {
        this.types = byName(moduleTypes);
        this.properties = properties;
        this.binder = listOwnerBinder(environment);
        this.validator = new SpringValidatorAdapter(validator);
        this.meterRegistry = meterRegistry;
    }

    /**
     * Spring Boot replaces a list wholesale: the {@code modules} list comes from the one property
     * source of highest precedence that defines it. Binding {@code modules[i].config} by its path
     * would instead mix in same-index entries from lower sources (the packaged default
     * {@code application.yml}, say), so each entry's config is bound from that one source only.
     * Placeholders still resolve against the whole environment, and values keep their origin.
     */
    static Binder listOwnerBinder(Environment environment) {
        ConfigurationPropertyName modules = ConfigurationPropertyName.of("policy-gateway.modules");
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            if (source.containsDescendantOf(modules) == ConfigurationPropertyState.PRESENT) {
                return new Binder(List.of(source), new PropertySourcesPlaceholdersResolver(environment),
                        ApplicationConversionService.getSharedInstance());
            }
        }
        return Binder.get(environment);
    }

    static String instanceName(Object configured, String type, int position) {
        String name = configured == null ? "" : configured.toString().trim();
        return name.isEmpty() ? type + "-" + position : name;
    }

    ModuleInstance build(int position) {
        ModuleEntry entry = properties.modules().get(position);
        ModuleType<?> type = types.get(entry.module());
        if (type == null) {
            throw new InvalidModuleException(position, entry.module(), "module", "unknown module type '" + entry.module()
                    + "'; known types: " + types.keySet(), null);
        }
        return build(position, entry, type);
    }

    private <C> ModuleInstance build(int position, ModuleEntry entry, ModuleType<C> type) {
        String name = instanceName(entry.name(), type.name(), position);
        C config = bindConfig(position, type);
        PolicyModule module;
        try {
            module = type.create(config, new ModuleContext(name, properties.serverName(), meterRegistry));
        } catch (ModuleConfigurationException wrong) {
            throw new InvalidModuleException(position, type.name(), "config." + wrong.field(), wrong.getMessage(), wrong);
        }
        ModuleInstance instance = new ModuleInstance(position, type.name(), name, module,
                entry.onFailure() != null ? entry.onFailure() : properties.defaults().onFailure(),
                entry.timeout() != null ? entry.timeout() : properties.defaults().timeout(), entry.mode());
        EntryTimeoutCheck.warnIfTooShort(instance, entry.timeout() == null);
        return instance;
    }

    private <C> C bindConfig(int position, ModuleType<C> type) {
        ConfigurationPropertyName prefix = ConfigurationPropertyName.of("policy-gateway.modules[" + position + "].config");
        try {
            return binder.bindOrCreate(prefix, Bindable.of(type.configType()),
                    new UnknownKeyCheck(new ValidationBindHandler(validator)));
        } catch (BindException failed) {
            // No sources to look refused values up in: module types refuse settings in create(), with
            // ModuleConfigurationException, not in their config records' constructors.
            throw new InvalidModuleException(position, type.name(),
                    BindFailures.describe(failed, prefix, type.configType(), "config", entryKeys(position), List.of()),
                    failed);
        }
    }

    /** The keys of an entry beside its {@code config:}, which an administrator may have indented into it. */
    private static Map<String, List<String>> entryKeys(int position) {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        for (RecordComponent component : ModuleEntry.class.getRecordComponents()) {
            keys.put(KeyNames.uniform(component.getName()),
                    List.of("policy-gateway.modules[" + position + "]." + KeyNames.key(component.getName(), false)));
        }
        return keys;
    }

    private static Map<String, ModuleType<?>> byName(List<ModuleType<?>> moduleTypes) {
        Map<String, List<ModuleType<?>>> grouped = moduleTypes.stream()
                .collect(Collectors.groupingBy(ModuleType::name, TreeMap::new, Collectors.toList()));
        grouped.forEach((name, sameName) -> {
            if (sameName.size() > 1) {
                throw new IllegalStateException("module type name '" + name + "' is declared by several beans: "
                        + sameName.stream().map(type -> type.getClass().getName()).toList());
            }
        });
        return grouped.values().stream().map(List::getFirst)
                .collect(Collectors.toMap(ModuleType::name, Function.identity(), (a, b) -> a, TreeMap::new));
    }
}
