/**
 * The REST API: {@code POST /v1/{category}/{callback}}, discovery, bearer-token authentication, and
 * one place that maps every error to Matrix error JSON. Knows callbacks only through
 * {@link dev.matrixpolicy.gateway.dispatch.CallbackEndpoint}, and no module at all.
 */
package dev.matrixpolicy.gateway.api;
