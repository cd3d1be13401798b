/**
 * Configuration: the {@code policy-gateway} properties; the {@link dev.matrixpolicy.gateway.config.Generation
 * generation} of module instances and chains built from them, the same way at startup and at each
 * reload ({@link dev.matrixpolicy.gateway.config.GenerationBuilder}); the
 * {@link dev.matrixpolicy.gateway.config.Generations holder} that swaps generations atomically and
 * closes what a retired one leaves behind; reading the configuration again as startup read it
 * ({@link dev.matrixpolicy.gateway.config.ConfigurationLoader}); and failure analysis that turns a bad
 * configuration into one readable message, at startup as at reload.
 */
package dev.matrixpolicy.gateway.config;
