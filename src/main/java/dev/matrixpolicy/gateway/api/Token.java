package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * A configured token, compared in constant time: one token per line of the configured text, any of
 * which is accepted, so that a token can be rotated with no caller refused (the new one added, the
 * callers moved over, the old one removed). {@link MessageDigest#isEqual} takes a time that depends
 * only on the length of its first argument, always a configured token, and every token is compared,
 * so a candidate learns nothing from timing.
 */
final class Token {
    private final List<byte[]> accepted;

    Token(String configured) {
        this.accepted = PolicyGatewayProperties.tokens(configured).stream()
                .map(token -> token.getBytes(StandardCharsets.UTF_8)).toList();
    }

    boolean matches(String candidate) {
        byte[] presented = candidate.getBytes(StandardCharsets.UTF_8);
        boolean matches = false;
        for (byte[] token : accepted) {
            matches |= MessageDigest.isEqual(token, presented);
        }
        return matches;
    }
}
