package dev.matrixpolicy.gateway.hashing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests, made from a prototype rather than looked up among the security providers each time. */
public final class Sha256 {
    private static final MessageDigest PROTOTYPE = lookUp();

    private Sha256() {
    }

    /** A fresh digest, for content that arrives in parts. */
    public static MessageDigest digest() {
        try {
            return (MessageDigest) PROTOTYPE.clone();
        } catch (CloneNotSupportedException notThisProvider) {
            return lookUp();
        }
    }

    /** The 32 bytes of the SHA-256 of {@code bytes}. */
    public static byte[] of(byte[] bytes) {
        return digest().digest(bytes);
    }

    /** The SHA-256 of {@code bytes} in lower-case hex, 64 characters. */
    public static String hexOf(byte[] bytes) {
        return HexFormat.of().formatHex(of(bytes));
    }

    private static MessageDigest lookUp() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException("every Java runtime has SHA-256", impossible);
        }
    }
}
