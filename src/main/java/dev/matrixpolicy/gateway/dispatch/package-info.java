/**
 * The callbacks, ready to answer: every callback's chain assembled from one generation's
 * configured {@link dev.matrixpolicy.gateway.module.ModuleInstance module instances} in list order
 * ({@link dev.matrixpolicy.gateway.dispatch.CallbackChains}), each behind a
 * {@link dev.matrixpolicy.gateway.dispatch.CallbackEndpoint}: read the arguments, walk the chain,
 * describe the result. The REST layer and the actuator see callbacks only through these.
 *
 * <p>Runtime, not vocabulary: it sits above the callbacks, the extension point and the pure
 * {@code chain} engine, and below {@code config}, {@code api} and {@code observability}. Modules never
 * use it.
 */
package dev.matrixpolicy.gateway.dispatch;
