package dev.matrixpolicy.gateway.config;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a bad {@code modules} entry into one message naming the entry, its type and the field. */
final class ModuleFailureAnalyzer extends AbstractFailureAnalyzer<InvalidModuleException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidModuleException cause) {
        return new FailureAnalysis(
                "Invalid policy module configuration:\n\n    entry: " + cause.entry() + "\n    field: " + cause.field()
                        + "\n    problem: " + cause.problem() + "\n",
                "Correct " + cause.field() + " of " + cause.entry()
                        + ". The README lists each module type's configuration keys.",
                cause);
    }
}
