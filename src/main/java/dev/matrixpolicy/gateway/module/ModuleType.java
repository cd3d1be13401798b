package dev.matrixpolicy.gateway.module;

/**
 * A kind of module, found by {@link #name()} from the {@code module:} key of a {@code modules} entry:
 * the gateway's answer to Synapse's {@code module: my_module.MyClass}.
 *
 * <p>Declare an implementation as a Spring bean. The entry's {@code config:} block is bound to
 * {@link #configType()} with Spring Boot's binder and validated with Bean Validation before
 * {@link #create} is called, so a bad value stops startup with the property, its value and where it
 * was set. Semantic checks that annotations cannot express throw {@link ModuleConfigurationException}.
 *
 * @param <C> the configuration record
 */
public interface ModuleType<C> {

    /** The snake_case type name used in configuration, e.g. {@code static}. Unique among module types. */
    String name();

    /** The immutable configuration record the {@code config:} block binds to. */
    Class<C> configType();

    /**
     * Builds one instance. Called once per {@code modules} entry at startup.
     *
     * @throws ModuleConfigurationException when the configuration is well-typed but wrong
     */
    PolicyModule create(C config, ModuleContext context);
}
