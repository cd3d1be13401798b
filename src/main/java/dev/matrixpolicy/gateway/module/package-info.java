/**
 * The extension point: a {@link dev.matrixpolicy.gateway.module.ModuleType} is a Spring bean that
 * builds module instances from their typed configuration, like a Synapse module class named in
 * {@code homeserver.yaml}. Module types in other jars plug in through Spring Boot auto-configuration.
 */
package dev.matrixpolicy.gateway.module;
