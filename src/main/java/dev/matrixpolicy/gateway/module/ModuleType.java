package dev.matrixpolicy.gateway.module;

import java.util.Objects;

/**
 * A kind of module, found by {@link #name()} from the {@code module:} key of a {@code modules} entry:
 * the gateway's answer to Synapse's {@code module: my_module.MyClass}.
 *
 * <p>Declare an implementation as a Spring bean whose constructor names the type and its
 * configuration record, and write {@link #create}:
 * <pre>{@code
 * @Component
 * class EvilUsersModuleType extends ModuleType<EvilUsersConfig> {
 *     EvilUsersModuleType() {
 *         super("evil_users", EvilUsersConfig.class);
 *     }
 *
 *     public PolicyModule create(EvilUsersConfig config, ModuleContext context) { ... }
 * }
 * }</pre>
 * The entry's {@code config:} block is bound to {@link #configType()} with Spring Boot's binder and
 * validated with Bean Validation before {@link #create} is called, so a bad value stops startup with
 * the property, its value and where it was set. Semantic checks that annotations cannot express throw
 * {@link ModuleConfigurationException}.
 *
 * @param <C> the configuration record
 */
public abstract class ModuleType<C> {
    private final String name;
    private final Class<C> configType;

    /**
     * @param name       the snake_case type name used in configuration, e.g. {@code static}; unique
     *                   among module types
     * @param configType the immutable configuration record the {@code config:} block binds to
     */
    protected ModuleType(String name, Class<C> configType) {
        this.name = Objects.requireNonNull(name, "name");
        this.configType = Objects.requireNonNull(configType, "configType");
    }

    /** The type name used in configuration, e.g. {@code static}. */
    public final String name() {
        return name;
    }

    /** The configuration record the {@code config:} block binds to. */
    public final Class<C> configType() {
        return configType;
    }

    /**
     * Builds one instance. Called once per {@code modules} entry at startup.
     *
     * @throws ModuleConfigurationException when the configuration is well-typed but wrong
     */
    public abstract PolicyModule create(C config, ModuleContext context);
}
