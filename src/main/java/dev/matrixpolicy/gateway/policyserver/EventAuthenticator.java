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
     * The first of the event's {@link Pdu#signers} whose valid signature it does not carry, checked in
     * their order and no further; empty when it carries them all.
     *
     * @throws UnauthorizedException when a signer's keys cannot be fetched or do not verify
     * @throws KeyFetchBusyException   when they are not cached and no fetch can start now
     */
    public Optional<Pdu.Signer> missingSignature(Pdu pdu) {
        return pdu.signers().stream().filter(signer -> !signedBy(pdu, signer.serverName())).findFirst();
    }

    private boolean signedBy(Pdu pdu, String server) {
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
            found = toVerify.isEmpty() ? Map.of() : keys.verifyKeys(server, toVerify.keySet(), validAt);
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
