package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.EventJson;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Base64;
import java.util.Optional;
import org.bouncycastle.math.ec.rfc8032.Ed25519.PublicPoint;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Checking Ed25519 signatures as Matrix publishes them: a raw 32-byte public key and a 64-byte
 * signature, each in base64 that may be unpadded (Matrix's) or padded (the JDK's decoder takes both).
 */
final class Ed25519 {
    private static final int KEY_BYTES = 32;
    private static final int SIGNATURE_BYTES = 64;
    /**
     * The decoded, validated points of the raw keys met lately, by their base64 (empty for a key that
     * is no valid point): the same few homeservers' keys verify request after request.
     */
    private static final Cache<String, Optional<PublicPoint>> PUBLIC_KEYS = Caffeine.newBuilder().maximumSize(10_000)
            .executor(Runnable::run).build();

    private Ed25519() {
    }

    /** The raw key in {@code base64}; {@link IllegalArgumentException} if it is not 32 bytes of base64. */
    static byte[] decodeKey(String base64) {
        byte[] raw = Base64.getDecoder().decode(base64);
        if (raw.length != KEY_BYTES) {
            throw new IllegalArgumentException("An Ed25519 public key has 32 bytes, not " + raw.length);
        }
        return raw;
    }

    /**
     * Whether {@code signed} carries {@code signatures[serverName][keyId]} made by {@code rawKey}
     * over the object without {@code signatures} and {@code unsigned}, in canonical JSON (the spec's
     * "Signing JSON"; signedjson's {@code verify_signed_json}).
     *
     * @throws BadJsonException when {@code signed} is not canonical-JSON-able
     */
    static boolean verifyJson(JsonNode signed, String serverName, String keyId, byte[] rawKey) {
        JsonNode signature = signed.path("signatures").path(serverName).path(keyId);
        if (!signed.isObject() || !signature.isString()) {
            return false;
        }
        ObjectNode unsigned = EventJson.copy((ObjectNode) signed);
        unsigned.remove("signatures");
        unsigned.remove("unsigned");
        return verify(rawKey, CanonicalJson.encode(unsigned), signature.stringValue());
    }

    /**
     * Whether {@code signatureBase64} is {@code rawKey}'s signature of {@code message}; never throws on
     * bad input. RFC 8032 verification by Bouncy Castle (already in the product for password hashing),
     * which took about a sixth of the JDK's time in bench/policy-server.md, on every request the
     * policy server answers. The key is validated fully, as libsodium (Synapse's) does: a key of small
     * order, which signs anything, verifies nothing.
     */
    static boolean verify(byte[] rawKey, byte[] message, String signatureBase64) {
        try {
            byte[] signature = Base64.getDecoder().decode(signatureBase64);
            if (rawKey.length != KEY_BYTES || signature.length != SIGNATURE_BYTES) {
                return false;
            }
            Optional<PublicPoint> key = PUBLIC_KEYS.get(Base64.getEncoder().encodeToString(rawKey),
                    encoded -> Optional.ofNullable(org.bouncycastle.math.ec.rfc8032.Ed25519.validatePublicKeyFullExport(rawKey, 0)));
            return key.isPresent()
                    && org.bouncycastle.math.ec.rfc8032.Ed25519.verify(signature, 0, key.get(), message, 0, message.length);
        } catch (IllegalArgumentException notBase64) {
            return false;
        }
    }
}
