package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;

/**
 * Builds a {@link Generation} from bound settings: reads the token file, builds the module
 * instances and assembles the chains. Startup and every reload go through here, so a configuration
 * a reload accepts is one that would start the gateway, and the other way round.
 */
public final class GenerationBuilder {
    private static final Logger log = LoggerFactory.getLogger(GenerationBuilder.class);
    private final ModuleInstanceFactory modules;
    private final ChainRunner runner;
    private final Clock clock;

    GenerationBuilder(ModuleInstanceFactory modules, ChainRunner runner, Clock clock) {
        this.modules = modules;
        this.runner = runner;
        this.clock = clock;
    }

    /** The generation the gateway starts with; says what it serves, with a warning when that is no module. */
    Generation first(PolicyGatewayProperties properties, Environment environment) {
        Generation first = build(1, properties, environment, Optional.empty());
        logServing(log, "Generation 1", first, "");
        return first;
    }

    /**
     * Says through {@code log} what {@code generation} serves, as "{@code before} serves … {@code after}": at INFO,
     * or at WARN when it serves no module, which is what a {@code modules:} key left empty, or indented one level
     * too far, gives.
     */
    public static void logServing(Logger log, String before, Generation generation, String after) {
        if (generation.modules().isEmpty()) {
            log.warn("{} serves {}{}", before, generation.serving(), after);
        } else {
            log.info("{} serves {}{}", before, generation.serving(), after);
        }
    }

    /**
     * The generation that follows {@code previous}, sharing the instances of unchanged entries with it.
     * Nothing of {@code previous} changes; a failure closes whatever this call built and is thrown.
     *
     * @throws RuntimeException the same failures that stop startup, for their analyzers to describe
     */
    public Generation next(Generation previous, PolicyGatewayProperties properties, Environment environment) {
        return build(previous.number() + 1, properties, environment, Optional.of(previous));
    }

    private Generation build(long number, PolicyGatewayProperties properties, Environment environment,
                             Optional<Generation> previous) {
        Optional<String> token = properties.auth().sharedToken();
        Optional<String> adminToken = properties.adminToken();
        List<ModuleInstance> instances = modules.build(properties, environment, previous);
        try {
            CallbackChains chains = new CallbackChains(instances, runner);
            return new Generation(number, properties, instances, chains, token, adminToken, clock.instant());
        } catch (RuntimeException | Error invalid) {
            modules.discard(instances.stream()
                    .filter(instance -> previous.stream().flatMap(generation -> generation.modules().stream())
                            .noneMatch(kept -> kept.module() == instance.module()))
                    .toList(), previous);
            throw invalid;
        }
    }
}
