/**
 * The one way to log that something fails and, later, that it works again: {@link
 * dev.matrixpolicy.gateway.outage.Outage} holds the run of failures (working, failing, working) and
 * writes its lines through the caller's logger, in the caller's words. Used by the policy list sources
 * and the policy list module, the readers of a module's file or URL ({@code module.UserListFile}, the
 * media hashes of {@code content_rules}, the users of {@code password_file}), the shared state in
 * Redis and the audit webhook's queue.
 *
 * <p>Pure Java over SLF4J, at the bottom of the layering: it uses no other package of the gateway and
 * no Spring, so the pure cores ({@code policylist}, {@code state}), the extension point and the
 * modules can all use it.
 */
package dev.matrixpolicy.gateway.outage;
