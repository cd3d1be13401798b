package dev.matrixpolicy.gateway.support;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.time.Duration;
import java.util.Optional;

/** Module instances made of a plain callback implementation, for assembling chains without configuration. */
public final class PlainModules {
    private PlainModules() {
    }

    /** An enforcing, fail-closed instance whose module implements the callback interfaces {@code callback} does, inline. */
    public static ModuleInstance instance(String name, Object callback) {
        return instance(name, callback, Link.Mode.ENFORCE);
    }

    public static ModuleInstance instance(String name, Object callback, Link.Mode mode) {
        PolicyModule module = new PolicyModule() {
            @Override
            public <M> Optional<M> implementation(CallbackType<M, ?, ?> type) {
                return type.moduleInterface().isInstance(callback) ? Optional.of(type.moduleInterface().cast(callback)) : Optional.empty();
            }

            @Override
            public boolean mayBlock() {
                return false;
            }
        };
        return new ModuleInstance(0, "test", name, module, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1), mode);
    }
}
