package dev.matrixpolicy.gateway.decisions;

import tools.jackson.databind.node.ObjectNode;

/** Where the policy API reports what it refused or could not answer. Called on the request path: cheap, never blocking. */
@FunctionalInterface
public interface DecisionRecorder {

    /**
     * @param refusal what was answered, and by which entry
     * @param args    the request's arguments, as parsed; only the IDs they involve are kept
     */
    void record(Refusal refusal, ObjectNode args);
}
