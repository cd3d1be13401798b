/**
 * The extension point: a {@link dev.matrixpolicy.gateway.module.ModuleType} is a Spring bean that
 * builds module instances from their typed configuration, like a Synapse module class named in
 * {@code homeserver.yaml}. Module types in other jars plug in through Spring Boot auto-configuration.
 *
 * <p>For a module that calls an HTTP backend, the same few pieces the built-in ones use:
 * {@link dev.matrixpolicy.gateway.module.BackendClient} (its HTTP client),
 * {@link dev.matrixpolicy.gateway.module.BackendTimer} (the {@code policy.module.backend} timer),
 * {@link dev.matrixpolicy.gateway.module.BackendFailures} (timeout or error, and a WARN-safe
 * description) and {@link dev.matrixpolicy.gateway.module.FailureMode} (its {@code failure-mode} key).
 */
package dev.matrixpolicy.gateway.module;
