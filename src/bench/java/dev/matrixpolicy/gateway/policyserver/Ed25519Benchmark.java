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
 * {@link PublicKey} made once, and a signature.
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

    @Benchmark
    public String sign() {
        return key.sign(message);
    }
}
