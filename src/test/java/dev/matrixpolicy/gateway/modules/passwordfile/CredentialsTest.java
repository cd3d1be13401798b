package dev.matrixpolicy.gateway.modules.passwordfile;

import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.BUILDER_ARGON2;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.BUILDER_BCRYPT;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.WONDERLAND_ARGON2;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.WONDERLAND_BCRYPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.matrixpolicy.gateway.modules.passwordfile.Credentials.InvalidCredentialsException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Reading the password file and inline users, and choosing the dummy hashes. */
class CredentialsTest {

    @Test
    void fileLinesAreLocalpartColonHashWithCommentsAndBlankLinesSkipped() throws Exception {
        Map<String, PasswordHash> users = Credentials.parseFile(List.of(
                "# the team", "", "alice:" + WONDERLAND_BCRYPT, "   ", "  bob : " + BUILDER_ARGON2 + "  ", "\t# bye"), Hashes.LIMITS);

        assertThat(users).containsOnlyKeys("alice", "bob");
        assertThat(users.get("bob").encoded()).isEqualTo(BUILDER_ARGON2);
    }

    @Test
    void plaintextLineIsRefusedNamingTheLineAndUserButNotThePassword() {
        assertThatExceptionOfType(InvalidCredentialsException.class)
                .isThrownBy(() -> Credentials.parseFile(List.of("# users", "alice:hunter2"), Hashes.LIMITS))
                .withMessageStartingWith("line 2 (user 'alice'): not a bcrypt")
                .withMessageNotContaining("hunter2");
    }

    @Test
    void lineWithoutAColonIsRefusedWithoutRepeatingIt() {
        assertThatExceptionOfType(InvalidCredentialsException.class)
                .isThrownBy(() -> Credentials.parseFile(List.of("alice:" + WONDERLAND_BCRYPT, "hunter2"), Hashes.LIMITS))
                .withMessage("line 2: expected localpart:hash");
    }

    @Test
    void userNameThatIsNotALocalpartIsRefusedWithoutRepeatingIt() {
        assertThatExceptionOfType(InvalidCredentialsException.class)
                .isThrownBy(() -> Credentials.parseFile(List.of("Hunter 2:" + WONDERLAND_BCRYPT), Hashes.LIMITS))
                .withMessageStartingWith("line 1: the user name is not a localpart")
                .withMessageNotContaining("Hunter");
    }

    @Test
    void userDefinedTwiceInTheFileNamesBothLines() {
        assertThatExceptionOfType(InvalidCredentialsException.class)
                .isThrownBy(() -> Credentials.parseFile(List.of("alice:" + WONDERLAND_BCRYPT, "bob:" + BUILDER_BCRYPT,
                        "alice:" + BUILDER_BCRYPT), Hashes.LIMITS))
                .withMessage("line 3: user 'alice' is already defined on line 1");
    }

    @Test
    void inlineUserWithPlaintextIsRefusedNamingTheUser() {
        assertThatExceptionOfType(InvalidCredentialsException.class)
                .isThrownBy(() -> Credentials.parseInline(Map.of("alice", "hunter2"), Hashes.LIMITS))
                .satisfies(refused -> {
                    assertThat(refused.where()).isEqualTo("alice");
                    assertThat(refused.problem()).startsWith("not a bcrypt").doesNotContain("hunter2");
                });
    }

    @Test
    void userDefinedInlineAndInTheFileIsRefused() throws Exception {
        Map<String, PasswordHash> inline = Credentials.parseInline(Map.of("alice", WONDERLAND_BCRYPT), Hashes.LIMITS);
        Map<String, PasswordHash> file = Credentials.parseFile(List.of("alice:" + BUILDER_BCRYPT), Hashes.LIMITS);

        assertThatExceptionOfType(InvalidCredentialsException.class)
                .isThrownBy(() -> Credentials.of(inline, file, Optional.empty(), Argon2Budget.unbounded()))
                .withMessageContaining("user 'alice'").withMessageContaining("defined both");
    }

    @Test
    void thereIsOneDummyPerCostTheUsersHaveAndNoneIsAUsersHash() throws Exception {
        Credentials credentials = Credentials.of(Map.of(), Credentials.parseFile(List.of(
                "alice:" + WONDERLAND_BCRYPT, "bob:" + BUILDER_ARGON2, "carol:" + BUILDER_BCRYPT), Hashes.LIMITS), Optional.empty(), Argon2Budget.unbounded());

        assertThat(credentials.dummies().byCost()).containsOnlyKeys("bcrypt/4", PasswordHash.parse(BUILDER_ARGON2, Hashes.LIMITS).cost());
        assertThat(credentials.users().values()).doesNotContainAnyElementsOf(credentials.dummies().byCost().values());
    }

    @Test
    void knownUserIsCheckedAgainstTheirHashAndAnUnknownOneAgainstTheSameDummyEveryTime() throws Exception {
        Credentials credentials = Credentials.of(Map.of(), Credentials.parseFile(List.of(
                "alice:" + WONDERLAND_BCRYPT, "bob:" + BUILDER_ARGON2), Hashes.LIMITS), Optional.empty(), Argon2Budget.unbounded());

        assertThat(credentials.hashFor("alice").encoded()).isEqualTo(WONDERLAND_BCRYPT);
        assertThat(credentials.hashFor("mallory")).isSameAs(credentials.hashFor("mallory"))
                .isIn(credentials.dummies().byCost().values());
    }

    @Test
    void reloadWithTheSameCostsKeepsTheDummiesAndEachUnknownNamesChoice() throws Exception {
        Credentials before = Credentials.of(Map.of(), Credentials.parseFile(List.of(
                "alice:" + WONDERLAND_BCRYPT, "bob:" + BUILDER_ARGON2), Hashes.LIMITS), Optional.empty(), Argon2Budget.unbounded());
        // bob's password changes, and alice's hash, the first in sorted order, keys the names' draw still
        Credentials after = Credentials.of(Map.of(), Credentials.parseFile(List.of(
                "alice:" + WONDERLAND_BCRYPT, "dave:" + WONDERLAND_ARGON2), Hashes.LIMITS), Optional.of(before), Argon2Budget.unbounded());

        assertThat(after.dummies().byCost()).isEqualTo(before.dummies().byCost());
        for (int i = 0; i < 20; i++) {
            assertThat(after.hashFor("stranger" + i)).isSameAs(before.hashFor("stranger" + i));
        }
    }

    @Test
    void everyReplicaAndEveryRestartDrawsTheSameCostForAnUnknownName() throws Exception {
        List<String> file = List.of("alice:" + WONDERLAND_BCRYPT, "bob:" + BUILDER_ARGON2);
        // two processes reading the same users, as two replicas behind one address or one gateway before and after a restart
        Credentials one = Credentials.of(Map.of(), Credentials.parseFile(file, Hashes.LIMITS), Optional.empty(), Argon2Budget.unbounded());
        Credentials other = Credentials.of(Map.of(), Credentials.parseFile(file, Hashes.LIMITS), Optional.empty(), Argon2Budget.unbounded());

        for (int i = 0; i < 64; i++) {
            assertThat(other.hashFor("stranger" + i).cost()).as("stranger" + i).isEqualTo(one.hashFor("stranger" + i).cost());
        }
    }

    @Test
    void noUsersAtAllStillHaveADummy() throws Exception {
        Credentials credentials = Credentials.of(Map.of(), Map.of(), Optional.empty(), Argon2Budget.unbounded());

        assertThat(credentials.hashFor("anyone").cost()).isEqualTo(PasswordHash.DEFAULT_DUMMY_COST);
    }
}
