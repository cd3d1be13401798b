package dev.matrixpolicy.gateway.policyserver;

import static dev.matrixpolicy.gateway.policyserver.KeyWaits.UNHURRIED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.SigningHomeserver;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

/**
 * An event counts only with a valid signature of each server homeservers require to sign it (its
 * sender's, in versions 1 and 2 its event ID's, a restricted join's authorising user's), verified once per signature.
 */
class EventAuthenticatorTest {
    private static final SigningHomeserver SENDER = start("hs.test");
    private static final SigningHomeserver FORGER = start("forger.test");
    /** A server whose name has a port, which is part of the name its signatures are under. */
    private static final SigningHomeserver OTHER = start("other.test:8448");

    private final List<String> lookups = new ArrayList<>();
    private final KeyLookup keys = (server, keyId, validUntil, wait) -> {
        lookups.add(server + " " + keyId);
        return Optional.of(Base64.getDecoder().decode(switch (server) {
            case "hs.test" -> SENDER.publicKeyBase64();
            case "forger.test" -> FORGER.publicKeyBase64();
            case "other.test:8448" -> OTHER.publicKeyBase64();
            default -> throw new AssertionError(server);
        }));
    };
    private final EventAuthenticator events = new EventAuthenticator(keys, 100);

    @AfterAll
    static void stop() {
        SENDER.close();
        FORGER.close();
        OTHER.close();
    }

    @Test
    void anEventSignedByItsSendersServerIsItsAndItsSignatureIsVerifiedOnce() {
        Pdu pdu = Pdu.of("10", SENDER.message("10", "!room:hs.test", "@alice:hs.test", "hello"));

        assertThat(events.missingSignature(pdu, UNHURRIED)).isEmpty();
        assertThat(events.missingSignature(pdu, UNHURRIED)).as("asked again, by another server").isEmpty();
        assertThat(lookups).containsExactly("hs.test " + SigningHomeserver.KEY_ID);
    }

    @Test
    void anEventSignedOnlyByAnotherServerOrWithABadSignatureIsNot() {
        ObjectNode forged = FORGER.message("10", "!room:hs.test", "@alice:hs.test", "made up");
        assertThat(events.missingSignature(Pdu.of("10", forged), UNHURRIED)).as("signed by forger.test alone").map(EventAuthenticator.Unverified::signer).contains(required("hs.test", Pdu.Signer.Role.SENDER_DOMAIN));

        ObjectNode signed = SENDER.hashAndSign("10", forged.deepCopy());
        assertThat(events.missingSignature(Pdu.of("10", signed), UNHURRIED)).isEmpty();
        ObjectNode wrong = signed.deepCopy();
        ((ObjectNode) wrong.get("signatures").get("hs.test")).put(SigningHomeserver.KEY_ID,
                forged.get("signatures").get("forger.test").get(SigningHomeserver.KEY_ID).stringValue());
        assertThat(events.missingSignature(Pdu.of("10", wrong), UNHURRIED))
                .as("the same event with another signature: the verified one is no pass for it").isPresent();
    }

    @Test
    void anEventSignedWithAKeyWhoseLookupFailsAndAKnownOneIsVerifiedWithTheKnownOneAsInSynapse() {
        KeyLookup backingOffForTheNewKey = (server, keyId, validUntil, wait) -> {
            if (keyId.equals("ed25519:new")) {
                throw new KeyFetchBusyException("no fetch slot free");
            }
            return keys.verifyKey(server, keyId, validUntil, wait);
        };
        ObjectNode signed = SENDER.message("10", "!room:hs.test", "@alice:hs.test", "hello");
        ObjectNode bySender = (ObjectNode) signed.get("signatures").get("hs.test");
        ObjectNode newKeyFirst = Json.MAPPER.createObjectNode().put("ed25519:new", "AAAA").setAll(bySender);
        ((ObjectNode) signed.get("signatures")).set("hs.test", newKeyFirst);

        assertThat(new EventAuthenticator(backingOffForTheNewKey, 100).missingSignature(Pdu.of("10", signed), UNHURRIED)).isEmpty();
    }

    @Test
    void aSignatureWhoseKeyTheSenderDoesNotListVouchesForNothing() {
        EventAuthenticator unknownKeys = new EventAuthenticator((server, keyId, validUntil, wait) -> Optional.empty(), 100);

        assertThat(unknownKeys.missingSignature(Pdu.of("10", SENDER.message("10", "!room:hs.test", "@alice:hs.test", "hi")), UNHURRIED)).isPresent();
    }

    /** Another server may turn a third-party invite into an invite in the inviter's name: homeservers take it unsigned by the inviter's server. */
    @Test
    void anInviteMadeFromAThirdPartyInviteNeedsNoSignatureOfItsSendersServer() {
        ObjectNode content = Json.MAPPER.createObjectNode().put("membership", "invite");
        content.putObject("third_party_invite").put("display_name", "bob").putObject("signed")
                .put("mxid", "@bob:forger.test").put("token", "t");
        ObjectNode invite = member(FORGER, "10", "@alice:hs.test", "@bob:forger.test", content);

        assertThat(events.missingSignature(Pdu.of("10", invite), UNHURRIED)).isEmpty();
        content.remove("third_party_invite");
        assertThat(events.missingSignature(Pdu.of("10", member(FORGER, "10", "@alice:hs.test", "@bob:forger.test", content)), UNHURRIED))
                .as("an invite of alice's not made from a third-party invite").map(EventAuthenticator.Unverified::signer).contains(required("hs.test", Pdu.Signer.Role.SENDER_DOMAIN));
    }

