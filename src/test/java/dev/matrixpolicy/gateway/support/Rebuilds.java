package dev.matrixpolicy.gateway.support;

import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Module instances built as a reload builds them, in place of the one serving, for a test to compare;
 * each closed after the test. Register with {@code @RegisterExtension}.
 */
public final class Rebuilds implements AfterEachCallback {
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<PolicyModule> built = new ArrayList<>();

    /** The context of instance {@code name} built in place of {@code before} (empty: at startup). */
    public ModuleContext context(String name, Optional<PolicyModule> before) {
        return new ModuleContext(name, "example.com", meters, binder -> { }, (secret, fingerprint) -> { }, before);
    }

    /** {@code module}, to be closed after the test. */
    public <M extends PolicyModule> M closedAfter(M module) {
        built.add(module);
        return module;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        built.forEach(PolicyModule::close);
        built.clear();
    }
}
