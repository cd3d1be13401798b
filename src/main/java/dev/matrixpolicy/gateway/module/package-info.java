/**
 * The extension point, all of it in this one package: a {@link dev.matrixpolicy.gateway.module.ModuleType}
 * is a Spring bean that builds module instances from their typed configuration, like a Synapse
 * module class named in {@code homeserver.yaml}; what it builds is a
 * {@link dev.matrixpolicy.gateway.module.PolicyModule}, which implements any number of callback
 * interfaces from {@code callbacks.<category>}, and may say its
 * {@link dev.matrixpolicy.gateway.module.WorstCase}. It gets a
 * {@link dev.matrixpolicy.gateway.module.ModuleContext} and refuses a bad configuration with a
 * {@link dev.matrixpolicy.gateway.module.ModuleConfigurationException}. A configured entry, built, is a
 * {@link dev.matrixpolicy.gateway.module.ModuleInstance}: what the chains are assembled from. Module
 * types in other jars plug in through Spring Boot auto-configuration.
 *
 * <p>A module that calls an HTTP backend does it the one way the built-in ones do, through a
 * {@link dev.matrixpolicy.gateway.module.Backend}: connect and read timeouts, the reply cap
 * ({@code max-reply-size}), retries by a {@link dev.matrixpolicy.gateway.module.RetryPolicy} with its
 * {@link dev.matrixpolicy.gateway.module.Backoff}, an optional circuit breaker, one
 * {@link dev.matrixpolicy.gateway.module.BackendFailure} classification, the
 * {@code policy.module.backend} timer and one WARN line per failed call (one a 10 s for each kind,
 * {@link dev.matrixpolicy.gateway.module.RepeatedWarnings}). The module supplies the
 * {@link dev.matrixpolicy.gateway.module.BackendRequest}, reads the
 * {@link dev.matrixpolicy.gateway.module.BackendReply}, and says what it answers when the backend
 * cannot ({@link dev.matrixpolicy.gateway.module.FailureAnswer}, usually by its
 * {@link dev.matrixpolicy.gateway.module.FailureMode}).
 *
 * <p>This package depends on the callbacks (their vocabulary and interfaces), the chain and the
 * Matrix ID grammars only; it knows no built-in module, no chain assembly and no web code.
 */
package dev.matrixpolicy.gateway.module;
