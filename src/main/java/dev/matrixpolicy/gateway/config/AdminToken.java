package dev.matrixpolicy.gateway.config;

import java.util.Optional;

/**
 * The token of the management port's admin endpoints and console, read and checked once at startup
 * in the main context ({@link PolicyGatewayProperties#adminToken()}), so a bad one stops startup
 * before any port opens.
 *
 * @param token the token; empty when none is configured, and the admin endpoints answer loopback callers only
 */
public record AdminToken(Optional<String> token) {
}
