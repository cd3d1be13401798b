package dev.matrixpolicy.gateway.module;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * What a module instance may know about its surroundings.
 *
 * @param instanceName  the instance's unique name, for its logs and metric tags
 * @param serverName    the homeserver this gateway serves ({@code policy-gateway.server-name})
 * @param meterRegistry where a module records metrics about its own work
 */
public record ModuleContext(String instanceName, String serverName, MeterRegistry meterRegistry) {
}
