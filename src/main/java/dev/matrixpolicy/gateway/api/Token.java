package dev.matrixpolicy.gateway.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * A configured token, compared in constant time. {@link MessageDigest#isEqual} takes a time that
 * depends only on the length of its first argument, always this token, so a candidate learns
 * nothing from timing.
 */
final class Token {
    private final byte[] bytes;

    Token(String token) {
        this.bytes = token.getBytes(StandardCharsets.UTF_8);
    }

    boolean matches(String candidate) {
        return MessageDigest.isEqual(bytes, candidate.getBytes(StandardCharsets.UTF_8));
    }
}
