package dev.matrixpolicy.gateway.config;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a bad {@code modules} entry into one message naming the entry, its type and each bad setting. */
final class ModuleFailureAnalyzer extends AbstractFailureAnalyzer<InvalidModuleException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidModuleException cause) {
        return new FailureAnalysis(
                "Invalid policy module configuration:\n\n    entry: " + cause.entry() + "\n"
                        + BadSetting.describe(cause.settings(), "field"),
                BadSetting.fixes(cause.settings()) + "\nEach module type's configuration keys are on its page in docs/modules/, linked from the README's module table.",
                cause);
    }
}
