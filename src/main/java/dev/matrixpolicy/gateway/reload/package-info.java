/**
 * Configuration reload: the configuration files and token files are watched, and
 * {@code POST /actuator/reload} asks; either way the configuration is read, bound and validated as at
 * startup, the next generation of module instances and chains is built beside the serving one, and
 * only then swapped in. A configuration that would not start the gateway changes nothing: it is
 * logged, counted and shown in health until a good one arrives.
 */
package dev.matrixpolicy.gateway.reload;
