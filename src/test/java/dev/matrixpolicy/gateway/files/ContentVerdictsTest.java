package dev.matrixpolicy.gateway.files;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.hashing.Sha256;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The one rule of every list reader for what it made of content it read before. */
class ContentVerdictsTest {
    private static final byte[] GOOD = Sha256.of("@a:example.com\n".getBytes(StandardCharsets.UTF_8));
    private static final byte[] BAD = Sha256.of("not-a-user\n".getBytes(StandardCharsets.UTF_8));

    private final ContentVerdicts verdicts = new ContentVerdicts();

    @Test
    void contentRefusedIsKnownAgainUntilTheListInForceIsPutBack() {
        verdicts.took(GOOD);
        verdicts.refuse(BAD);
        assertThat(verdicts.isRefused(BAD.clone())).isTrue();
        assertThat(verdicts.refusing()).isTrue();

        assertThat(verdicts.isInForce(GOOD.clone())).isTrue();
        assertThat(verdicts.refusing()).isFalse();
        assertThat(verdicts.isRefused(BAD)).as("judged again should it come back").isFalse();
    }

    @Test
    void aFailedReadForgetsTheRefusalSoTheContentIsJudgedAgain() {
        verdicts.took(GOOD);
        verdicts.refuse(BAD);
        verdicts.readFailed();
        assertThat(verdicts.isRefused(BAD)).isFalse();
        assertThat(verdicts.isInForce(GOOD)).as("the content in force stays known").isTrue();
    }

    @Test
    void contentTakenOrStillInForceEndsARefusal() {
        verdicts.refuse(BAD);
        verdicts.stillInForce();
        assertThat(verdicts.refusing()).isFalse();

        verdicts.refuse(BAD);
        verdicts.took(GOOD);
        assertThat(verdicts.refusing()).isFalse();
        assertThat(verdicts.isInForce(GOOD)).isTrue();
    }

    @Test
    void nothingIsInForceOrRefusedBeforeTheFirstContentNorAfterForgetting() {
        assertThat(verdicts.isInForce(new byte[0])).as("no digest is empty").isFalse();
        assertThat(verdicts.isRefused(new byte[0])).isFalse();
        verdicts.took(GOOD);
        verdicts.refuse(BAD);
        verdicts.forget();
        assertThat(verdicts.isInForce(GOOD)).isFalse();
        assertThat(verdicts.isRefused(BAD)).isFalse();
    }
}
