package dev.matrixpolicy.gateway.policyserver;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Whether an event carries a valid signature of every server that every homeserver requires to have
 * signed an event it receives over federation ({@link Pdu#signers}, as Synapse's {@code
 * _check_sigs_on_pdu}): its sender's server, except on an invite made from a third-party invite, which
 * another server may send for the sender; in room versions 1 and 2, the server named in its event ID;
 * and on a join authorised by a user of another server under a restricted join rule ({@code
 * join_authorised_via_users_server}), that user's server. The policy server authenticates the
 * homeserver that asks, but any homeserver may ask about any event: without this check, a server could
 * make up events in another server's users' names, which no homeserver would ever accept, and still
 * have each one judged and counted against that user (a {@code rate_limits} bucket emptied, a {@code
 * content_rules} repeat count raised), so that the user's real events were refused. Requiring no more
 * than homeservers do keeps events they accept from being refused: an invite made from a third-party
 * invite may be built by another server than its sender's, and homeservers accept it unsigned by the
 * sender's.
 *
 * <p>Of each such server's {@code ed25519:} signatures, each whose key is known must verify, and at
 * least one must (Synapse's {@code Keyring}). From room version 5 on the key must be valid at the
 * event's {@code origin_server_ts}, as the spec's key validity rule asks; earlier versions take any
 * key the server lists. Each server's keys are looked up as the sender's always were, under the same
 * fetch limits and back-off, and the servers are checked in order: the first whose signature is
 * missing ends the check, so an event costs no more fetches than it names servers, three at most.
 * Fetched one after another, not at once: a forged event naming servers never makes the gateway ask
 * for the keys of one before the signature of the one before it has verified. The request's {@link
 * KeyWait} bounds the time they take together. A server whose keys cannot be fetched (none answer, or
 * it is backing off) has not signed, as far as the policy server can tell: the event is refused as a
 * homeserver refuses it, and the refusal says why (a 401 would read as the asking server's own
 * request signature failing).
 *
 * <p>In a busy room every homeserver asks about the same event, carrying the same signatures: a
 * signature verified once is remembered (at most {@code rememberedSignatures}, least recently used out
 * first), so that only the asking server's request signature costs an Ed25519 verification each time. What is remembered is the event's reference hash with the signature, and a
 * signature over those bytes verifies the same every time; a forged event brings a signature never
 * verified.
 */
public final class EventAuthenticator {
    private static final String ED25519 = "ed25519:";
    /** Room versions from before the key validity rule. */
    private static final Set<String> BEFORE_KEY_VALIDITY = Set.of("1", "2", "3", "4");

    private final KeyLookup keys;
    private final Cache<String, Boolean> verified;

    public EventAuthenticator(KeyLookup keys, int rememberedSignatures) {
        this.keys = Objects.requireNonNull(keys, "keys");
        this.verified = Caffeine.newBuilder().maximumSize(rememberedSignatures).executor(Runnable::run).build();
    }

    /**
     * Why an event is refused before any module sees it: it lacks {@code signer}'s valid signature.
     *
     * @param reason the refusal, as the asking server and its user read it
     */
    public record Unverified(Pdu.Signer signer, String reason) {
        static Unverified notSigned(Pdu.Signer signer) {
            return new Unverified(signer, "The event is not signed by " + signer.role().description());
        }

        static Unverified keysUnavailable(Pdu.Signer signer, UnauthorizedException noKeys) {
            return new Unverified(signer, "The event's signature by " + signer.role().description()
                    + " could not be checked: " + noKeys.getMessage());
        }
    }

    /**
     * The first of the event's {@link Pdu#signers} whose valid signature it does not carry, or whose
     * keys cannot be fetched, checked in their order and no further; empty when it carries them all.
     *
     * @param wait until when fetches of the signers' keys are waited for
     * @throws KeyFetchBusyException when a signer's keys are not cached and no fetch can start now, or
     *                               the fetch is still running when {@code wait} ends
     */
    public Optional<Unverified> missingSignature(Pdu pdu, KeyWait wait) {
        for (Pdu.Signer signer : pdu.signers()) {
            try {
                if (!signedBy(pdu, signer.serverName(), wait)) {
                    return Optional.of(Unverified.notSigned(signer));
                }
            } catch (UnauthorizedException noKeys) {
                return Optional.of(Unverified.keysUnavailable(signer, noKeys));
            }
        }
        return Optional.empty();
    }

    private boolean signedBy(Pdu pdu, String server, KeyWait wait) {
        JsonNode byServer = pdu.json().path("signatures").path(server);
        Map<String, String> signatures = new LinkedHashMap<>();
        byServer.properties().stream()
                .filter(signature -> signature.getKey().startsWith(ED25519) && signature.getValue().isString())
                .forEach(signature -> signatures.put(signature.getKey(), signature.getValue().stringValue()));
        long validAt = BEFORE_KEY_VALIDITY.contains(pdu.roomVersion()) ? 0 : pdu.json().get("origin_server_ts").longValue();
        boolean any = false;
        Map<String, String> toVerify = new LinkedHashMap<>();
        for (Map.Entry<String, String> signature : signatures.entrySet()) {
            String remembered = remembered(pdu, server, signature);
            if (verified.getIfPresent(remembered) != null) {
                any = true;
            } else {
                toVerify.put(signature.getKey(), signature.getValue());
            }
        }
        Map<String, byte[]> found;
        try {
            found = toVerify.isEmpty() ? Map.of() : keys.verifyKeys(server, toVerify.keySet(), validAt, wait);
        } catch (UnauthorizedException | KeyFetchBusyException noKey) {
            if (any) {
                return true; // verified with a key before; no key found now has a signature to check
            }
            throw noKey;
        }
        for (Map.Entry<String, byte[]> key : found.entrySet()) {
            String signature = toVerify.get(key.getKey());
            if (!Ed25519.verify(key.getValue(), pdu.signedBytes(), signature)) {
                return false;
            }
            verified.put(remembered(pdu, server, Map.entry(key.getKey(), signature)), Boolean.TRUE);
            any = true;
        }
        return any;
    }

    private static String remembered(Pdu pdu, String server, Map.Entry<String, String> signature) {
        return pdu.referenceHash() + ' ' + server + ' ' + signature.getKey() + ' ' + signature.getValue();
    }
}
