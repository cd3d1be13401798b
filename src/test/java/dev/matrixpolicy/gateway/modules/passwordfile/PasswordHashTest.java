package dev.matrixpolicy.gateway.modules.passwordfile;

import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.BUILDER_ARGON2;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.WONDERLAND_BCRYPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.matrixpolicy.gateway.modules.passwordfile.PasswordHash.Scheme;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;

/** Which stored hashes are accepted, and that refusals never repeat the value. */
class PasswordHashTest {

    @ParameterizedTest
    @ValueSource(strings = {"$2a$", "$2b$", "$2y$"})
    void bcryptIsRecognisedByEachOfItsPrefixes(String prefix) {
        PasswordHash hash = PasswordHash.parse(prefix + WONDERLAND_BCRYPT.substring(4), Hashes.LIMITS);

        assertThat(hash.scheme()).isEqualTo(Scheme.BCRYPT);
        assertThat(hash.cost()).isEqualTo("bcrypt/4");
        assertThat(PasswordVerifier.SPRING_SECURITY.matches("wonderland", hash)).isTrue();
    }

    @Test
    void argon2idIsRecognisedWithItsParameters() {
        PasswordHash hash = PasswordHash.parse(BUILDER_ARGON2, Hashes.LIMITS);

        assertThat(hash.scheme()).isEqualTo(Scheme.ARGON2ID);
        assertThat(hash.cost()).isEqualTo("argon2id/m=64,t=1,p=1,salt=16,hash=32");
        assertThat(PasswordVerifier.SPRING_SECURITY.matches("builder", hash)).isTrue();
        assertThat(PasswordVerifier.SPRING_SECURITY.matches("wonderland", hash)).isFalse();
    }

    private static final String ARGON2_TAIL = "$afwAmKZv+KFXb/bvTv0SSw$cdWYd3WN3X5oXYXRvvHP3JUid9DZTMlEbUqaMp1tGzA";

