package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyServerKeyTest {
    private static final HexFormat HEX = HexFormat.of();
    /** RFC 8032, section 7.1, TEST 1. */
    private static final byte[] RFC8032_SEED = HEX.parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static final String RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    private static final String RFC8032_EMPTY_MESSAGE_SIGNATURE = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
            + "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    @TempDir
    Path folder;

    @Test
    void derivesThePublicKeyAndSignatureOfRfc8032TestVector1FromItsSeed() {
        PolicyServerKey key = PolicyServerKey.fromSeed(RFC8032_SEED);
        assertThat(HEX.formatHex(Base64.getDecoder().decode(key.publicKeyBase64()))).isEqualTo(RFC8032_PUBLIC);
        assertThat(HEX.formatHex(Base64.getDecoder().decode(key.sign(new byte[0])))).isEqualTo(RFC8032_EMPTY_MESSAGE_SIGNATURE);
        assertThat(key.publicKeyBase64()).doesNotEndWith("=");
    }

    @Test
    void signsExactlyAsTheJdkDoesForAnyKeyAndMessage() {
        java.util.Random random = new java.util.Random(4284);
        for (int i = 0; i < 200; i++) {
            byte[] seed = new byte[32];
            random.nextBytes(seed);
            byte[] message = new byte[random.nextInt(3000)];
            random.nextBytes(message);
            PolicyServerKey key = PolicyServerKey.fromSeed(seed);
            assertThat(key.sign(message)).as("seed %d", i).isEqualTo(key.signWithTheJdk(message));
        }
    }

    @Test
    void verificationRefusesTamperingAKeyOfSmallOrderAndMalformedInput() {
        PolicyServerKey key = PolicyServerKey.fromSeed(new byte[32]);
        byte[] message = "{\"a\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String signature = key.sign(message);
        byte[] identity = new byte[32];
        identity[0] = 1; // the neutral point: of order 1, it would "verify" a suitably made signature of anything
        String smallOrder = Base64.getEncoder().withoutPadding().encodeToString(identity);

        assertThat(PolicyServerKey.verifies(key.publicKeyBase64(), message, signature)).isTrue();
        assertThat(PolicyServerKey.verifies(key.publicKeyBase64(), "{\"a\":2}".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                signature)).isFalse();
        assertThat(PolicyServerKey.verifies(smallOrder, message, signature)).isFalse();
        assertThat(PolicyServerKey.verifies(key.publicKeyBase64(), message, signature.substring(0, 40))).isFalse();
        assertThat(PolicyServerKey.verifies(key.publicKeyBase64(), message, "not base64!")).isFalse();
        assertThat(PolicyServerKey.verifies("short", message, signature)).isFalse();
    }

    @Test
    void aSignatureVerifiesWithThePublicKeyAlone() throws Exception {
        PolicyServerKey key = PolicyServerKey.generate(folder.resolve("key"));
        byte[] message = "{\"type\":\"m.room.message\"}".getBytes();
        // X.509 SubjectPublicKeyInfo for Ed25519: a fixed 12-byte prefix and the raw key
        byte[] spki = HEX.parseHex("302a300506032b6570032100" + HEX.formatHex(Base64.getDecoder().decode(key.publicKeyBase64())));
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki)));
        verifier.update(message);
        assertThat(verifier.verify(Base64.getDecoder().decode(key.sign(message)))).isTrue();
    }

    @Test
    void generatesAnOwnerOnlyFileInSynapsesFormatThatLoadsAsTheSameKey() throws Exception {
        Path file = folder.resolve("policy_server.key");
        PolicyServerKey generated = PolicyServerKey.generate(file);
        assertThat(Files.readString(file)).matches("ed25519 policy_server [A-Za-z0-9+/]{43}\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PolicyServerKey.load(file)).isEqualTo(generated);
        assertThat(PolicyServerKey.load(file).publicKeyBase64()).isEqualTo(generated.publicKeyBase64());
    }

    @Test
    void neverOverwritesAnExistingFile() throws Exception {
        Path file = Files.writeString(folder.resolve("key"), "ed25519 policy_server old\n");
        assertThatThrownBy(() -> PolicyServerKey.generate(file)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(file)).isEqualTo("ed25519 policy_server old\n");
    }

    @Test
    void loadsAPaddedSeedAndIgnoresBlankLines() throws Exception {
        String padded = Base64.getEncoder().encodeToString(RFC8032_SEED);
        Path file = Files.writeString(folder.resolve("key"), "\ned25519 policy_server " + padded + "\n\n");
        assertThat(PolicyServerKey.load(file)).isEqualTo(PolicyServerKey.fromSeed(RFC8032_SEED));
    }

    @Test
    void refusesAHomeserverKeyVersionAndMalformedFiles() throws Exception {
        String seed = Base64.getEncoder().withoutPadding().encodeToString(RFC8032_SEED);
        assertThatThrownBy(() -> PolicyServerKey.load(Files.writeString(folder.resolve("hs"), "ed25519 a_AbCd " + seed)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ed25519:policy_server");
        assertThatThrownBy(() -> PolicyServerKey.load(Files.writeString(folder.resolve("two"),
                "ed25519 policy_server " + seed + "\ned25519 policy_server " + seed)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one line");
        assertThatThrownBy(() -> PolicyServerKey.load(Files.writeString(folder.resolve("short"), "ed25519 policy_server AAAA")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32");
    }

    @Test
    void neverShowsTheSeed() {
        PolicyServerKey key = PolicyServerKey.fromSeed(RFC8032_SEED);
        assertThat(key.toString()).contains(key.publicKeyBase64())
                .doesNotContain(Base64.getEncoder().withoutPadding().encodeToString(RFC8032_SEED));
    }
}
