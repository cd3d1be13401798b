package dev.matrixpolicy.gateway.modules.passwordfile;

import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.BUILDER_BCRYPT;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.WONDERLAND_BCRYPT;
import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@code password_file} over real HTTP: logins, discovery, reloading and metrics (application-passwordfile.yml). */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("passwordfile")
class PasswordFileEndToEndTest {
    private static final String ALICE = "alice:" + WONDERLAND_BCRYPT + "\n";
    private static final Path FILE = createFile();

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    GatewayClient gateway;

    private static Path createFile() {
        try {
            Path file = Files.createTempFile("password-file-test", ".txt");
            file.toFile().deleteOnExit();
            Files.writeString(file, "# written by PasswordFileEndToEndTest\n" + ALICE);
            return file;
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    @DynamicPropertySource
    static void passwordFile(DynamicPropertyRegistry registry) {
        registry.add("password-file-test.path", FILE::toString);
    }

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, "passwordfile-token");
    }

    private Answer login(String user, String loginType, String field, String secret) {
        return gateway.post("/v1/password_auth_provider/check_auth", "{\"user\": \"" + user + "\", \"login_type\": \""
                + loginType + "\", \"login_dict\": {\"" + field + "\": \"" + secret + "\"}}");
    }

    private Answer passwordLogin(String user, String password) {
        return login(user, "m.login.password", "password", password);
    }

    @Test
    void userFromTheFileWithTheRightPasswordGetsTheirFullUserId() {
        Answer answer = passwordLogin("alice", "wonderland");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": \"@alice:example.com\"}"));
    }

    @Test
    void wrongPasswordUnknownUserAndAnotherServersUserAreAllNull() {
        assertThat(passwordLogin("alice", "builder").json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
        assertThat(passwordLogin("mallory", "wonderland").json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
        assertThat(passwordLogin("@alice:example.org", "wonderland").json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
    }

    @Test
    void inlineArgon2idUserLogsInWithTheirFullUserId() {
        assertThat(passwordLogin("@bob:example.com", "builder").json())
                .isEqualTo(GatewayClient.json("{\"result\": \"@bob:example.com\"}"));
    }

    @Test
    void customLoginTypeChecksItsOwnField() {
        assertThat(login("alice", "my.login_type", "my_field", "wonderland").json())
                .isEqualTo(GatewayClient.json("{\"result\": \"@alice:example.com\"}"));
    }

    /**
     * A JSON escape carries half a surrogate pair (Synapse takes it from a client), which no UTF-8 can
     * hold, so no tool ever hashed such a password; argon2id's hashing threw on it, failing the login closed.
     */
    @Test
    void passwordHoldingHalfASurrogatePairIsNoLoginRatherThanAFailedCheck() {
        Answer answer = passwordLogin("bob", "buil\\ud800der");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
    }

    @Test
    void loginWithoutThePasswordFieldIs400MissingParam() {
        Answer answer = login("alice", "m.login.password", "pass", "wonderland");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_MISSING_PARAM");
    }

    @Test
    void discoveryListsBothLoginTypesWithTheirFields() {
        assertThat(gateway.get("/v1/password_auth_provider/auth_checkers").json()).isEqualTo(GatewayClient.json("""
                {"auth_checkers": [{"login_type": "m.login.password", "fields": ["password"]},
                                   {"login_type": "my.login_type", "fields": ["my_field"]}]}"""));
    }

    @Test
    void userAddedToTheFileCanLogInOnceItReloads() throws Exception {
        Files.writeString(FILE, ALICE + "erin:" + BUILDER_BCRYPT + "\n");
        Files.setLastModifiedTime(FILE, FileTime.from(Instant.now().plusSeconds(60)));

        Instant giveUp = Instant.now().plus(Duration.ofSeconds(10));
        while (passwordLogin("erin", "builder").json().get("result").isNull() && Instant.now().isBefore(giveUp)) {
            Thread.sleep(50);
        }

        assertThat(passwordLogin("erin", "builder").json()).isEqualTo(GatewayClient.json("{\"result\": \"@erin:example.com\"}"));
        assertThat(passwordLogin("alice", "wonderland").json().get("result").asString()).isEqualTo("@alice:example.com");
        assertThat(scrape(managementPort)).containsPattern(
                "policy_module_credentials_reloads_total\\{[^}]*module=\"passwords\"[^}]*outcome=\"loaded\"[^}]*} [1-9]");
    }

    @Test
    void credentialsAndDecisionsAppearInPrometheus() {
        passwordLogin("alice", "wonderland");

        assertThat(scrape(managementPort))
                .containsPattern("policy_module_credentials\\{[^}]*module=\"passwords\"[^}]*} [2-9]\\.0")
                .containsPattern("policy_decisions_total\\{[^}]*callback=\"check_auth\"[^}]*module=\"passwords\"[^}]*outcome=\"allow\"[^}]*} [1-9]");
    }
}
