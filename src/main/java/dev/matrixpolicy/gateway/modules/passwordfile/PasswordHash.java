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
 * @param scheme    how it was hashed
 * @param encoded   the hash in its usual text form ({@code $2b$12$...}, {@code $argon2id$v=19$...})
 * @param cost      the scheme and the parameters that decide how long a verification takes, e.g.
 *                  {@code bcrypt/12}: hashes with the same cost take the same time to check
 * @param memoryKib the heap a verification holds while it runs: argon2id's {@code m}; 0 for bcrypt,
 *                  whose 4 KiB are nothing beside it
 */
record PasswordHash(Scheme scheme, String encoded, String cost, long memoryKib) {

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
    /**
     * 2^16 rounds take seconds on a server core (Synapse's default is 12, a sixteenth of that); each
     * step up doubles it. A dearer hash is no login anyone waits for, and its dummy, made when a file
     * brings it, would hold a login's thread and every later reload for minutes to days.
     */
    static final int MAX_BCRYPT_COST = 16;
    /**
     * The most argon2id work accepted, memory times passes, in KiB: RFC 9106's first recommended
     * setting (2 GiB, one pass) and its second (64 MiB, three passes) are within it.
     */
    static final long MAX_ARGON2_WORK_KIB = 2L * 1024 * 1024;
    private static final int MIN_ARGON2_SALT_BYTES = 8;
    private static final int MIN_ARGON2_HASH_BYTES = 4;
    private static final SecureRandom RANDOM = new SecureRandom();

    PasswordHash {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(encoded, "encoded");
        Objects.requireNonNull(cost, "cost");
    }

    /**
     * What this process can afford to verify: an argon2id verification holds its {@code m} KiB on the
     * heap while it runs.
     *
     * @param argon2MemoryKib the largest argon2id {@code m} accepted: half the heap, within
     *                        {@link #MAX_ARGON2_WORK_KIB}; verifications running at once share that
     *                        half ({@link PasswordFile} holds them to it)
     * @param heapMib         the heap it was worked out from, for the refusal's message
     */
    record Limits(long argon2MemoryKib, long heapMib) {
        /** For a hash made from one already accepted: a dummy of the same cost. */
        static final Limits ACCEPTED = new Limits(Integer.MAX_VALUE, 0);

        static Limits of(long maxHeapBytes) {
            return new Limits(Math.min(maxHeapBytes / 2 / 1024, MAX_ARGON2_WORK_KIB), maxHeapBytes / (1024 * 1024));
        }

        /** This JVM's heap. */
        static Limits ofThisProcess() {
            return of(Runtime.getRuntime().maxMemory());
        }
    }

    /**
     * Reads a stored hash.
     *
     * @throws IllegalArgumentException when it is not a well-formed bcrypt or argon2id hash, or costs
     *                                  more than {@code limits} allow; the message does not contain the value
     */
    static PasswordHash parse(String value, Limits limits) {
        String hash = value == null ? "" : value.strip();
        if (hash.startsWith("$2a$") || hash.startsWith("$2b$") || hash.startsWith("$2y$")) {
            var bcrypt = BCRYPT.matcher(hash);
            if (!bcrypt.matches()) {
                throw new IllegalArgumentException("malformed bcrypt hash: expected $2b$<cost>$ and 53 characters of salt and hash");
            }
            int cost = Integer.parseInt(bcrypt.group(1));
            if (cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
                throw new IllegalArgumentException("bcrypt cost " + cost + " is outside " + MIN_BCRYPT_COST + ".." + MAX_BCRYPT_COST
                        + (cost > MAX_BCRYPT_COST ? " (each step doubles a login's time; 12 is usual): hash the password again at a lower cost" : ""));
            }
            return new PasswordHash(Scheme.BCRYPT, hash, "bcrypt/" + cost, 0);
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
            if (memory > limits.argon2MemoryKib()) {
                throw new IllegalArgumentException("argon2id m=" + memory + " needs " + memory / 1024 + " MiB of heap to verify, "
                        + "more than half this gateway's heap of " + limits.heapMib() + " MiB: the most it takes is m="
                        + limits.argon2MemoryKib() + "; hash the password again with a smaller m (65536 is usual), "
                        + "or give the gateway more memory");
            }
            if (memory * iterations > MAX_ARGON2_WORK_KIB) {
                throw new IllegalArgumentException("argon2id m=" + memory + ",t=" + iterations + " is more work than a login can "
                        + "wait for (m times t above " + MAX_ARGON2_WORK_KIB + "): hash the password again with fewer passes "
                        + "or less memory (m=65536,t=3 is usual)");
            }
            return new PasswordHash(Scheme.ARGON2ID, hash,
                    "argon2id/m=" + memory + ",t=" + iterations + ",p=" + parallelism + ",salt=" + saltBytes + ",hash=" + hashBytes,
                    memory);
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
        return parse(dummy, Limits.ACCEPTED);
    }

    /** A bcrypt hash of a random password at bcrypt's default cost, for a module that has no users at all. */
    static PasswordHash defaultDummy() {
        return parse(new BCryptPasswordEncoder().encode(randomPassword()), Limits.ACCEPTED);
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
