/**
 * The decision log: a bounded, in-memory ring of the most recent refusals and module failures, so
 * that "why was @x refused at 14:02?" has an answer on the management port
 * ({@code /actuator/decisions}, the console).
 *
 * <p>The policy API hands each refusal to a {@link dev.matrixpolicy.gateway.decisions.DecisionRecorder};
 * allowed requests cost nothing, and a refusal costs a few field reads and one slot of the ring: no
 * JSON is written, nothing is locked, nothing touches a disk. What is kept of the request is the
 * Matrix IDs it involves and nothing else ({@link dev.matrixpolicy.gateway.decisions.InvolvedIds}):
 * never an event's content, a login's credentials, a profile or any other free text.
 *
 * <p>Pure Java beside Jackson's tree model: it knows the Matrix ID grammars ({@code matrix}) and no
 * other package of the gateway, and no Spring (held by {@code PackageRulesTest}).
 */
package dev.matrixpolicy.gateway.decisions;
