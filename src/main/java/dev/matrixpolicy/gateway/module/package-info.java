/**
 * The extension point: a {@link dev.matrixpolicy.gateway.module.ModuleType} is a Spring bean that
 * builds module instances from their typed configuration, like a Synapse module class named in
 * {@code homeserver.yaml}. Module types in other jars plug in through Spring Boot auto-configuration.
 *
 * <p>A module that calls an HTTP backend does it the one way the built-in ones do, through a
 * {@link dev.matrixpolicy.gateway.module.Backend}: connect and read timeouts, the reply cap
 * ({@code max-reply-size}), retries by a {@link dev.matrixpolicy.gateway.module.RetryPolicy} with its
 * {@link dev.matrixpolicy.gateway.module.Backoff}, an optional circuit breaker, one
 * {@link dev.matrixpolicy.gateway.module.BackendFailure} classification, the
 * {@code policy.module.backend} timer and one WARN line per failed call. The module supplies the
 * {@link dev.matrixpolicy.gateway.module.BackendRequest}, reads the
 * {@link dev.matrixpolicy.gateway.module.BackendReply}, and says what it answers when the backend
 * cannot ({@link dev.matrixpolicy.gateway.module.FailureAnswer}, usually by its
 * {@link dev.matrixpolicy.gateway.module.FailureMode}).
 */
package dev.matrixpolicy.gateway.module;
