package dev.matrixpolicy.gateway.policyserver;

import static dev.matrixpolicy.gateway.policyserver.KeyWaits.UNHURRIED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

class RequestAuthenticatorTest {
    static final PolicyServerKey ORIGIN_KEY = PolicyServerKey.fromSeed(
            HexFormat.of().parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    private static final String KEY_ID = "ed25519:a_test";
    private static final String ORIGIN = "hs.example";
    private static final String US = "policy.example";
    private static final String URI = "/_matrix/policy/v1/sign";
    private static final byte[] BODY = "{\"type\":\"m.room.message\",\"content\":{\"body\":\"hé\"}}".getBytes(StandardCharsets.UTF_8);
    private static final long NOW = 1_700_000_000_000L;

    private static final KeyLookup ORIGIN_KEYS = (server, keyId, minimum, wait) ->
            server.equals(ORIGIN) && keyId.equals(KEY_ID) ? Optional.of(raw(ORIGIN_KEY)) : Optional.empty();
    private final RequestAuthenticator authenticator = new RequestAuthenticator(US, ORIGIN_KEYS, InstantSource.fixed(
            java.time.Instant.ofEpochMilli(NOW)));

    static byte[] raw(PolicyServerKey key) {
        return Base64.getDecoder().decode(key.publicKeyBase64());
    }

    /** What a sending server signs (the spec's request JSON), signed as signedjson does. */
    static String sign(PolicyServerKey key, String method, String uri, String origin, String destination, byte[] body) {
        ObjectNode request = Json.MAPPER.createObjectNode().put("method", method).put("uri", uri)
                .put("origin", origin).put("destination", destination);
        if (body != null) {
            request.set("content", Json.MAPPER.readTree(body));
        }
        return key.sign(CanonicalJson.encode(request));
    }

    private static String header(String origin, String destination, String signature) {
        return new XMatrix(origin, Optional.ofNullable(destination), KEY_ID, signature).toHeader();
    }

    private String authenticate(String method, String uri, byte[] body, String header) {
        return RequestAuthenticationProbe.authenticate(authenticator, method, uri, body, List.of(header));
    }

    private final String signature = sign(ORIGIN_KEY, "POST", URI, ORIGIN, US, BODY);

    @Test
    void aRequestSignedByItsOriginForUsAuthenticatesTheOrigin() {
        assertThat(authenticate("POST", URI, BODY, header(ORIGIN, US, signature))).isEqualTo(ORIGIN);
    }

    @Test
    void aRequestWithoutBodyIsSignedWithoutContent() {
        String noBody = sign(ORIGIN_KEY, "GET", "/_matrix/federation/v1/version?x=%20", ORIGIN, US, null);
        assertThat(authenticate("GET", "/_matrix/federation/v1/version?x=%20", new byte[0], header(ORIGIN, null, noBody)))
                .isEqualTo(ORIGIN);
    }

    @Test
    void paddedSignaturesAreAcceptedToo() {
        byte[] bytes = Base64.getDecoder().decode(signature);
        assertThat(authenticate("POST", URI, BODY, header(ORIGIN, US, Base64.getEncoder().encodeToString(bytes)))).isEqualTo(ORIGIN);
    }

    @Test
    void theBodyIsComparedAsJsonNotAsBytes() {
        byte[] reordered = "{ \"content\": {\"body\": \"h\\u00e9\"}, \"type\": \"m.room.message\" }".getBytes(StandardCharsets.UTF_8);
        assertThat(authenticate("POST", URI, reordered, header(ORIGIN, US, signature))).isEqualTo(ORIGIN);
    }

    @Test
    void tamperedMethodUriBodyOriginOrDestinationAreRefused() {
        byte[] otherBody = "{\"type\":\"m.room.message\",\"content\":{\"body\":\"ho\"}}".getBytes(StandardCharsets.UTF_8);
        RequestAuthenticator otherUs = new RequestAuthenticator("other.example", ORIGIN_KEYS, InstantSource.system());
        assertThatThrownBy(() -> authenticate("PUT", URI, BODY, header(ORIGIN, US, signature))).isInstanceOf(UnauthorizedException.class);
        assertThatThrownBy(() -> authenticate("POST", URI + "?x", BODY, header(ORIGIN, US, signature))).isInstanceOf(UnauthorizedException.class);
        assertThatThrownBy(() -> authenticate("POST", URI, otherBody, header(ORIGIN, US, signature))).isInstanceOf(UnauthorizedException.class);
        assertThatThrownBy(() -> authenticate("POST", URI, null, header(ORIGIN, US, signature))).isInstanceOf(UnauthorizedException.class);
        assertThatThrownBy(() -> authenticate("POST", URI, BODY, header("evil.example", US, signature)))
                .isInstanceOf(UnauthorizedException.class).hasMessageContaining("any valid key");
        assertThatThrownBy(() -> authenticate("POST", URI, BODY, header(ORIGIN, "other.example", signature)))
                .isInstanceOf(UnauthorizedException.class).hasMessage("Destination mismatch in auth header");
        assertThatThrownBy(() -> RequestAuthenticationProbe.authenticate(otherUs, "POST", URI, BODY, List.of(header(ORIGIN, null, signature))))
                .isInstanceOf(UnauthorizedException.class).hasMessageContaining("Invalid signature");
    }

    @Test
    void theBodyIsParsedOnlyOnceTheOriginsKeyIsInHandAndNeverForARequestNoKnownKeySigned() {
        List<String> steps = new ArrayList<>();
        KeyLookup recording = (server, keyId, minimum, wait) -> {
            steps.add("key of " + server);
            return ORIGIN_KEYS.verifyKey(server, keyId, minimum, wait);
        };
        RequestAuthenticator waiting = new RequestAuthenticator(US, recording, InstantSource.fixed(java.time.Instant.ofEpochMilli(NOW)));
        java.util.function.Supplier<JsonNode> body = () -> {
            steps.add("body parsed");
            return Json.MAPPER.readTree(BODY);
        };

        assertThat(waiting.authenticate("POST", URI, body, List.of(header(ORIGIN, US, signature)), UNHURRIED)).isEqualTo(ORIGIN);
        assertThat(steps).containsExactly("key of " + ORIGIN, "body parsed");

        steps.clear();
        assertThatThrownBy(() -> waiting.authenticate("POST", URI, body, List.of(header("unknown.example", US, signature)), UNHURRIED))
                .isInstanceOf(UnauthorizedException.class).hasMessageContaining("any valid key");
        assertThat(steps).containsExactly("key of unknown.example");
    }

    @Test
    void aRequestSignedWithAKeyWhoseLookupFailsAndAKnownOneIsVerifiedWithTheKnownOneAsInSynapse() {
        KeyLookup backingOffForTheNewKey = (server, keyId, minimum, wait) -> {
            if (keyId.equals("ed25519:new")) {
                throw new UnauthorizedException("Could not fetch key ed25519:new of " + server);
            }
            return ORIGIN_KEYS.verifyKey(server, keyId, minimum, wait);
        };
        RequestAuthenticator authenticating = new RequestAuthenticator(US, backingOffForTheNewKey,
                InstantSource.fixed(java.time.Instant.ofEpochMilli(NOW)));
        String newKeyHeader = new XMatrix(ORIGIN, Optional.of(US), "ed25519:new", signature).toHeader();

        assertThat(RequestAuthenticationProbe.authenticate(authenticating, "POST", URI, BODY,
                List.of(newKeyHeader, header(ORIGIN, US, signature)))).isEqualTo(ORIGIN);
        assertThatThrownBy(() -> RequestAuthenticationProbe.authenticate(authenticating, "POST", URI, BODY, List.of(newKeyHeader)))
                .as("the failing key alone").isInstanceOf(UnauthorizedException.class).hasMessageContaining("Could not fetch key");
        assertThatThrownBy(() -> RequestAuthenticationProbe.authenticate(authenticating, "POST", URI, BODY,
                List.of(newKeyHeader, header(ORIGIN, US, sign(PolicyServerKey.fromSeed(new byte[32]), "POST", URI, ORIGIN, US, BODY)))))
                .as("the known key's signature is still checked").isInstanceOf(UnauthorizedException.class)
                .hasMessageContaining("Invalid signature");
    }

    @Test
    void aSignatureByAnotherKeyIsRefused() {
        PolicyServerKey other = PolicyServerKey.fromSeed(new byte[32]);
        assertThatThrownBy(() -> authenticate("POST", URI, BODY, header(ORIGIN, US, sign(other, "POST", URI, ORIGIN, US, BODY))))
                .isInstanceOf(UnauthorizedException.class).hasMessageContaining("Invalid signature");
    }

    @Test
    void noXMatrixHeaderOrANonEd25519KeyIsRefused() {
        assertThatThrownBy(() -> authenticate("POST", URI, BODY, "Bearer x"))
                .isInstanceOf(UnauthorizedException.class).hasMessage("Missing Authorization headers");
        String rsa = new XMatrix(ORIGIN, Optional.of(US), "rsa:a", signature).toHeader();
        assertThatThrownBy(() -> authenticate("POST", URI, BODY, rsa)).isInstanceOf(UnauthorizedException.class);
    }

    @Test
    void aBodyThatIsNotJsonIsBadJson() {
        assertThatThrownBy(() -> authenticate("POST", URI, "{nope".getBytes(StandardCharsets.UTF_8), header(ORIGIN, US, signature)))
                .isInstanceOf(BadJsonException.class);
    }
}
