package dev.matrixpolicy.gateway.policyserver;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Checking Ed25519 signatures as Matrix publishes them: a raw 32-byte public key and a 64-byte
 * signature, each in base64 that may be unpadded (Matrix's) or padded (the JDK's decoder takes both).
 */
final class Ed25519 {
    /** The DER prefix that turns a raw Ed25519 key into an X.509 SubjectPublicKeyInfo (RFC 8410). */
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
    private static final int KEY_BYTES = 32;
    /**
     * The JDK's keys for the raw keys met lately, by their base64: building one from its encoding
     * cost as much as half a verification in the benchmark (bench/policy-server.md), and the same
     * few homeservers' keys verify request after request.
     */
    private static final Cache<String, PublicKey> PUBLIC_KEYS = Caffeine.newBuilder().maximumSize(10_000).build();

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
        ObjectNode unsigned = ((ObjectNode) signed).deepCopy();
        unsigned.remove("signatures");
        unsigned.remove("unsigned");
        return verify(rawKey, CanonicalJson.encode(unsigned), signature.stringValue());
    }

    /** Whether {@code signatureBase64} is {@code rawKey}'s signature of {@code message}; never throws on bad input. */
    static boolean verify(byte[] rawKey, byte[] message, String signatureBase64) {
        try {
            PublicKey key = PUBLIC_KEYS.get(Base64.getEncoder().encodeToString(rawKey), encoded -> publicKey(rawKey));
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            verifier.update(message);
            return verifier.verify(Base64.getDecoder().decode(signatureBase64));
        } catch (GeneralSecurityException | IllegalArgumentException | ArrayIndexOutOfBoundsException notValid) {
            return false;
        }
    }

    /** The JDK's key for a raw one; {@link IllegalArgumentException} when it is no Ed25519 public key. */
    private static PublicKey publicKey(byte[] rawKey) {
        if (rawKey.length != KEY_BYTES) {
            throw new IllegalArgumentException("An Ed25519 public key has 32 bytes, not " + rawKey.length);
        }
        byte[] spki = new byte[SPKI_PREFIX.length + KEY_BYTES];
        System.arraycopy(SPKI_PREFIX, 0, spki, 0, SPKI_PREFIX.length);
        System.arraycopy(rawKey, 0, spki, SPKI_PREFIX.length, KEY_BYTES);
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
        } catch (GeneralSecurityException notAKey) {
            throw new IllegalArgumentException("Not an Ed25519 public key", notAKey);
        }
    }
}
