package dev.matrixpolicy.gateway.modules.passwordfile;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import java.util.regex.Pattern;
import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.password.PasswordEncoder;

/**
 * A stored password hash in one of the two schemes this module accepts, bcrypt and argon2id, checked
 * for well-formedness when it is read. Nothing else is accepted: no plaintext, no fast hashes. Error
 * messages never repeat the value, which may be a password written where a hash belongs.
 *
 * @param scheme  how it was hashed
 * @param encoded the hash in its usual text form ({@code $2b$12$...}, {@code $argon2id$v=19$...})
 * @param cost    the scheme and the parameters that decide how long a verification takes, e.g.
 *                {@code bcrypt/12}: hashes with the same cost take the same time to check
 */
record PasswordHash(Scheme scheme, String encoded, String cost) {

    /** A supported hashing scheme, recognised by its prefix, and verified with Spring Security. */
    enum Scheme {
        BCRYPT(new BCryptPasswordEncoder()),
        // Verification reads every parameter from the hash; the encoder's own defaults only matter for encoding.
        ARGON2ID(Argon2PasswordEncoder.defaultsForSpringSecurity_v5_8());

        private final PasswordEncoder verifier;

        Scheme(PasswordEncoder verifier) {
            this.verifier = verifier;
        }

        PasswordEncoder verifier() {
            return verifier;
        }
    }

    /** The cost of {@link #defaultDummy()}: bcrypt's default. */
    static final String DEFAULT_DUMMY_COST = "bcrypt/10";

    static final String ACCEPTED = "a bcrypt ($2a$, $2b$, $2y$) or argon2id ($argon2id$) hash";

    private static final Pattern BCRYPT = Pattern.compile("\\$2[aby]\\$(\\d\\d)\\$[./A-Za-z0-9]{53}");
    private static final Pattern ARGON2ID = Pattern.compile(
            "\\$argon2id\\$v=(?:16|19)\\$m=(\\d{1,10}),t=(\\d{1,10}),p=(\\d{1,3})\\$([A-Za-z0-9+/]+)\\$([A-Za-z0-9+/]+)");
    private static final int MIN_BCRYPT_COST = 4;
    private static final int MAX_BCRYPT_COST = 31;
    private static final int MIN_ARGON2_SALT_BYTES = 8;
    private static final int MIN_ARGON2_HASH_BYTES = 4;
    private static final SecureRandom RANDOM = new SecureRandom();

    PasswordHash {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(encoded, "encoded");
        Objects.requireNonNull(cost, "cost");
    }

    /**
     * Reads a stored hash.
     *
     * @throws IllegalArgumentException when it is not a well-formed bcrypt or argon2id hash; the
     *                                  message does not contain the value
     */
    static PasswordHash parse(String value) {
        String hash = value == null ? "" : value.strip();
        if (hash.startsWith("$2a$") || hash.startsWith("$2b$") || hash.startsWith("$2y$")) {
            var bcrypt = BCRYPT.matcher(hash);
            if (!bcrypt.matches()) {
                throw new IllegalArgumentException("malformed bcrypt hash: expected $2b$<cost>$ and 53 characters of salt and hash");
            }
            int cost = Integer.parseInt(bcrypt.group(1));
            if (cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
                throw new IllegalArgumentException("bcrypt cost " + cost + " is outside " + MIN_BCRYPT_COST + ".." + MAX_BCRYPT_COST);
            }
            return new PasswordHash(Scheme.BCRYPT, hash, "bcrypt/" + cost);
        }
        if (hash.startsWith("$argon2id$")) {
            var argon2 = ARGON2ID.matcher(hash);
            if (!argon2.matches()) {
                throw new IllegalArgumentException("malformed argon2id hash: expected $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>");
            }
            int saltBytes = base64Length(argon2.group(4), "salt");
            int hashBytes = base64Length(argon2.group(5), "hash");
            if (saltBytes < MIN_ARGON2_SALT_BYTES || hashBytes < MIN_ARGON2_HASH_BYTES) {
                throw new IllegalArgumentException("argon2id salt or hash too short");
            }
            long memory = Long.parseLong(argon2.group(1));
            long iterations = Long.parseLong(argon2.group(2));
            int parallelism = Integer.parseInt(argon2.group(3));
            if (memory < 8L * parallelism || memory > Integer.MAX_VALUE || iterations < 1 || iterations > Integer.MAX_VALUE
                    || parallelism < 1) {
                throw new IllegalArgumentException("argon2id parameters out of range");
            }
            return new PasswordHash(Scheme.ARGON2ID, hash,
                    "argon2id/m=" + memory + ",t=" + iterations + ",p=" + parallelism + ",salt=" + saltBytes + ",hash=" + hashBytes);
        }
        throw new IllegalArgumentException("not " + ACCEPTED + "; plaintext passwords and other schemes are refused");
    }

    /**
     * A hash of a random password with the same scheme and cost: what an unknown user's login is
     * checked against, so that it takes as long as a known user's.
     */
    PasswordHash dummy() {
        String password = randomPassword();
        String dummy = switch (scheme) {
            case BCRYPT -> new BCryptPasswordEncoder(BCryptPasswordEncoder.BCryptVersion.$2B,
                    Integer.parseInt(cost.substring("bcrypt/".length()))).encode(password);
            case ARGON2ID -> {
                var argon2 = ARGON2ID.matcher(encoded);
                if (!argon2.matches()) {
                    throw new IllegalStateException("checked when parsed");
                }
                yield new Argon2PasswordEncoder(base64Length(argon2.group(4), "salt"), base64Length(argon2.group(5), "hash"),
                        Integer.parseInt(argon2.group(3)), Integer.parseInt(argon2.group(1)), Integer.parseInt(argon2.group(2)))
                        .encode(password);
            }
        };
        return parse(dummy);
    }

    /** A bcrypt hash of a random password at bcrypt's default cost, for a module that has no users at all. */
    static PasswordHash defaultDummy() {
        return parse(new BCryptPasswordEncoder().encode(randomPassword()));
    }

    /** Never prints the hash itself: hashes stay out of logs. */
    @Override
    public String toString() {
        return "PasswordHash[" + cost + "]";
    }

    private static int base64Length(String value, String part) {
        try {
            return Base64.getDecoder().decode(value).length;
        } catch (IllegalArgumentException malformed) {
            throw new IllegalArgumentException("malformed argon2id " + part + ": not base64");
        }
    }

    private static String randomPassword() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getEncoder().encodeToString(bytes);
    }
}
