package dev.matrixpolicy.gateway.hashing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

class Sha256Test {

    @Test
    void hashesAsFipsPublication180Says() {
        assertThat(Sha256.hexOf(new byte[0])).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assertThat(Sha256.hexOf("abc".getBytes(StandardCharsets.US_ASCII)))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void eachDigestStartsFreshWhateverAnotherHoldsSoFar() {
        MessageDigest first = Sha256.digest();
        first.update("half a message".getBytes(StandardCharsets.US_ASCII));
        MessageDigest second = Sha256.digest();
        second.update("abc".getBytes(StandardCharsets.US_ASCII));

        assertThat(second.digest()).isEqualTo(Sha256.of("abc".getBytes(StandardCharsets.US_ASCII)));
    }
}
