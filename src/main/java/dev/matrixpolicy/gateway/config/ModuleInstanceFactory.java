package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.Overruns;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties.ModuleEntry;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.ListSourceMeters;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import jakarta.validation.Validator;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
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
 * Builds the module instances of the {@code modules} entries: finds each entry's module type by
 * name, binds and validates its {@code config:} block from the environment the settings came from
 * (so errors keep their origin, file and line), and lets the type create the instance. The same
 * code builds the generation of startup and that of every reload.
 */
final class ModuleInstanceFactory {
    private final Map<String, ModuleType<?>> types;
    private final SpringValidatorAdapter validator;
    private final InstanceMeters meters;

    /** @param meters gives each instance its {@link ModuleContext#meterRegistry()}, over the gateway's registry */
    ModuleInstanceFactory(List<ModuleType<?>> moduleTypes, Validator validator, InstanceMeters meters) {
        this.types = byName(moduleTypes);
        this.validator = new SpringValidatorAdapter(validator);
        this.meters = meters;
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

    /**
     * Each entry's instance name: its {@code name}, else {@code <type>-<n>}, {@code n} its place among
     * the entries of its type, from 0. So an entry added ahead of an unnamed one, of another type,
     * does not rename it: its state keyed by name (a rate limit's buckets) carries on.
     */
    static List<String> instanceNames(List<ModuleEntry> entries) {
        Map<String, Integer> ofType = new HashMap<>();
        List<String> names = new ArrayList<>();
        for (ModuleEntry entry : entries) {
            int place = ofType.merge(entry.module(), 1, Integer::sum) - 1;
            String name = entry.name() == null ? "" : entry.name().trim();
            names.add(name.isEmpty() ? entry.module() + "-" + place : name);
        }
        return List.copyOf(names);
    }

    /**
     * The instances of every entry, in list order. An entry that {@code previous} built from the same
     * type, name, {@code config:} and server name keeps that instance, with its state (loaded lists,
     * counters, queues); only its place and failure handling are taken from the new entry. When one
     * entry cannot be built, the instances built so far are closed and the failure is thrown.
     *
     * @throws InvalidModuleException when an entry is wrong
     */
    List<ModuleInstance> build(PolicyGatewayProperties properties, Environment environment, Optional<Generation> previous) {
        List<String> names = instanceNames(properties.modules());
        checkNames(properties.modules(), names);
        Binder binder = listOwnerBinder(environment);
        List<ModuleInstance> built = new ArrayList<>();
        List<ModuleInstance> fresh = new ArrayList<>();
        List<Optional<ModuleInstance>> keeping = new ArrayList<>();
        for (int position = 0; position < properties.modules().size(); position++) {
            ModuleEntry entry = properties.modules().get(position);
            String name = names.get(position);
            keeping.add(previous.flatMap(generation -> unchanged(generation, name, entry, properties)));
        }
        // an instance kept, or already handed to a successor, is no other entry's predecessor
        Set<ModuleInstance> taken = new HashSet<>();
        keeping.forEach(kept -> kept.ifPresent(taken::add));
        try {
            for (int position = 0; position < properties.modules().size(); position++) {
                ModuleEntry entry = properties.modules().get(position);
                String name = names.get(position);
                Optional<ModuleInstance> kept = keeping.get(position);
                Optional<ModuleInstance> replaced = kept.isPresent() ? Optional.empty()
                        : previous.flatMap(generation -> replaced(generation, name, entry, names, taken));
                replaced.ifPresent(taken::add);
                ModuleInstance instance = kept.isPresent()
                        ? instance(position, entry, name, properties, kept.get().module(), kept.get().secretFiles(),
                                kept.get().overruns())
                        : build(binder, properties, position, entry, name, replaced.map(ModuleInstance::module), previous);
                if (kept.isEmpty()) {
                    fresh.add(instance);
                }
                built.add(instance);
            }
        } catch (RuntimeException | Error failed) { // an OutOfMemoryError too: the instances built have threads
            discard(fresh, previous);
            throw failed;
        }
        return List.copyOf(built);
    }

    /**
     * Closes instances built for a generation that will never serve, and removes the series they
     * registered that {@code serving} does not use (counters an instance registers when built, timings
     * of a policy list's first read): a refused reload leaves no series of a module that never served.
     */
    void discard(List<ModuleInstance> instances, Optional<Generation> serving) {
        for (ModuleInstance instance : instances) {
            instance.close();
            meters.forget(instance.module());
        }
        meters.retire(instances, served(serving));
    }

    private static Map<String, Set<String>> served(Optional<Generation> serving) {
        Map<String, Set<String>> served = new HashMap<>();
        serving.ifPresent(generation -> Generations.served(generation, served));
        return served;
    }

    /**
     * The instance of {@code previous} built from exactly this entry's type, name, config and server
     * name, and whose secret files hold the secrets it read.
     */
    private static Optional<ModuleInstance> unchanged(Generation previous, String name, ModuleEntry entry,
                                                    PolicyGatewayProperties properties) {
        if (!previous.properties().serverName().equals(properties.serverName())) {
            return Optional.empty();
        }
        List<ModuleEntry> entries = previous.properties().modules();
        return previous.modules().stream()
                .filter(instance -> {
                    ModuleEntry before = entries.get(instance.position());
                    return instance.name().equals(name)
                            && before.module().equals(entry.module())
                            && sameSettings(before.config(), entry.config())
                            && !instance.secretFilesChanged();
                })
                .findFirst();
    }

    /**
     * The instance of {@code previous} that a changed or renamed entry replaces, so that it may take
     * over what that one learnt (a policy list's rules). Of the instances of its type that no entry
     * keeps and no earlier entry took over: the one built from the same {@code config:} (an entry
     * renamed, or whose default name moved because an entry ahead of it was removed); else the one
     * of the same name (its {@code config:} changed); else one whose name no entry has any more.
     */
    private static Optional<ModuleInstance> replaced(Generation previous, String name, ModuleEntry entry, List<String> names,
                                                     Set<ModuleInstance> taken) {
        List<ModuleEntry> entries = previous.properties().modules();
        List<ModuleInstance> candidates = previous.modules().stream()
                .filter(instance -> instance.type().equals(entry.module()) && !taken.contains(instance))
                .toList();
        return candidates.stream()
                .filter(instance -> sameSettings(entries.get(instance.position()).config(), entry.config()))
                .findFirst()
                .or(() -> candidates.stream().filter(instance -> instance.name().equals(name)).findFirst())
                .or(() -> candidates.stream().filter(instance -> !names.contains(instance.name())).findFirst());
    }

    /**
     * Instance names are unique, none is {@link ModuleInstance#NO_INSTANCE}, and none holds a control
     * character, line separator or bidirectional control ({@link LogText#isUnsafe}): a name is written
     * into every log line and refusal about its instance, where a line break would start a line of its
     * own that looks like the gateway's, and a right-to-left override would turn the line round. Nor
     * does one hold {@code /} or {@code \}, or is {@code .} or {@code ..}, which no client can send as
     * the name's path segment.
     */
    private static void checkNames(List<ModuleEntry> entries, List<String> names) {
        Map<String, Integer> positions = new HashMap<>();
        for (int position = 0; position < entries.size(); position++) {
            ModuleEntry entry = entries.get(position);
            String name = names.get(position);
            OptionalInt control = name.chars().filter(c -> LogText.isUnsafe((char) c)).findFirst();
            if (control.isPresent()) {
                throw new InvalidModuleException(position, entry.module(), "name", String.format(Locale.ROOT, "an instance name"
                        + " must not hold a control character, a line separator or a bidirectional control, but this one holds"
                        + " U+%04X: the name is written into the log lines about its instance, where it would break them or turn"
                        + " them round", control.getAsInt()), null);
            }
            if (name.indexOf('/') >= 0 || name.indexOf('\\') >= 0) {
                throw new InvalidModuleException(position, entry.module(), "name", "instance name '" + name + "' holds a"
                        + " '" + (name.indexOf('/') >= 0 ? '/' : '\\') + "', but a name is a segment of its instance's URLs"
                        + " (/v1/modules/{name}/is_evil), and HTTP servers refuse that character encoded in a path (400);"
                        + " choose a name without '/' or '\\'", null);
            }
            if (name.equals(".") || name.equals("..")) {
                throw new InvalidModuleException(position, entry.module(), "name", "instance name '" + name + "' is a dot"
                        + " segment, but a name is a segment of its instance's URLs (/v1/modules/{name}/is_evil), and HTTP"
                        + " servers take '" + name + "', encoded or not, as a step in the path (/v1/modules/" + name
                        + "/is_evil is " + (name.length() == 1 ? "/v1/modules/is_evil" : "/v1/is_evil") + "); choose another name", null);
            }
            if (name.equals(ModuleInstance.NO_INSTANCE)) {
                throw new InvalidModuleException(position, entry.module(), "name", "instance name '" + name + "' is what the"
                        + " metrics call the decisions no instance made (policy_decisions_total{module=\"" + name + "\"}),"
                        + " which would count as this instance's; choose another name", null);
            }
            Integer first = positions.putIfAbsent(name, position);
            if (first != null) {
                throw new InvalidModuleException(position, entry.module(), "name", "instance name '" + name
                        + "' is already used by policy-gateway.modules[" + first + "]; names must be unique", null);
            }
        }
    }

    private ModuleInstance build(Binder binder, PolicyGatewayProperties properties, int position, ModuleEntry entry,
                                 String name, Optional<PolicyModule> predecessor, Optional<Generation> previous) {
        ModuleType<?> type = types.get(entry.module());
        if (type == null) {
            throw new InvalidModuleException(position, entry.module(), "module", "unknown module type '" + entry.module()
                    + "'; known types: " + types.keySet(), null);
        }
        Map<Path, String> secretFiles = new LinkedHashMap<>();
        Overruns overruns = new Overruns();
        PolicyModule module = create(binder, properties, position, name, type, secretFiles, overruns, predecessor, previous);
        return instance(position, entry, name, properties, module, secretFiles, overruns);
    }

    private <C> PolicyModule create(Binder binder, PolicyGatewayProperties properties, int position, String name,
                                    ModuleType<C> type, Map<Path, String> secretFiles, Overruns overruns,
                                    Optional<PolicyModule> predecessor, Optional<Generation> previous) {
        C config = bindConfig(binder, position, type);
        List<MeterBinder> binders = new ArrayList<>();
        MeterRegistry instanceRegistry = meters.open(name);
        try {
            PolicyModule module = type.create(config, new ModuleContext(name,
                    properties.serverName(), instanceRegistry, binders::add, secretFiles::put, predecessor));
            binders.add(new ListSourceMeters(name, module.listSources()));
            if (module.mayBlock()) {
                binders.add(registry -> Gauge.builder("policy.module.overrunning.calls", overruns, Overruns::running)
                        .description("Calls of a module still running past their deadline, interrupted but not stopping; at "
                                + ChainRunner.MAX_OVERRUNNING_CALLS + " the module is not asked until one ends")
                        .tag("module", name)
                        .register(registry));
            }
            meters.keep(module, binders, instanceRegistry);
            return module;
        } catch (ModuleConfigurationException wrong) {
            // and the series it registered before it failed (a counter per limit), unless another instance uses them
            meters.abandon(instanceRegistry, name, served(previous));
            String field = "config." + wrong.field();
            throw new InvalidModuleException(position, type.name(), List.of(new BadSetting(field, wrong.secretValue()
                    ? BadSetting.NOT_SHOWN : null, null, wrong.getMessage(), InvalidModuleException.fix(position, type.name(), field))), wrong);
        } catch (RuntimeException | Error failed) {
            meters.abandon(instanceRegistry, name, served(previous));
            throw failed;
        }
    }

    private static ModuleInstance instance(int position, ModuleEntry entry, String name, PolicyGatewayProperties properties,
                                           PolicyModule module, Map<Path, String> secretFiles, Overruns overruns) {
        ModuleInstance instance = new ModuleInstance(position, entry.module(), name,
                module, entry.onFailure() != null ? entry.onFailure() : properties.defaults().onFailure(),
                entry.timeout() != null ? entry.timeout() : properties.defaults().timeout(), entry.mode(), secretFiles,
                overruns);
        EntryTimeoutCheck.warnIfTooShort(instance, entry.timeout() == null);
        return instance;
    }

    private <C> C bindConfig(Binder binder, int position, ModuleType<C> type) {
        ConfigurationPropertyName prefix = ConfigurationPropertyName.of("policy-gateway.modules[" + position + "].config");
        try {
            return binder.bindOrCreate(prefix, Bindable.of(type.configType()),
                    new UnknownKeyCheck(new ValuesReadAsWritten(new ValidationBindHandler(validator), null)));
        } catch (BindException failed) {
            // No sources to look refused values up in: module types refuse settings in create(), with
            // ModuleConfigurationException, not in their config records' constructors.
            throw new InvalidModuleException(position, type.name(),
                    BindFailures.describe(failed, prefix, type.configType(), "config", entryKeys(position), List.of()),
                    type.configType(), failed);
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

    /**
     * Whether two entries' {@code config:} say the same: each key as Spring Boot binds it
     * ({@code max-scanned-length}, {@code maxScannedLength} and {@code max_scanned_length} are one),
     * each value as written.
     */
    static boolean sameSettings(Map<String, String> before, Map<String, String> now) {
        return bound(before).equals(bound(now));
    }

    private static Map<ConfigurationPropertyName, String> bound(Map<String, String> config) {
        Map<ConfigurationPropertyName, String> byName = new HashMap<>();
        if (config != null) {
            config.forEach((key, value) -> byName.put(ConfigurationPropertyName.adapt(key, '.'), value));
        }
        return byName;
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
