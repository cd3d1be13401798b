/**
 * The REST API and all web code of the gateway: {@code POST /v1/{category}/{callback}}, discovery,
 * bearer-token authentication, and one place that maps every error to Matrix error JSON. Knows
 * callbacks only through {@link dev.matrixpolicy.gateway.dispatch.CallbackEndpoint}, and a module
 * only through a public type the module offers for its own resource
 * ({@link dev.matrixpolicy.gateway.modules.denylist.Denylist} for {@code is_evil}).
 */
package dev.matrixpolicy.gateway.api;
