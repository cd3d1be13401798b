package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.SigningHomeserver;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

/** An event counts as its sender's only with a valid signature of the sender's server, verified once per signature. */
class EventAuthenticatorTest {
    private static final SigningHomeserver SENDER = start("hs.test");
    private static final SigningHomeserver FORGER = start("forger.test");

    private final List<String> lookups = new ArrayList<>();
    private final KeyLookup keys = (server, keyId, validUntil) -> {
        lookups.add(server + " " + keyId);
        return Optional.of(Base64.getDecoder().decode(switch (server) {
            case "hs.test" -> SENDER.publicKeyBase64();
            case "forger.test" -> FORGER.publicKeyBase64();
            default -> throw new AssertionError(server);
        }));
    };
    private final EventAuthenticator events = new EventAuthenticator(keys, 100);

    @AfterAll
    static void stop() {
        SENDER.close();
        FORGER.close();
    }

    @Test
    void anEventSignedByItsSendersServerIsItsAndItsSignatureIsVerifiedOnce() {
        Pdu pdu = Pdu.of("10", SENDER.message("10", "!room:hs.test", "@alice:hs.test", "hello"));

        assertThat(events.signedBySender(pdu)).isTrue();
        assertThat(events.signedBySender(pdu)).as("asked again, by another server").isTrue();
        assertThat(lookups).containsExactly("hs.test " + SigningHomeserver.KEY_ID);
    }

    @Test
    void anEventSignedOnlyByAnotherServerOrWithABadSignatureIsNot() {
        ObjectNode forged = FORGER.message("10", "!room:hs.test", "@alice:hs.test", "made up");
        assertThat(events.signedBySender(Pdu.of("10", forged))).as("signed by forger.test alone").isFalse();

        ObjectNode signed = SENDER.hashAndSign("10", forged.deepCopy());
        assertThat(events.signedBySender(Pdu.of("10", signed))).isTrue();
        ObjectNode wrong = signed.deepCopy();
        ((ObjectNode) wrong.get("signatures").get("hs.test")).put(SigningHomeserver.KEY_ID,
                forged.get("signatures").get("forger.test").get(SigningHomeserver.KEY_ID).stringValue());
        assertThat(events.signedBySender(Pdu.of("10", wrong)))
                .as("the same event with another signature: the verified one is no pass for it").isFalse();
    }

    @Test
    void anEventSignedWithAKeyWhoseLookupFailsAndAKnownOneIsVerifiedWithTheKnownOneAsInSynapse() {
        KeyLookup backingOffForTheNewKey = (server, keyId, validUntil) -> {
            if (keyId.equals("ed25519:new")) {
                throw new KeyFetchBusyException("no fetch slot free");
            }
            return keys.verifyKey(server, keyId, validUntil);
        };
        ObjectNode signed = SENDER.message("10", "!room:hs.test", "@alice:hs.test", "hello");
        ObjectNode bySender = (ObjectNode) signed.get("signatures").get("hs.test");
        ObjectNode newKeyFirst = Json.MAPPER.createObjectNode().put("ed25519:new", "AAAA").setAll(bySender);
        ((ObjectNode) signed.get("signatures")).set("hs.test", newKeyFirst);

        assertThat(new EventAuthenticator(backingOffForTheNewKey, 100).signedBySender(Pdu.of("10", signed))).isTrue();
    }

    @Test
    void aSignatureWhoseKeyTheSenderDoesNotListVouchesForNothing() {
        EventAuthenticator unknownKeys = new EventAuthenticator((server, keyId, validUntil) -> Optional.empty(), 100);

        assertThat(unknownKeys.signedBySender(Pdu.of("10", SENDER.message("10", "!room:hs.test", "@alice:hs.test", "hi")))).isFalse();
    }

    private static SigningHomeserver start(String name) {
        try {
            return new SigningHomeserver(name);
        } catch (java.io.IOException failed) {
            throw new java.io.UncheckedIOException(failed);
        }
    }
}
