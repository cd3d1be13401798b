package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.NamedPipe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;

/**
 * A real startup with a bad configuration prints one screen (the analysis, under Spring Boot's
 * banner and first log lines), not a wall of stack traces.
 */
@ExtendWith(ExpectedOutput.class)
class StartupFailureReportTest {

    @TempDir
    Path directory;

    /** A terminal's screen: the banner, Boot's first log lines and the analysis fit in it. */
    private static final int SCREEN = 50;

    @Test
    void badModuleEntryStopsStartupWithOneMessageNamingPositionTypeAndField(CapturedOutput output) {
        String screen = failedStartup("startup-failure", output);

        assertThat(screen).contains("entry: policy-gateway.modules[0] (module: static)")
                .contains("field: config.results.user_may_create_room")
                .contains("problem: expected NOT_SPAM or a Matrix error code such as M_FORBIDDEN, got 'sometimes'");
    }

    @Test
    void aRefusedStartupWithItsWebServersSaysWhyOnceInTheReportNotInJavasWordsBeforeIt(CapturedOutput output) {
        SpringApplicationBuilder application = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                .web(WebApplicationType.SERVLET);

        assertThatThrownBy(() -> application.run(asAnAdministratorSeesIt("--spring.config.additional-location=classpath:/startup-failure.yml",
                "--server.port=0", "--management.server.port=0"))).isNotNull();

        String printed = output.getOut() + output.getErr();
        assertThat(printed).contains("APPLICATION FAILED TO START").contains("entry: policy-gateway.modules[0] (module: static)")
                .doesNotContain("\tat ").doesNotContain("Error starting Tomcat context")
                .doesNotContain("cancelling refresh attempt").doesNotContain("Exception").doesNotContain("condition evaluation report");
        assertThat(printed.lines().count()).as("lines printed:%n%s", printed).isLessThan(SCREEN);
    }

    @Test
    void unknownKeyStopsStartupWithOneScreenNamingTheKeyItsFileAndTheClosestKnownKey(CapturedOutput output) {
        String screen = failedStartup("startup-unknown-key", output);

        assertThat(screen).contains("key: policy-gateway.modlues")
                .containsPattern("file: .*startup-unknown-key.yml, line 5, column 15")
                .contains("problem: unknown key; the keys of policy-gateway are server-name, auth, admin, decision-log, defaults, max-body-size, modules")
                .contains("Did you mean policy-gateway.modules?");
    }