    @Test
    void hashesNoLoginCouldWaitForAreRefusedNamingTheCostAndWhatToDo() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PasswordHash.parse("$2b$17$" + WONDERLAND_BCRYPT.substring(7), Hashes.LIMITS))
                .withMessage("bcrypt cost 17 is outside 4..16 (each step doubles a login's time; 12 is usual): "
                        + "hash the password again at a lower cost");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PasswordHash.parse("$2b$31$" + WONDERLAND_BCRYPT.substring(7), Hashes.LIMITS))
                .withMessageStartingWith("bcrypt cost 31 is outside 4..16");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PasswordHash.parse("$argon2id$v=19$m=262144,t=9,p=1" + ARGON2_TAIL, Hashes.LIMITS))
                .withMessageStartingWith("argon2id m=262144,t=9 is more work than a login can wait for (m times t above 2097152)");
    }

    @Test
    void argon2idNeedingMoreThanHalfTheHeapToVerifyIsRefusedNamingTheLargestItTakes() {
        // 1 GiB of heap: one verification may have half of it
        assertThat(PasswordHash.parse("$argon2id$v=19$m=524288,t=3,p=4" + ARGON2_TAIL, Hashes.LIMITS).memoryKib())
                .isEqualTo(524288);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PasswordHash.parse("$argon2id$v=19$m=524289,t=1,p=1" + ARGON2_TAIL, Hashes.LIMITS))
                .withMessage("argon2id m=524289 needs 512 MiB of heap to verify, more than half this gateway's heap of "
                        + "1024 MiB: the most it takes is m=524288; hash the password again with a smaller m (65536 is usual), "
                        + "or give the gateway more memory");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> PasswordHash.parse("$argon2id$v=19$m=2147483647,t=1,p=1" + ARGON2_TAIL,
                        PasswordHash.Limits.of(64L << 30)))
                .as("however large the heap").withMessageContaining("the most it takes is m=2097152");
    }

    @Test
    void theUsualHashesFitTheChartsDefaultHeap() {
        // the chart's default: a 512 MiB memory limit, 60% of it for the heap
        PasswordHash.Limits chart = PasswordHash.Limits.of(307L << 20);
        assertThat(PasswordHash.parse("$argon2id$v=19$m=65536,t=3,p=4" + ARGON2_TAIL, chart).cost()).startsWith("argon2id/m=65536,t=3");
        assertThat(PasswordHash.parse("$2b$12$" + WONDERLAND_BCRYPT.substring(7), chart).cost()).isEqualTo("bcrypt/12");
    }

    @ParameterizedTest
    @ValueSource(strings = {"hunter2", "{noop}hunter2", "$1$saltsalt$hunter2hunter2hunter22", "{SHA}hunter2hunter2hunter2=",
            "$argon2i$v=19$m=64,t=1,p=1$afwAmKZv+KFXb/bvTv0SSw$hunter2hunter2", "$5$rounds=5000$hunter2$x", ""})
    void plaintextAndOtherSchemesAreRefusedWithoutRepeatingTheValue(String value) {
        assertThatIllegalArgumentException().isThrownBy(() -> PasswordHash.parse(value, Hashes.LIMITS))
                .withMessageContaining("not a bcrypt ($2a$, $2b$, $2y$) or argon2id ($argon2id$) hash")
                .withMessageNotContaining("hunter2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"$2b$04$hunter2", "$2b$4$bVxgsC1beU3YqMsPWx.bJOU8Rlm9r1n4y6Lbn3Ah2yK/hrdLBxOMW",
            "$2b$03$bVxgsC1beU3YqMsPWx.bJOU8Rlm9r1n4y6Lbn3Ah2yK/hrdLBxOMW",
            "$argon2id$v=19$m=64,t=1,p=1$hunter2",
            "$argon2id$v=19$m=64,t=1,p=1$afwA$cdWYd3WN3X5oXYXRvvHP3JUid9DZTMlEbUqaMp1tGzA",
            "$argon2id$v=19$m=4,t=1,p=1$afwAmKZv+KFXb/bvTv0SSw$cdWYd3WN3X5oXYXRvvHP3JUid9DZTMlEbUqaMp1tGzA"})
    void malformedHashesOfAKnownSchemeAreRefusedWithoutRepeatingTheValue(String value) {
        assertThatIllegalArgumentException().isThrownBy(() -> PasswordHash.parse(value, Hashes.LIMITS))
                .satisfies(refused -> assertThat(refused.getMessage()).doesNotContain("hunter2").doesNotContain(value));
    }

    @Test
    void dummyHasTheSameSchemeAndCostAndMatchesNoKnownPassword() {
        for (String stored : new String[] {WONDERLAND_BCRYPT, BUILDER_ARGON2}) {
            PasswordHash hash = PasswordHash.parse(stored, Hashes.LIMITS);
            PasswordHash dummy = hash.dummy();

            assertThat(dummy.scheme()).isEqualTo(hash.scheme());
            assertThat(dummy.cost()).isEqualTo(hash.cost());
            assertThat(dummy.encoded()).isNotEqualTo(hash.encoded());
            assertThat(PasswordVerifier.SPRING_SECURITY.matches("wonderland", dummy)).isFalse();
            assertThat(PasswordVerifier.SPRING_SECURITY.matches("builder", dummy)).isFalse();
        }
    }

    @Test
    void passwordLongerThan72BytesIsCheckedByItsFirst72AsBcryptAlwaysHas() {
        // 25 CJK characters, 75 bytes: what htpasswd -B or Synapse's bcrypt before 5.0 hashed is the first 72
        String passphrase = "\u5bc6".repeat(25);
        PasswordHash hashOfFirst72Bytes = PasswordHash.parse(new BCryptPasswordEncoder(4).encode("\u5bc6".repeat(24)), Hashes.LIMITS);

        assertThat(PasswordVerifier.SPRING_SECURITY.matches(passphrase, hashOfFirst72Bytes)).isTrue();
        assertThat(PasswordVerifier.SPRING_SECURITY.matches("wonderland" + "x".repeat(80), PasswordHash.parse(WONDERLAND_BCRYPT, Hashes.LIMITS)))
                .isFalse();
    }

    @Test
    void toStringShowsTheCostButNotTheHash() {
        assertThat(PasswordHash.parse(WONDERLAND_BCRYPT, Hashes.LIMITS).toString()).isEqualTo("PasswordHash[bcrypt/4]");
    }
}
