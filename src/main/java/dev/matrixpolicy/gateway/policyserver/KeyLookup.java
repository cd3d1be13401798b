package dev.matrixpolicy.gateway.policyserver;

import java.util.Optional;

/**
 * Where {@link RequestAuthenticator} finds a server's public keys: {@link ServerKeys} over
 * federation, or a fixed set in tests.
 */
@FunctionalInterface
public interface KeyLookup {
    /**
     * The raw 32-byte Ed25519 key {@code keyId} of {@code serverName}, if it is known to be valid at
     * least until {@code minimumValidUntilTs} (milliseconds since the epoch); empty when the server
     * does not list it, or lists it as expiring earlier.
     *
     * @throws UnauthorizedException when the server's keys cannot be fetched or do not verify
     * @throws KeyFetchBusyException   when they are not cached and no fetch can start now
     */
    Optional<byte[]> verifyKey(String serverName, String keyId, long minimumValidUntilTs);
}