    /** Spring Boot passes over a key it does not read: a misspelt root would serve the packaged demo chain. */
    @Test
    void keysSpringBootDoesNotReadStopStartupEachNamedWithItsLineAndTheClosestKnownKey(CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gatway:
                  server-name: example.com
                sever:
                  port: 8080
                management:
                  endpoints:
                    web:
                      exposur:
                        include: health
                spring:
                  resources:
                    add-mappings: false
                """);

        assertThat(screen).contains("Unknown configuration key:")
                .contains("key: policy-gatway").containsPattern("file: .*gateway.yml, line 2, column")
                .contains("problem: unknown key; neither the gateway (policy-gateway) nor Spring Boot (debug, info, logging, management, server, spring, trace) reads it")
                .contains("Did you mean policy-gateway?")
                .contains("key: sever").contains("Did you mean server?")
                .contains("key: management.endpoints.web.exposur").containsPattern("line 9, column")
                .contains("problem: unknown key; Spring Boot reads no exposur under management.endpoints.web")
                .contains("Did you mean management.endpoints.web.exposure?")
                .contains("key: spring.resources.add-mappings").contains("problem: Spring Boot no longer reads spring.resources.add-mappings")
                .contains("Write spring.web.resources.add-mappings instead of spring.resources.add-mappings.");
    }

    @Test
    void invalidValueStopsStartupWithOneScreenInTheWordsOfTheConfigurationFile(CapturedOutput output) {
        String screen = failedStartup("startup-invalid-value", output);

        assertThat(screen).contains("key: policy-gateway.defaults.on-failure")
                .contains("value: 'fail-sometimes'")
                .containsPattern("file: .*startup-invalid-value.yml, line 5, column 17")
                .contains("problem: expected one of fail-closed, fail-open")
                .doesNotContain("FailurePolicy").doesNotContain("FAIL_CLOSED");
    }

    @Test
    void emptyTokenFileStopsStartupWithOneScreenNamingTheKeyTheFileAndTheFix(CapturedOutput output) throws IOException {
        Path token = Files.writeString(directory.resolve("token"), "\n");
        Path config = configWithTokenFile(token);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("key: policy-gateway.auth.token-file")
                .contains("value: '" + token + "'")
                .contains("file: " + config + ", line 4, column 17")
                .contains("problem: the token file is empty")
                .contains("Write the shared token (the one the homeserver's module sends) into " + token);
    }

    @Test
    void missingTokenFileStopsStartupWithOneScreenNamingTheKeyTheFileAndTheFix(CapturedOutput output) throws IOException {
        Path token = directory.resolve("no-such-token");
        Path config = configWithTokenFile(token);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("key: policy-gateway.auth.token-file")
                .contains("value: '" + token + "'")
                .contains("file: " + config + ", line 4, column 17")
                .contains("problem: the token file does not exist");
    }

    @Test
    void adminTokenEqualToTheHomeserversTokenStopsStartupNamingBothKeys(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                  auth:
                    token: same-secret
                  admin:
                    token: same-secret
                """);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("key: policy-gateway.admin.token")
                .contains("file: " + config + ", line 6, column 12")
                .contains("problem: the admin token equals the homeserver's token (policy-gateway.auth.token or token-file)")
                .doesNotContain("same-secret");
    }

    @Test
    void anAdminTokenThatIsOneOfTheHomeserversTokensStopsStartup(CapturedOutput output) throws IOException {
        Path shared = Files.writeString(directory.resolve("shared"), "new-shared-token\nold-shared-token\n");
        Path config = Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                  auth:
                    token-file: %s
                  admin:
                    token: old-shared-token
                """.formatted(shared));

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("key: policy-gateway.admin.token")
                .contains("problem: the admin token equals the homeserver's token (policy-gateway.auth.token or token-file)")
                .doesNotContain("old-shared-token");
    }

    @Test
    void malformedYamlStopsStartupWithOneScreenNamingTheFileTheLineAndTheFix(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                   modules:
                  - module: static
                """);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("Malformed configuration file")
                .contains("file: " + config + ", line 3, column 11")
                .contains("problem: mapping values are not allowed here")
                .contains("Correct the YAML at line 3 of " + config);
    }

    @Test
    void malformedYamlIsReportedWithoutTheLineWhichMayHoldASecret(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                  admin:
                	token: Sup3rS3cretAdminT0ken
                """);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("Malformed configuration file").contains("file: " + config + ", line 4")
                .doesNotContain("Sup3rS3cret");
    }

    @Test
    void aFileWhoseAliasesWouldExpandItPastTheHeapStopsStartupSayingSo(CapturedOutput output) throws IOException {
        StringBuilder bomb = new StringBuilder("policy-gateway:\n  server-name: example.com\nbomb:\n  l0: &l0 [x, x]\n");
        for (int level = 1; level <= 24; level++) {
            bomb.append("  l").append(level).append(": &l").append(level).append(" [*l").append(level - 1)
                    .append(", *l").append(level - 1).append("]\n");
        }
        Path config = Files.writeString(directory.resolve("gateway.yml"), bomb);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("Configuration file too large once its aliases are expanded").contains("file: " + config)
                .containsPattern("expand it to [0-9]{9} values").contains("at most 100000 values may come from aliases");
    }

    @Test
    void aFileWithAnAliasInsideItsOwnAnchorStopsStartupSayingSo(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                loop: &loop [a, *loop]
                """);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("expand it to no end of values");
    }


    @Test
    void aConfigurationLocationWithoutAKnownExtensionStopsStartupSayingHowToNameItsFormat(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.conf"), "policy-gateway:\n  server-name: example.com\n");

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("The configuration location 'file:" + config + "' names a file whose name does not end in .yml")
                .contains("'file:" + config + "[.yml]'");
    }

    @Test
    void anOptionalLocationWithoutAKnownExtensionStopsStartupWithTheSameScreenKeepingOptional(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.conf"), "policy-gateway:\n  server-name: example.com\n");

        String screen = failedStartup(output, "--spring.config.additional-location=optional:file:" + config);

        assertThat(screen).contains("'optional:file:" + config + "[.yml]'").doesNotContain("\tat ");
    }

    @Test
    void aDirectoryNamedAsTheConfigurationFileStopsStartupSayingWhichFileADirectoryLocationReads(CapturedOutput output)
            throws IOException {
        Path config = Files.createDirectory(directory.resolve("gateway.yml"));

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("Configuration file that is not a regular file").contains("it is a directory")
                .contains("application.yml").doesNotContain("to read the files of the directory");
    }

    /** Opening a pipe no one writes to waits for a writer: a gateway that opened it would never start, nor this test end. */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aConfigurationFileThatIsANamedPipeStopsStartupBeforeOpeningIt(CapturedOutput output) throws IOException {
        try (NamedPipe pipe = NamedPipe.at(directory.resolve("gateway.yml"))) {
            String screen = failedStartup(output, "--spring.config.additional-location=file:" + pipe.path());

            assertThat(screen).contains("Configuration file that is not a regular file").contains("file: " + pipe.path())
                    .contains("it is a named pipe or a device").contains("Write the configuration to a file and name that file");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gateway.yml:", "gateway.yml:# maintained by config management\n", "gateway.yml:{}\n",
            "gateway.yml:~\n", "gateway.yml:---\n", "gateway.properties:", "gateway.properties:# nothing yet\n"})
    void aConfigurationFileThatGivesNoSettingsStopsStartupInsteadOfServingThePackagedDemo(String file, CapturedOutput output)
            throws IOException {
        String[] nameAndText = file.split(":", 2);
        Path config = Files.writeString(directory.resolve(nameAndText[0]), nameAndText[1]);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("Configuration file without settings").contains("file: " + config)
                .contains("it holds no settings").contains("Write the configuration into " + config);
    }

    @ParameterizedTest
    @ValueSource(strings = {"- policy-gateway\n- server-name: example.com\n:a list", "hello world\n:a single value"})
    void aConfigurationFileThatIsAListOrAValueStopsStartupInsteadOfServingThePackagedDemo(String textAndShape, CapturedOutput output)
            throws IOException {
        String[] parts = textAndShape.split("\n:", 2);

        String screen = failedStartupWith(output, parts[0] + "\n");

        assertThat(screen).contains("Configuration file without keys").contains("file: " + directory.resolve("gateway.yml") + ", line 1")
                .contains("its top level is " + parts[1] + ", not settings by key").contains("policy-gateway:, server:");
    }

    @Test
    void aConfigurationFileThatIsNotUtf8StopsStartupNamingTheFileTheLineAndTheFix(CapturedOutput output) throws IOException {
        Path config = directory.resolve("gateway.yml");
        Files.write(config, "policy-gateway:\n  server-name: example.com\n  max-body-size: 1MB # d\u00e9j\u00e0\n"
                .getBytes(StandardCharsets.ISO_8859_1));

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("Configuration file not UTF-8").contains("file: " + config + ", line 3")
                .contains("problem: byte 67 is not UTF-8").contains("Save " + config + " as UTF-8")
                .doesNotContain("MalformedInputException").doesNotContain("\tat ");
    }

    @Test
    void aBadModuleSettingIsShownWithItsValueAndTheFileAndLineItWasWrittenAt(CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: static
                      config:
                        results:
                          user_may_create_room: sometimes
                """);

        assertThat(screen).contains("Invalid policy module configuration")
                .contains("entry: policy-gateway.modules[0] (module: static)")
                .contains("field: config.results.user_may_create_room")
                .contains("value: 'sometimes'")
                .contains("file: " + directory.resolve("gateway.yml") + ", line 7, column 33");
    }

    @Test
    void aFractionWhereAModuleTakesAWholeNumberStopsStartupRatherThanBeingCutDown(CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: rate_limits
                      config:
                        invites:
                          per-sender: {capacity: 1.9, period: 1h}
                """);

        assertThat(screen).contains("config.invites.per-sender.capacity").contains("'1.9'")
                .contains("expected a whole number").contains("line 7");
    }

    @Test
    void aFractionWhereTheGatewayTakesAWholeNumberStopsStartupRatherThanBeingCutDown(CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  decision-log:
                    capacity: 2.5
                """);

        assertThat(screen).contains("key: policy-gateway.decision-log.capacity").contains("value: '2.5'")
                .contains("problem: expected a whole number").contains("line 4");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "policy-gateway:\n  server-name: example.com\n  auth: secret\n|policy-gateway.auth takes keys (token, token-file), not a value",
        "policy-gateway: yes\n|policy-gateway takes keys (server-name, auth,",
        "policy-gateway:\n  server-name: example.com\n  defaults:\n    timeout: \"\"\n|policy-gateway.defaults.timeout has no value",
        "policy-gateway:\n  server-name: example.com\n  defaults:\n    timeout: ~\n|policy-gateway.defaults.timeout has no value"})
    void aValueWhereKeysAreExpectedOrAKeyWithoutItsValueStopsStartupRatherThanBeingDropped(String yamlAndProblem,
                                                                                         CapturedOutput output) throws IOException {
        String[] parts = yamlAndProblem.split("\\|", 2);

        String screen = failedStartupWith(output, parts[0]);

        assertThat(screen).contains("problem: " + parts[1]).contains("file: " + directory.resolve("gateway.yml"));
    }

    @Test
    void duplicateYamlKeyStopsStartupWithOneScreenNamingTheFileAndBothLines(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                  max-body-size: 2MB
                  server-name: example.org
                """);

        String screen = failedStartup(output, "--spring.config.additional-location=file:" + config);

        assertThat(screen).contains("Malformed configuration file")
                .contains("file: " + config + ", line 4, column 3")
                .contains("problem: found duplicate key server-name");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "localhost:6379 | localhost:6379 | expected a redis:// or rediss:// URL",
            "redis://redis.internal:6379/rate-limits | redis://redis.internal:6379/(path and query not shown)"
                    + " | the path is the database index: expected a number such as /0, got /rate-limits"})
    void aRedisUrlThatIsNotOneStopsStartupNamingTheKeyTheValueAndTheLine(String url, String shown, String problem,
                                                                         CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  state:
                    redis:
                      url: %s
                """.formatted(url));

        assertThat(screen).contains("key: policy-gateway.state.redis.url")
                .contains("value: '" + shown + "'")
                .containsPattern("file: .*gateway.yml, line 5, column 12")
                .contains("problem: " + problem);
    }

    @Test
    void aRefusedRedisUrlIsShownWithoutItsUserAndPassword(CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  state:
                    redis:
                      url: redis://gateway:pass/word@redis.internal:6379
                """);

        assertThat(screen).contains("value: 'redis://(user and password not shown)@redis.internal:6379'")
                .contains("problem: names no host")
                .doesNotContain("pass/word");
        assertThat(output).doesNotContain("pass/word");
    }

    /**
     * A webhook's URL often holds its secret in its path or query; one refused (here without its
     * scheme, or malformed) is shown up to its host and port, its file and line pointing at the rest.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "siem.example.com/ingest/s3cr3t-path?key=s3cr3t-key | siem.example.com",
            "https://[::1/ingest/s3cr3t-path?key=s3cr3t-key | https://[::1",
            "https://siem.example.com:port/ingest/s3cr3t-path | https://siem.example.com:port",
            "https://siem.example.com/ingest/s3cr3t-path#{fragment} | https://siem.example.com",
            "https://siem.example.com:99999/ingest/s3cr3t-path | https://siem.example.com:99999"})
    void aRefusedUrlIsShownWithoutItsPathAndQueryWhichMayHoldASecret(String url, String shown, CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: audit_webhook
                      config:
                        url: "%s"
                """.formatted(url));

        assertThat(screen).contains("config.url")
                .contains("value: '" + shown + "/(path and query not shown)'")
                .containsPattern("file: .*gateway.yml, line 6, column \\d+");
        assertThat(output).doesNotContain("s3cr3t");
    }

    @Test
    void aRefusedBackendUrlUnderAKeyNotNamedUrlIsShownWithoutItsQueryStringWhichMayHoldASecret(CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: event_censor
                      config:
                        endpoint: https://censor.example.com/check?token=s3cr3t#check
                """);

        assertThat(screen).contains("field: config.endpoint")
                .contains("value: 'https://censor.example.com/check?(query not shown)'")
                .contains("problem: must not have a #fragment")
                .doesNotContain("s3cr3t");
        assertThat(output).doesNotContain("s3cr3t");
    }

    @Test
    void aWordWhereAModuleTakesANumberStopsStartupSayingANumberIsExpected(CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: ratelimit_overrides
                      config:
                        rules:
                          - {name: bots, users: ["@bot:example.com"], per-second: fast, burst-count: 10}
                """);

        assertThat(screen).contains("per-second").contains("value: 'fast'")
                .contains("problem: expected a number such as 0.5 or 10")
                .doesNotContain("For input string");
    }

    @Test
    void aRateLimitOfZeroCapacityStopsStartupNamingTheEntrysKeyAndTheLine(CapturedOutput output) throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: rate_limits
                      config:
                        events:
                          per-sender: {capacity: 0, period: 10s}
                """);

        assertThat(screen).contains("key: policy-gateway.modules[0].config.events.per-sender.capacity")
                .containsPattern("file: .*gateway.yml, line 7, column 34")
                .contains("problem: must be greater than or equal to 1");
    }

    @Test
    void anInlineUserSpringWouldRenameStopsStartupNamingWhatItWouldBeReadAsAndTheBracketedSpelling(CapturedOutput output)
            throws IOException {
        String screen = failedStartupWith(output, """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: password_file
                      config:
                        users:
                          alice+work: "$2y$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
                """);

        assertThat(screen).contains("Configuration key that would not be read as written")
                .contains("key: policy-gateway.modules[0].config.users.alice+work")
                .containsPattern("file: .*gateway.yml, line 7")
                .contains("problem: its part 'alice+work' would be read as 'alicework'")
                .contains("write it in quotes and brackets, \"[alice+work]\":").doesNotContain("R9h/cIPz0gi");
    }

    /** Starts the application with this configuration file, expects it to fail, and returns what it printed. */
    private String failedStartupWith(CapturedOutput output, String yaml) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), yaml);
        return failedStartup(output, "--spring.config.additional-location=file:" + config);
    }

    private Path configWithTokenFile(Path token) throws IOException {
        return Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                  auth:
                    token-file: %s
                """.formatted(token));
    }

    /** Starts the application with {@code <configName>.yml}, expects it to fail, and returns what it printed. */
    private static String failedStartup(String configName, CapturedOutput output) {
        return failedStartup(output, "--spring.config.name=" + configName);
    }

    /**
     * The arguments with the banner and the startup lines back on (the build switches them off for
     * every test, pom.xml): the screen measured is the one an administrator sees.
     */
    private static String[] asAnAdministratorSeesIt(String... args) {
        Stream<String> asDeployed = Stream.of("--spring.main.banner-mode=console", "--spring.main.log-startup-info=true",
                "--logging.level." + PolicyGatewayApplication.class.getName() + "=info");
        return Stream.concat(asDeployed, Arrays.stream(args)).toArray(String[]::new);
    }

    /** Starts the application with these arguments, expects it to fail, and returns what it printed. */
    private static String failedStartup(CapturedOutput output, String... args) {
        SpringApplicationBuilder application = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                .web(WebApplicationType.NONE);

        assertThatThrownBy(() -> application.run(asAnAdministratorSeesIt(args))).isNotNull();

        String printed = output.getOut() + output.getErr();
        assertThat(printed).contains("APPLICATION FAILED TO START").doesNotContain("\tat ");
        assertThat(printed.lines().count()).as("lines printed:%n%s", printed).isLessThan(SCREEN);
        return printed;
    }
}
