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
                BadSetting.fixes(cause.settings()) + "\nThe README's module table and docs/modules/ list each module type's configuration keys.",
                cause);
    }
}
