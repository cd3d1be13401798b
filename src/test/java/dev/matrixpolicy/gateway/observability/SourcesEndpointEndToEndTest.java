package dev.matrixpolicy.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ConsoleGateway;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * {@code /actuator/sources} over real HTTP (application-console.yml): every entry that reads a list of
 * its own is there, whatever its module type (a policy list's file, a denylist's {@code users-file}, a
 * media hashes file), with what it holds and how its reads went; entries that read nothing are not.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles(ConsoleGateway.PROFILE)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the broken version's failure stays counted
class SourcesEndpointEndToEndTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("listed-joiners: keeping the 2 exact user IDs and 1 globs loaded before");

    @LocalManagementPort
    int managementPort;

    @Value("${console-test.users-file}")
    Path usersFile;

    @DynamicPropertySource
    static void rules(DynamicPropertyRegistry registry) {
        ConsoleGateway.rulesFile(registry);
    }

    @Test
    @Order(1)
    void everyEntryThatReadsAListShowsItsLocationEntriesAndLastGoodRead() throws InterruptedException {
        // the policy list reads its file on a thread of its own: the context can be up before its first read
        awaitSource("/bans/sources/0", source -> source.get("last_success").isString());
        JsonNode sources = sources();

        assertThat(sources.propertyNames()).containsExactly("bans", "listed-joiners", "known-bad-media");
        JsonNode users = sources.at("/listed-joiners/sources/0");
        assertThat(sources.at("/listed-joiners/module").asString()).isEqualTo("user_denylist");
        assertThat(users.get("name").asString()).isEqualTo("users-file");
        assertThat(users.get("kind").asString()).isEqualTo("file");
        assertThat(users.get("location").asString()).isEqualTo(usersFile.toString());
        assertThat(users.at("/entries/exact").longValue()).isEqualTo(2);
        assertThat(users.at("/entries/glob").longValue()).isEqualTo(1);
        assertThat(Instant.parse(users.get("last_success").asString())).isAfter(Instant.now().minus(Duration.ofMinutes(5)));
        assertThat(users.get("last_error").isNull()).isTrue();
        assertThat(users.get("failures").longValue()).isZero();

        JsonNode hashes = sources.at("/known-bad-media/sources/0");
        assertThat(sources.at("/known-bad-media/module").asString()).isEqualTo("content_rules");
        assertThat(hashes.get("name").asString()).isEqualTo("rules[0].media.hashes-file");
        assertThat(hashes.at("/entries/hashes").longValue()).isEqualTo(3);
        assertThat(hashes.get("last_success").isString()).isTrue();

        JsonNode rules = sources.at("/bans/sources/0");
        assertThat(rules.get("name").asString()).isEqualTo("local");
        assertThat(rules.at("/entries/user ban").longValue()).isEqualTo(1);
        assertThat(rules.at("/entries/server ban").longValue()).isEqualTo(1);
    }

    @Test
    @Order(2)
    void aBrokenVersionOfAFileShowsItsErrorWhileTheListInForceStays() throws IOException, InterruptedException {
        String good = Files.readString(usersFile);
        Files.writeString(usersFile, good + "evil.example\n");
        try {
            JsonNode users = awaitUsersFile(source -> source.get("failures").longValue() > 0);
            assertThat(users.get("last_error").asString()).contains(usersFile + " line 4").contains("'evil.example'");
            assertThat(users.at("/entries/exact").longValue()).isEqualTo(2);
        } finally {
            Files.writeString(usersFile, good + "# fixed\n");
        }
        JsonNode fixed = awaitUsersFile(source -> source.get("last_error").isNull());
        assertThat(fixed.get("failures").longValue()).isEqualTo(1);
    }

    private JsonNode awaitUsersFile(Predicate<JsonNode> condition) throws InterruptedException {
        return awaitSource("/listed-joiners/sources/0", condition);
    }

    /** The source at {@code pointer} in {@code /actuator/sources} once it meets {@code condition}, or as it is after 10 s. */
    private JsonNode awaitSource(String pointer, Predicate<JsonNode> condition) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(10);
        while (true) {
            JsonNode source = sources().at(pointer);
            if (condition.test(source) || Instant.now().isAfter(deadline)) {
                return source;
            }
            Thread.sleep(50);
        }
    }

    private JsonNode sources() {
        GatewayClient.Answer answer = new GatewayClient(managementPort, null).get("/actuator/sources");
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        return answer.json();
    }
}
