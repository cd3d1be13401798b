package dev.matrixpolicy.gateway.modules.passwordfile;

/**
 * Checks a password against a stored hash. The seam where tests count verifications, to prove that
 * an unknown user costs one too.
 */
@FunctionalInterface
interface PasswordVerifier {

    /**
     * Spring Security's encoders. bcrypt checks the first 72 bytes of a password and ignores the rest,
     * as every bcrypt does, so hashes made by tools that cut longer passwords there still match; a
     * check the encoder refuses simply does not match.
     */
    PasswordVerifier SPRING_SECURITY = (password, hash) -> {
        try {
            return hash.scheme().verifier().matches(password, hash.encoded());
        } catch (IllegalArgumentException refused) {
            return false;
        }
    };

    boolean matches(String password, PasswordHash hash);
}
