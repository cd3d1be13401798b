package dev.matrixpolicy.gateway.policyserver;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
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
     * does not list it, or lists it as expiring earlier. A fetch it needs is waited for until {@code
     * wait} ends at most.
     *
     * @throws UnauthorizedException when the server's keys cannot be fetched or do not verify
     * @throws KeyFetchBusyException   when they are not cached and no fetch can start now, or the
     *                                 fetch is still running when {@code wait} ends
     */
    Optional<byte[]> verifyKey(String serverName, String keyId, long minimumValidUntilTs, KeyWait wait);

    /**
     * The keys among {@code keyIds} that {@link #verifyKey} finds, by key ID in their order. As in
     * Synapse's keyring, a key whose lookup fails (its server backing off, no fetch slot free) does not
     * keep the others from being used: a request or event signed with a cached key and a new one
     * is verified with the cached one.
     *
     * @throws UnauthorizedException the first lookup's failure, when no key is found
     * @throws KeyFetchBusyException the same
     */
    default Map<String, byte[]> verifyKeys(String serverName, Collection<String> keyIds, long minimumValidUntilTs, KeyWait wait) {
        Map<String, byte[]> found = new LinkedHashMap<>();
        RuntimeException firstFailure = null;
        for (String keyId : keyIds) {
            try {
                verifyKey(serverName, keyId, minimumValidUntilTs, wait).ifPresent(key -> found.put(keyId, key));
            } catch (UnauthorizedException | KeyFetchBusyException failure) {
                firstFailure = firstFailure == null ? failure : firstFailure;
            }
        }
        if (found.isEmpty() && firstFailure != null) {
            throw firstFailure;
        }
        return found;
    }
}
