/**
 * Configuration: the {@code policy-gateway} properties, one Spring bean per {@code modules} entry,
 * the chains assembled from them, and failure analysis that turns a bad configuration into one
 * readable message.
 */
package dev.matrixpolicy.gateway.config;
