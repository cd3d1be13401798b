package dev.matrixpolicy.gateway.policyserver;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The JDK's Ed25519 on a request-sized message (~2.3 KiB): {@link Ed25519#verify} as the request
 * check calls it (the raw key turned into a {@link PublicKey} each time), against a verify with a
 * {@link PublicKey} made once, and a signature; and the same with Bouncy Castle's implementation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class Ed25519Benchmark {
    byte[] rawKey;
    PublicKey publicKey;
    byte[] message;
    String signature;
    PolicyServerKey key;
    byte[] seed = new byte[32];

    @Setup
    public void setUp() throws GeneralSecurityException {
        key = PolicyServerKey.fromSeed(new byte[32]);
        rawKey = Ed25519.decodeKey(key.publicKeyBase64());
        publicKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(
                HexFormat.of().parseHex("302a300506032b6570032100" + HexFormat.of().formatHex(rawKey))));
        message = "x".repeat(2300).getBytes();
        signature = key.sign(message);
    }

    @Benchmark
    public boolean verifyFromRawKey() {
        return Ed25519.verify(rawKey, message, signature);
    }

    @Benchmark
    public boolean verifyWithPublicKey() throws GeneralSecurityException {
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(publicKey);
        verifier.update(message);
        return verifier.verify(Base64.getDecoder().decode(signature));
    }

    /** Bouncy Castle's RFC 8032 code (a dependency already, for argon2), for comparison. */
    @Benchmark
    public boolean verifyBouncyCastle() {
        return org.bouncycastle.math.ec.rfc8032.Ed25519.verify(Base64.getDecoder().decode(signature), 0, rawKey, 0,
                message, 0, message.length);
    }

    @Benchmark
    public byte[] signBouncyCastle() {
        byte[] out = new byte[64];
        org.bouncycastle.math.ec.rfc8032.Ed25519.sign(seed, 0, message, 0, message.length, out, 0);
        return out;
    }

    @Benchmark
    public String sign() {
        return key.sign(message);
    }
}
