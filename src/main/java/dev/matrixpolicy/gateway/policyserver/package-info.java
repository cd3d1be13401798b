/**
 * Being a room's policy server (MSC4284, in the Matrix spec since v1.18): the pure signing core
 * that the {@code POST /_matrix/policy/v1/sign} endpoint calls.
 *
 * <p>{@link dev.matrixpolicy.gateway.policyserver.EventSigner} signs an event as the spec's
 * "Signing events" appendix says: the event is redacted by its room version's rules
 * ({@link dev.matrixpolicy.gateway.policyserver.Redaction}), {@code signatures} and
 * {@code unsigned} are dropped, and the rest is signed in
 * {@link dev.matrixpolicy.gateway.policyserver.CanonicalJson} with the policy server's own
 * {@link dev.matrixpolicy.gateway.policyserver.PolicyServerKey} (never the homeserver's).
 *
 * <p>{@link dev.matrixpolicy.gateway.policyserver.RequestAuthenticator} tells who is asking: it
 * checks a federation request's {@link dev.matrixpolicy.gateway.policyserver.XMatrix} signatures
 * against the origin's keys, which {@link dev.matrixpolicy.gateway.policyserver.ServerKeys} fetches
 * from the origin and caches; a refusal is an {@link
 * dev.matrixpolicy.gateway.policyserver.UnauthorizedException} (401 {@code M_UNAUTHORIZED}).
 *
 * <p>Pure Java and Jackson's tree model: nothing here knows about Spring, and only ServerKeys'
 * fetches speak HTTP (the JDK's client, as a client), all through one package-private
 * FederationClient. An event that cannot be signed is a {@link
 * dev.matrixpolicy.gateway.policyserver.BadJsonException} (400 {@code M_BAD_JSON}); a room version
 * with no redaction rules here, an {@link dev.matrixpolicy.gateway.policyserver.UnknownRoomVersionException},
 * which the configuration's check of each room's version keeps from any request.
 */
package dev.matrixpolicy.gateway.policyserver;
