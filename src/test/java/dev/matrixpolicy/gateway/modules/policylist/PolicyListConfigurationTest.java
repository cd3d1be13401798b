package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** The one message that stops startup when a {@code policy_list} entry is wrong. */
class PolicyListConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT, MISSING_FILE);

    private static final String CONFIG = "policy-gateway.modules[0].config.";
    private static final String MISSING_FILE = "Policy list source 'local' could not be read, keeping its last good rules: "
            + "/nonexistent/bans.txt does not exist";
    private static final String FAILURE = "policy-gateway.modules[0] (module: policy_list) config.";

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.policylist"})
    static class Gateway {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=policy_list",
                    "policy-gateway.modules[0].name=bans", CONFIG + "sources[0].name=local", CONFIG + "sources[0].file=/nonexistent/bans.txt");

    @Test
    void aFileThatDoesNotExistYetStartsAndWaitsForIt(CapturedOutput printed) {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            // the source reads on its own thread: its first failure is logged soon after startup, not during it
            await().atMost(Duration.ofSeconds(10)).until(() -> printed.getAll().contains(MISSING_FILE));
        });
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            sources[0].url              | https://example.org/bans  | sources[0]: set exactly one of room, file or url, not 2
            sources[1].name             | other                     | sources[1]: set exactly one of room, file or url
            sources[0].name             | allow                     | sources[0].name: 'allow' names the allow list; choose another name
            sources[0].kinds[0]         | users                     | sources[0].kinds[0]: 'users' is not user, room or server
            sources[0].rooms[0]         | not a room                | sources[0].rooms[0]: 'not a room' is not a valid Matrix room ID
            sources[0].rooms[0]         | #lobby:example.com        | sources[0].rooms[0]: '#lobby:example.com' is not a valid Matrix room ID: expected !opaque:server_name or ! followed by 43 URL-safe base64 characters; callbacks carry room IDs, not aliases
            sources[0].callbacks[0]     | check_media_file_for_spam | sources[0].callbacks[0]: 'check_media_file_for_spam' is not one of
            callbacks[0]                | user_may_send_3pid_invite | callbacks[0]: 'user_may_send_3pid_invite' is not one of
            errcode                     | forbidden                 | errcode: expected a Matrix error code such as M_FORBIDDEN, got 'forbidden'
            allow.users[0]              | sha256:nope               | allow.users[0]: 'sha256:nope' is not sha256:<base64 of a SHA-256>
            allow.users[0]              | partner.example           | allow.users[0]: 'partner.example' can never match: expected a user ID (@user:server, no control characters) or a glob of one
            allow.servers[0]            | @friend:partner.example   | allow.servers[0]: '@friend:partner.example' can never match: expected a server name
            allow.rooms[0]              | partner.example           | allow.rooms[0]: 'partner.example' can never match: expected a room ID
            takedown                    | sometimes                 | takedown
            protected-servers[0]        | @me:example.com           | protected-servers[0]: '@me:example.com' is not a valid Matrix server name
            sources[0].homeserver       | http://synapse:8008       | sources[0].homeserver: only a policy room (room:) is read through a homeserver as a bot; a file source does not use it: remove it
            stale-after                 | 5s                        | stale-after: 5s would call sources[0] stale between two good reads, 5s apart (its check-interval): set stale-after well above that
            """)
    void badValueStopsStartupNamingTheField(String key, String value, String problem) {
        runner.withPropertyValues(CONFIG + key + "=" + value)
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(FAILURE + problem));
    }

    @Test
    void aSourceCallbackOutsideTheModulesCallbacksIsRefused() {
        runner.withPropertyValues(CONFIG + "callbacks[0]=user_may_invite", CONFIG + "sources[0].callbacks[0]=user_may_join_room")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        FAILURE + "sources[0].callbacks[0]: 'user_may_join_room' is not one of [user_may_invite]"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            homeserver=http://synapse:8008                                   | sources[1].access-token-file: a policy room is read as a bot account
            access-token-file=/nonexistent/token                             | sources[1].homeserver: a policy room needs the homeserver's client-server API URL
            homeserver=ftp://synapse                                         | sources[1].homeserver: must be an absolute http or https URL, got scheme 'ftp'
            """)
    void aPolicyRoomNeedsAHomeserverAndABotToken(String setting, String problem) {
        runner.withPropertyValues(CONFIG + "sources[1].name=community", CONFIG + "sources[1].room=#bans:example.org",
                        CONFIG + "sources[1]." + setting)
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(FAILURE + problem));
    }

    @Test
    void aPolicyRoomsMaxSizePastTheLargestReplyIsRefusedInTheWordsOfTheConfigurationNotJavas(@TempDir Path directory) throws Exception {
        Path token = Files.writeString(directory.resolve("token"), "syt_abc\n");
        runner.withPropertyValues(CONFIG + "sources[1].name=community", CONFIG + "sources[1].room=#bans:example.org",
                        CONFIG + "sources[1].homeserver=http://synapse:8008", CONFIG + "sources[1].access-token-file=" + token,
                        CONFIG + "sources[1].max-size=4GB")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        FAILURE + "sources[1].max-size: must be between 1B and 2047MB, not 4096MB"));
    }

    @Test
    void aBotTokenFileWithMoreThanTheTokenIsRefusedNamingTheFileNotTheRoom(@TempDir Path directory) throws Exception {
        Path token = Files.writeString(directory.resolve("token"), "Bearer syt_abc\n");
        runner.withPropertyValues(CONFIG + "sources[1].name=community", CONFIG + "sources[1].room=#bans:example.org",
                        CONFIG + "sources[1].homeserver=http://synapse:8008", CONFIG + "sources[1].access-token-file=" + token)
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        FAILURE + "sources[1].access-token-file: the file must hold the bot's access token alone"));
    }

    @Test
    void aUrlPolledLessOftenThanStaleAfterIsRefused() {
        runner.withPropertyValues(CONFIG + "sources[1].name=community", CONFIG + "sources[1].url=https://example.org/bans",
                        CONFIG + "sources[1].poll-interval=2h")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        FAILURE + "stale-after: 3600s would call sources[1] stale between two good reads, 7200s apart (its poll-interval)"));
    }

    @Test
    void aBotTokenFileThatCannotBeReadIsRefused() {
        runner.withPropertyValues(CONFIG + "sources[1].name=community", CONFIG + "sources[1].room=#bans:example.org",
                        CONFIG + "sources[1].homeserver=http://synapse:8008", CONFIG + "sources[1].access-token-file=/nonexistent/token")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        FAILURE + "sources[1].access-token-file: /nonexistent/token does not exist"));
    }

    @Test
    void twoSourcesOfOneNameAreRefused() {
        runner.withPropertyValues(CONFIG + "sources[1].name=local", CONFIG + "sources[1].url=https://example.org/bans")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        FAILURE + "sources[1].name: 'local' names two sources; names must be unique"));
    }
}
