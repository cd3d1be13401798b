/**
 * The Synapse callbacks, one small interface each, grouped by category in sub-packages.
 *
 * <p>Every callback interface carries a {@code TYPE} constant, a {@link dev.matrixpolicy.gateway.callbacks.CallbackType}
 * that names the callback as Synapse does, says how its JSON arguments are read, what its result
 * type is and which chain rule combines the answers of several modules. {@link dev.matrixpolicy.gateway.callbacks.Callbacks}
 * lists them all; {@link dev.matrixpolicy.gateway.callbacks.CallbackChains} assembles their chains from the configured
 * module instances.
 */
package dev.matrixpolicy.gateway.callbacks;