    @Test
    void inRoomVersionsOneAndTwoTheServerNamedInTheEventIdMustSignToo() {
        ObjectNode event = SENDER.message("1", "!room:hs.test", "@alice:hs.test", "hi");
        SENDER.hashAndSign("1", event.put("event_id", "$made:other.test:8448"));

        assertThat(events.missingSignature(Pdu.of("1", event), UNHURRIED)).map(EventAuthenticator.Unverified::signer).contains(required("other.test:8448", Pdu.Signer.Role.EVENT_DOMAIN));
        OTHER.countersign("1", event);
        assertThat(events.missingSignature(Pdu.of("1", event), UNHURRIED)).isEmpty();
        assertThat(lookups).as("the sender's signature verified once").containsExactly(
                "hs.test " + SigningHomeserver.KEY_ID, "other.test:8448 " + SigningHomeserver.KEY_ID);
    }

    /** As a homeserver refuses it, and not as a 401, which reads as the asking server's own request signature failing. */
    @Test
    void aServerWhoseKeysCannotBeFetchedHasNotSignedAndTheRefusalSaysWhy() {
        KeyLookup otherUnreachable = (server, keyId, validUntil, wait) -> {
            if (server.equals("other.test:8448")) {
                throw new UnauthorizedException("Could not fetch the keys of other.test:8448");
            }
            return keys.verifyKey(server, keyId, validUntil, wait);
        };
        ObjectNode event = SENDER.message("1", "!room:hs.test", "@alice:hs.test", "hi");
        OTHER.countersign("1", SENDER.hashAndSign("1", event.put("event_id", "$made:other.test:8448")));

        assertThat(new EventAuthenticator(otherUnreachable, 100).missingSignature(Pdu.of("1", event), UNHURRIED))
                .contains(new EventAuthenticator.Unverified(required("other.test:8448", Pdu.Signer.Role.EVENT_DOMAIN),
                        "The event's signature by the server named in its event ID could not be checked: "
                                + "Could not fetch the keys of other.test:8448"));
    }

    @Test
    void aJoinAuthorisedByAUserOfAnotherServerUnderARestrictedJoinRuleMustBeSignedByThatServerToo() {
        ObjectNode content = Json.MAPPER.createObjectNode().put("membership", "join")
                .put("join_authorised_via_users_server", "@mod:other.test:8448");
        ObjectNode join = member(SENDER, "10", "@bob:hs.test", "@bob:hs.test", content);

        assertThat(events.missingSignature(Pdu.of("10", join), UNHURRIED)).map(EventAuthenticator.Unverified::signer).contains(required("other.test:8448", Pdu.Signer.Role.AUTHORISING_SERVER));
        OTHER.countersign("10", join);
        assertThat(events.missingSignature(Pdu.of("10", join), UNHURRIED)).isEmpty();
        assertThat(events.missingSignature(Pdu.of("7", member(SENDER, "7", "@bob:hs.test", "@bob:hs.test", content)), UNHURRIED))
                .as("room version 7 has no restricted join rules").isEmpty();
    }

    @Test
    void aServerThatMustSignForTwoReasonsIsCheckedOnce() {
        ObjectNode content = Json.MAPPER.createObjectNode().put("membership", "join")
                .put("join_authorised_via_users_server", "@mod:hs.test");
        Pdu join = Pdu.of("10", member(SENDER, "10", "@bob:hs.test", "@bob:hs.test", content));
        Pdu message = Pdu.of("1", SENDER.message("1", "!room:hs.test", "@alice:hs.test", "hi")); // its event ID is hs.test's

        assertThat(join.signers()).containsExactly(required("hs.test", Pdu.Signer.Role.SENDER_DOMAIN));
        assertThat(message.signers()).containsExactly(required("hs.test", Pdu.Signer.Role.SENDER_DOMAIN));
        assertThat(events.missingSignature(join, UNHURRIED)).isEmpty();
    }

    private static Pdu.Signer required(String serverName, Pdu.Signer.Role role) {
        return new Pdu.Signer(serverName, role);
    }

    /** An {@code m.room.member} event for {@code stateKey}, signed by {@code by} alone. */
    private static ObjectNode member(SigningHomeserver by, String roomVersion, String sender, String stateKey, ObjectNode content) {
        ObjectNode event = by.event(roomVersion, "!room:hs.test", sender, "m.room.member", content.deepCopy());
        return by.hashAndSign(roomVersion, event.put("state_key", stateKey));
    }

    private static SigningHomeserver start(String name) {
        try {
            return new SigningHomeserver(name);
        } catch (java.io.IOException failed) {
            throw new java.io.UncheckedIOException(failed);
        }
    }
}
