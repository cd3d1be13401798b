/**
 * Observability: the metric names and tags, the rejection log line, and the {@code chains}
 * actuator endpoint. Tags are bounded: category, callback, module instance, outcome. User, room and
 * event IDs never become tags.
 */
package dev.matrixpolicy.gateway.observability;
