package dev.matrixpolicy.gateway.dispatch;

import dev.matrixpolicy.gateway.module.ModuleInstance;

/**
 * The configured modules cannot form valid chains, e.g. two modules check the same login type
 * with different fields (Synapse refuses to start in that case too). Stops startup.
 */
public final class ChainConfigurationException extends RuntimeException {
    private final String entry;

    public ChainConfigurationException(ModuleInstance instance, String problem) {
        super(instance.describe() + ": " + problem);
        this.entry = instance.describe();
    }

    /** The offending {@code modules} entry, e.g. {@code modules[2] (static 'deny-all')}. */
    public String entry() {
        return entry;
    }
}
