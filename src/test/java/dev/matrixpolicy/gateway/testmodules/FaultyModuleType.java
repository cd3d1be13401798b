package dev.matrixpolicy.gateway.testmodules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code test_faulty}: a module that misbehaves on the callbacks it is configured for, by throwing
 * or by hanging, to prove failure policies and deadlines.
 */
final class FaultyModuleType extends ModuleType<FaultyModuleType.Config> {

    /**
     * {@code wait}: until the {@link Gate} is open, then throws; {@code stuck}: the same, but its deadline's
     * interruption does not end the wait (deadlocked, as far as the gateway can tell); {@code overflow}:
     * recurses without a bottom, as a module walking an event nested thousands deep would, and
     * overflows its stack.
     */
    enum Behaviour { THROW, HANG, WAIT, STUCK, OVERFLOW }

    /**
     * @param callbacks the callbacks it implements (by Synapse name)
     * @param behaviour how it fails
     * @param hang      how long a hanging call sleeps (a nested record, to test nested validation)
     */
    record Config(@NotEmpty List<String> callbacks, @NotNull Behaviour behaviour, @Valid @DefaultValue Hang hang) {
    }

    record Hang(@DefaultValue("30") @Max(60) long seconds) {
    }

    FaultyModuleType() {
        super("test_faulty", Config.class);
    }

    @Override
    public PolicyModule create(Config config, ModuleContext context) {
        config.callbacks().forEach(name -> dev.matrixpolicy.gateway.callbacks.catalog.Callbacks.byName(name)
                .orElseThrow(() -> new ModuleConfigurationException("callbacks", "unknown callback " + name)));
        Duration hang = Duration.ofSeconds(config.hang().seconds());
        return new PolicyModule() {
            @Override
            public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
                return config.callbacks().contains(callback.name()) ? Optional.of(failing(callback, config.behaviour(), hang))
                        : Optional.empty();
            }
        };
    }

    private static <M, A, R> M failing(CallbackType<M, A, R> callback, Behaviour behaviour, Duration hang) {
        Function<A, R> fail = args -> {
            if (behaviour == Behaviour.OVERFLOW) {
                throw new IllegalStateException("test_faulty module found the bottom at depth " + depthBelow(0));
            }
            if (behaviour == Behaviour.STUCK) {
                Gate.passDespiteInterruption();
            } else if (behaviour != Behaviour.THROW) {
                try {
                    if (behaviour == Behaviour.WAIT) {
                        Gate.pass();
                    } else {
                        Thread.sleep(hang);
                    }
                } catch (InterruptedException stopped) {
                    Thread.currentThread().interrupt();
                }
            }
            throw new IllegalStateException("test_faulty module refuses to answer " + callback.name());
        };
        return callback.fromFunction(fail);
    }

    private static int depthBelow(int level) {
        return 1 + depthBelow(level + 1);
    }
}
