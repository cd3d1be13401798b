package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.ByteOrderMark;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The policy server's own Ed25519 signing key (MSC4284: not the homeserver's, and not published on
 * {@code /_matrix/key/v2/server}), kept in a file of Synapse's signing-key format: one line {@code
 * ed25519 policy_server <unpadded base64 32-byte seed>}. MSC4284 fixes the key ID to {@value
 * #KEY_ID}, so a file naming another key version (a homeserver's {@code a_xxxx}) is refused.
 *
 * <p>The JDK takes an Ed25519 private key from a seed but cannot derive its public key from one;
 * its key pair generator draws the seed as its first 32 random bytes, so a {@link SecureRandom} that
 * returns the seed yields the matching pair (RFC 8032's test vector 1 holds this in the tests).
 */
public final class PolicyServerKey {
    /** The key ID MSC4284 gives every policy server signature. */
    public static final String KEY_ID = "ed25519:policy_server";

    private static final String ALGORITHM = "ed25519";
    private static final String VERSION = "policy_server";
    private static final int SEED_BYTES = 32;
    private static final Base64.Encoder UNPADDED = Base64.getEncoder().withoutPadding();

    private final byte[] seed;
    private final PrivateKey privateKey;
    private final String publicKey;
    private final byte[] rawPublicKey;

    private PolicyServerKey(byte[] seed) {
        if (seed.length != SEED_BYTES) {
            throw new IllegalArgumentException("An Ed25519 seed has 32 bytes, not " + seed.length);
        }
        this.seed = seed.clone();
        KeyPair pair = pairFrom(this.seed);
        this.privateKey = pair.getPrivate();
        this.rawPublicKey = rawPublicKey((EdECPublicKey) pair.getPublic());
        this.publicKey = UNPADDED.encodeToString(rawPublicKey);
    }

    /** The key with this 32-byte seed. */
    public static PolicyServerKey fromSeed(byte[] seed) {
        return new PolicyServerKey(seed);
    }

    /**
     * Reads a key file ({@code ed25519 policy_server <seed>}; the seed's base64 may be padded or not,
     * as Synapse's reader accepts both).
     *
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException when it does not hold exactly one policy server key
     */
    public static PolicyServerKey load(Path file) throws IOException {
        List<String> lines = ByteOrderMark.dropped(Files.readAllLines(file, StandardCharsets.UTF_8)).stream()
                .map(String::strip).filter(line -> !line.isEmpty()).toList();
        String[] fields = lines.size() == 1 ? lines.getFirst().split("\\s+") : new String[0];
        if (fields.length != 3 || !fields[0].equals(ALGORITHM)) {
            throw new IllegalArgumentException(file + " does not hold one line \"ed25519 " + VERSION + " <base64 seed>\"");
        }
        if (!fields[1].equals(VERSION)) {
            throw new IllegalArgumentException(file + " holds key version \"" + fields[1] + "\"; MSC4284 signs with "
                    + KEY_ID + ", so the file must name version \"" + VERSION + "\" (a policy server has a key of its own)");
        }
        try {
            return new PolicyServerKey(Base64.getDecoder().decode(fields[2]));
        } catch (IllegalArgumentException badSeed) {
            throw new IllegalArgumentException(file + " holds no 32-byte base64 seed: " + badSeed.getMessage(), badSeed);
        }
    }

    /**
     * Generates a key and writes it to a new file readable by its owner only.
     *
     * @throws FileAlreadyExistsException when {@code file} exists: a key in use is never replaced
     */
    public static PolicyServerKey generate(Path file) throws IOException {
        byte[] seed = new byte[SEED_BYTES];
        new SecureRandom().nextBytes(seed);
        PolicyServerKey key = new PolicyServerKey(seed);
        String line = ALGORITHM + " " + VERSION + " " + UNPADDED.encodeToString(seed) + "\n";
        boolean posix = Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView("posix");
        if (posix) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(file);
        }
        Files.writeString(file, line, StandardCharsets.US_ASCII);
        return key;
    }

    /**
     * Whether {@code signature} (base64) is the signature of {@code message} by the Ed25519 public key
     * {@code publicKey} (base64): what a homeserver checks of a policy server's signature. Never
     * throws on bad input.
     */
    public static boolean verifies(String publicKey, byte[] message, String signature) {
        try {
            return Ed25519.verify(Ed25519.decodeKey(publicKey), message, signature);
        } catch (IllegalArgumentException notAKey) {
            return false;
        }
    }

    /** The public key, unpadded base64: the {@code public_key} of the room's {@code m.room.policy}. */
    public String publicKeyBase64() {
        return publicKey;
    }

    /**
     * The Ed25519 signature of {@code message}, unpadded base64. Ed25519 signing is deterministic
     * (RFC 8032), so any correct implementation gives these very bytes; this one is Bouncy Castle's,
     * already in the product for password hashing, with the public key given rather than derived
     * again: it signed about nine times faster than the JDK's in bench/policy-server.md, and signing
     * is half the cost of a new event's {@code /sign}. {@link #signWithTheJdk} is the JDK's, which the
     * tests hold it to.
     */
    public String sign(byte[] message) {
        byte[] signature = new byte[org.bouncycastle.math.ec.rfc8032.Ed25519.SIGNATURE_SIZE];
        org.bouncycastle.math.ec.rfc8032.Ed25519.sign(seed, 0, rawPublicKey, 0, message, 0, message.length, signature, 0);
        return UNPADDED.encodeToString(signature);
    }

    /** The JDK's signature of {@code message}, unpadded base64: what {@link #sign} must equal. */
    String signWithTheJdk(byte[] message) {
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(privateKey);
            signature.update(message);
            return UNPADDED.encodeToString(signature.sign());
        } catch (GeneralSecurityException impossible) {
            throw new IllegalStateException("The JDK's Ed25519 refused its own key", impossible);
        }
    }

    @Override
    public String toString() {
        return "PolicyServerKey[" + KEY_ID + " " + publicKey + "]"; // never the seed
    }

    private static KeyPair pairFrom(byte[] seed) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
            generator.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
                @Override
                public void nextBytes(byte[] bytes) {
                    if (bytes.length != SEED_BYTES) {
                        throw new IllegalStateException("The JDK asked for " + bytes.length + " random bytes, not a seed");
                    }
                    System.arraycopy(seed, 0, bytes, 0, SEED_BYTES);
                }
            });
            return generator.generateKeyPair();
        } catch (GeneralSecurityException impossible) {
            throw new IllegalStateException("The JDK has no Ed25519", impossible);
        }
    }

    /** RFC 8032's encoding: the y coordinate little-endian, the top bit of the last byte x's parity. */
    private static byte[] rawPublicKey(EdECPublicKey key) {
        byte[] bigEndianY = key.getPoint().getY().toByteArray();
        byte[] raw = new byte[SEED_BYTES];
        for (int i = 0; i < raw.length && i < bigEndianY.length; i++) {
            raw[i] = bigEndianY[bigEndianY.length - 1 - i];
        }
        if (key.getPoint().isXOdd()) {
            raw[SEED_BYTES - 1] |= (byte) 0x80;
        }
        return raw;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof PolicyServerKey key && Arrays.equals(seed, key.seed);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(seed);
    }
}
