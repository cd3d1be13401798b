package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.dispatch.ChainConfigurationException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns modules that cannot form valid chains into one readable message. */
final class ChainFailureAnalyzer extends AbstractFailureAnalyzer<ChainConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ChainConfigurationException cause) {
        return new FailureAnalysis("The configured policy modules cannot form valid chains:\n\n    " + cause.getMessage() + "\n",
                "Change or remove policy-gateway." + cause.entry() + ".", cause);
    }
}
