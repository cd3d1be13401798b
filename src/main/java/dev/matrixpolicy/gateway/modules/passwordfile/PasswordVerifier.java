package dev.matrixpolicy.gateway.modules.passwordfile;

/**
 * Checks a password against a stored hash. The seam where tests count verifications, to prove that
 * an unknown user costs one too.
 */
@FunctionalInterface
interface PasswordVerifier {

    /** Spring Security's encoders. A password bcrypt cannot take (over 72 bytes) simply does not match. */
    PasswordVerifier SPRING_SECURITY = (password, hash) -> {
        try {
            return hash.scheme().verifier().matches(password, hash.encoded());
        } catch (IllegalArgumentException tooLong) {
            return false;
        }
    };

    boolean matches(String password, PasswordHash hash);
}
