package dev.matrixpolicy.gateway.testmodules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.util.Optional;

/**
 * {@code test_held_build}: a module whose build waits at the {@link Gate}, implementing no callback: a
 * startup or a reload held while it builds the modules, for as long as a test needs.
 */
final class HeldBuildModuleType extends ModuleType<HeldBuildModuleType.Config> {
    record Config() {
    }

    HeldBuildModuleType() {
        super("test_held_build", Config.class);
    }

    @Override
    public PolicyModule create(Config config, ModuleContext context) {
        try {
            Gate.pass();
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
        }
        return new PolicyModule() {
            @Override
            public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
                return Optional.empty();
            }
        };
    }
}
