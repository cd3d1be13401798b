package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A value that does not fit its key stops startup with one message naming the key, the value, its
 * file and line, and the values that would do, in the words of a configuration file: never a Java
 * type or constant.
 */
class InvalidValueTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    @TempDir
    Path directory;

    private final ConfiguredGateway gateway = new ConfiguredGateway();

    private final ApplicationContextRunner runner = gateway.runner();

    @Test
    void invalidEnumValueNamesTheKeyTheValueItsFileAndTheValuesThatWouldDo() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  defaults:
                    on-failure: fail-sometimes
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.defaults.on-failure\n")
                .contains("value: 'fail-sometimes'\n")
                .contains("file: " + file() + ", line 4, column 17\n")
                .contains("problem: expected one of fail-closed, fail-open\n")
                .contains("Set policy-gateway.defaults.on-failure to one of fail-closed, fail-open.");
        assertNoJava(analysis);
    }

    @Test
    void invalidDurationNamesTheKeyAndTheValue() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  defaults:
                    timeout: 5 parsecs
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.defaults.timeout\n")
                .contains("value: '5 parsecs'\n")
                .contains("problem: expected a duration such as 500ms, 5s or 1m\n");
        assertNoJava(analysis);
    }

    @Test
    void aDurationWithoutAUnitIsRefusedRatherThanReadAsMilliseconds() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  defaults:
                    timeout: 5
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.defaults.timeout\n")
                .contains("value: '5'\n")
                .contains("problem: a duration needs a unit: 5 alone would be read as 5ms; write 5ms, 5s or 5m\n");
        assertNoJava(analysis);
    }

    @Test
    void aModulesDurationWithoutAUnitIsRefusedToo() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: policy_list
                              config:
                                stale-after: 3600
                                sources:
                                  - name: local
                                    file: /nonexistent/bans.txt
                        """))
                .run(context -> {
                    ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
                    assertThat(failure.description())
                            .contains("field: config.stale-after\n")
                            .contains("value: '3600'\n")
                            .contains("problem: a duration needs a unit: 3600 alone would be read as 3600ms; write 3600ms, 3600s or 3600m\n");
                    assertNoJava(failure.description() + failure.action());
                });
    }

    @Test
    void aModulesDurationPastAYearIsRefusedNamingTheKeyNotOverflowing() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: rate_limits
                              config:
                                joins:
                                  per-sender: {capacity: 3, period: 200000000000d}
                        """))
                .run(context -> {
                    ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
                    assertThat(failure.description()).contains("config.joins.per-sender.period").contains("must be at most 366 days");
                    assertNoJava(failure.description() + failure.action());
                });
    }

    /** Accepted, it failed every call to an unreachable backend with "ArithmeticException: long overflow". */
    @Test
    void aModulesTimeoutPastAYearIsRefusedNamingTheKeyRatherThanOverflowingOnEveryFailedCall() {
        ConfiguredGateway.ModuleFailure failure = httpModuleFailure("timeout: 200000d");

        assertThat(failure.description())
                .contains("field: config.timeout\n")
                .contains("value: '200000d'\n")
                .contains("problem: must be at most 366d, got 17280000000s: no setting waits longer than a year");
        assertNoJava(failure.description() + failure.action());
    }

    @Test
    void aDurationPastAYearInAMapOfDurationsIsRefusedByItsFullKey() {
        assertThat(httpModuleFailure("timeouts: {user_may_create_room: 200000d}").description())
                .contains("config.timeouts.user_may_create_room").contains("must be at most 366d");
    }

    /** The failure of an {@code http} entry forwarding one callback, with one more line of {@code config:}. */
    private ConfiguredGateway.ModuleFailure httpModuleFailure(String configLine) {
        return moduleFailure("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: http
                      config:
                        url: http://127.0.0.1:9/policy
                        callbacks: [user_may_create_room]
                        %s
                """.formatted(configLine));
    }

    @Test
    void aGatewayDurationPastAYearIsRefusedNamingTheKeyTheValueAndItsFile() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  defaults:
                    timeout: 200000d
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.defaults.timeout\n")
                .contains("value: '200000d'\n")
                .contains("file: " + file() + ", line 4, column 14\n")
                .contains("problem: must be at most 366d, got 17280000000s");
        assertNoJava(analysis);
    }

    @Test
    void aDurationOfAYearIsAccepted() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          defaults:
                            timeout: 366d
                          modules:
                            - module: static
                              config:
                                results: {user_may_create_room: NOT_SPAM}
                        """))
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void aSingleValueWhereAModulesListGoesIsRefusedSayingItTakesAListNotInJavaTypes() {
        ConfiguredGateway.ModuleFailure failure = moduleFailure("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: policy_list
                      config:
                        sources: /etc/bans.txt
                """);

        assertThat(failure.description())
                .contains("value: '/etc/bans.txt'\n")
                .contains("problem: config.sources takes a list, not a single value\n");
        assertNoJava(failure.description() + failure.action());
    }

    @Test
    void aSingleValueWhereAModulesRecordGoesIsRefusedNamingItsKeys() {
        ConfiguredGateway.ModuleFailure failure = moduleFailure("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: content_rules
                      config:
                        rules:
                          - name: links
                            links: spam.example
                """);

        assertThat(failure.description())
                .contains("config.rules[0].links takes keys (allowed-domains, denied-domains, max-count), not a value\n");
        assertNoJava(failure.description() + failure.action());
    }

    @Test
    void aSingleValueWhereTheModulesOrAModulesMapGoIsRefusedInTheWordsOfAConfigurationFile() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  modules: static
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.modules\n")
                .contains("problem: policy-gateway.modules takes a list, not a single value\n");
        assertNoJava(analysis);
        ConfiguredGateway.ModuleFailure failure = moduleFailure("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: static
                      config:
                        results: NOT_SPAM
                """);
        assertThat(failure.description()).contains("config.results takes keys, not a value\n");
        assertNoJava(failure.description() + failure.action());
    }

    @Test
    void aSizeWithoutAUnitIsRefusedRatherThanReadAsBytes() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  max-body-size: 1048576
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.max-body-size\n")
                .contains("problem: a size needs a unit: 1048576 alone would be read as 1048576 bytes; write 1048576B, 1048576KB or 1048576MB\n");
        assertNoJava(analysis);
    }

    @Test
    void invalidServerNameNamesTheKeyAndTheReason() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: not a server
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.server-name\n")
                .contains("value: 'not a server'\n")
                .contains("file: " + file() + ", line 2, column 16\n")
                .contains("problem: not a valid Matrix server name (hostname[:port])\n");
        assertNoJava(analysis);
    }

    @Test
    void valueRefusedByANestedRecordIsNamedByItsFullKey() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  defaults:
                    timeout: 0s
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.defaults.timeout\n")
                .contains("value: '0s'\n")
                .contains("file: " + file() + ", line 4, column 14\n")
                .contains("problem: must be positive\n");
    }

    @Test
    void aReloadCheckIntervalUnderATenthOfASecondIsRefusedRatherThanLeftToSpinOnTheFiles() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  reload:
                    check-interval: 1ms
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.reload.check-interval\n")
                .contains("value: '1ms'\n")
                .contains("problem: must be at least 100ms");
    }

    @Test
    void aZeroTimeoutOfAnEntryIsRefusedLikeAZeroDefaultNamingTheKeyTheValueAndItsFile() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: test_faulty
                      timeout: 0s
                      config:
                        callbacks: [user_may_invite]
                        behaviour: throw
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.modules[0].timeout\n")
                .contains("value: '0s'\n")
                .contains("file: " + file() + ", line 5, column 16\n")
                .contains("problem: must be positive\n");
        assertNoJava(analysis);
    }

    @Test
    void aNegativeTimeoutOfAnEntryWhoseModuleNeverBlocksIsRefusedNotIgnored() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: static
                      timeout: -1s
                      config:
                        results:
                          user_may_create_room: M_FORBIDDEN
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.modules[0].timeout\n")
                .contains("value: '-1s'\n")
                .contains("problem: must be positive\n");
    }

    @Test
    void aPolicyServerIpRangeThatIsNoRangeNamesTheKeyTheValueAndHowToWriteOne() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  policy-server:
                    ip-range-blocklist:
                      - 10.0.0.0/8
                      - 10.0.0.0/33
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.policy-server.ip-range-blocklist[1]\n")
                .contains("value: '10.0.0.0/33'\n")
                .contains("file: " + file() + ", line 6")
                .contains("problem: '10.0.0.0/33' is no IP range in CIDR notation: the prefix length after '/' must be 0 to 32;"
                        + " write one as 10.0.0.0/8 or fc00::/7\n")
                .contains("Correct policy-gateway.policy-server.ip-range-blocklist[1].");
        assertNoJava(analysis);
    }

    @Test
    void aPolicyServerAddressWithoutSchemeIsRefusedRatherThanReadAsAUrlWithNoHost() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  policy-server:
                    servers:
                      - name: hs.internal.example.org
                        address: hs.internal.example.org:8448
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.policy-server.servers[0].address\n")
                .contains("value: 'hs.internal.example.org:8448'\n")
                .contains("file: " + file() + ", line 6")
                .contains("problem: expected the base URL of its federation API, such as https://10.0.0.5:8448\n");
        assertNoJava(analysis);
    }

    @Test
    void aPolicyServerRateLimitOfNoRequestsIsRefusedNamingTheKeyAndTheFix() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  policy-server:
                    rate-limit:
                      capacity: 0
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.policy-server.rate-limit.capacity\n")
                .contains("value: '0'\n")
                .contains("file: " + file() + ", line 5")
                .contains("problem: must be at least 1 (the requests one homeserver may send at once); raise it rather than"
                        + " turn the limit off\n");
        assertNoJava(analysis);
    }

    @Test
    void aPolicyServerListenerOfNoConnectionsIsRefusedNamingTheKey() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  policy-server:
                    max-connections: 0
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.policy-server.max-connections\n")
                .contains("value: '0'\n")
                .contains("problem: must be at least 1\n");
        assertNoJava(analysis);
    }

    @Test
    void aPolicyServerRateLimitPeriodOfNoTimeIsRefusedNamingTheKey() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  policy-server:
                    rate-limit:
                      period: 0s
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.policy-server.rate-limit.period\n")
                .contains("value: '0s'\n")
                .contains("problem: must be between 1ms and 366d (how long an empty bucket takes to refill), e.g. 10s\n");
        assertNoJava(analysis);
    }

    @Test
    void decisionLogCapacityOutOfRangeNamesTheKeyAndTheRange() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  decision-log:
                    capacity: 0
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.decision-log.capacity\n")
                .contains("value: '0'\n")
                .contains("problem: must be between 1 and 1000000\n");
    }

    @Test
    void missingRequiredValueNamesTheKey() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  max-body-size: 2MB
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.server-name\n")
                .contains("problem: must not be blank\n");
        assertNoJava(analysis);
    }

    @Test
    void invalidModuleEnumValueNamesTheValuesThatWouldDo() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: threepid_checker
                              config:
                                url: https://id.example.com/check
                                failure_mode: fail-sometimes
                        """))
                .run(context -> {
                    ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
                    assertThat(failure.description())
                            .contains("field: config.failure-mode\n")
                            .contains("value: 'fail-sometimes'\n")
                            .contains("file: " + file() + ", line 7, column 23\n")
                            .contains("problem: expected one of fail-closed, fail-open\n");
                    assertNoJava(failure.description() + failure.action());
                });
    }

    @Test
    void invalidModeOfAnEntryNamesTheKeyTheValueAndTheModesThatWouldDo() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: static
                      mode: dry-run
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.modules[0].mode\n")
                .contains("value: 'dry-run'\n")
                .contains("file: " + file() + ", line 5, column 13\n")
                .contains("problem: expected one of enforce, shadow\n");
        assertNoJava(analysis);
    }

    @Test
    void invalidModuleBooleanSaysTrueOrFalse() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: threepid_checker
                              config:
                                url: https://id.example.com/check
                                only_check_at_registration: sometimes
                        """))
                .run(context -> {
                    ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
                    assertThat(failure.description()).contains("problem: expected true or false\n");
                    assertNoJava(failure.description() + failure.action());
                });
    }

    @Test
    void textThatYamlReadsAsABooleanIsRefusedWhereTextIsExpectedNamingTheQuotedSpelling() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: content_rules
                              config:
                                rules:
                                  - name: words
                                    keywords: [airdrop, no, on]
                        """))
                .run(context -> {
                    ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
                    assertThat(failure.description())
                            .contains("field: config.rules[0].keywords[1]\n")
                            .contains("value: 'no'\n")
                            .contains("file: " + file() + ", line 8, column 33\n")
                            .contains("problem: YAML reads 'no', written without quotes, as true or false, so it would be taken as 'false'\n");
                    assertThat(failure.action()).contains("in quotes, \"no\", and it is kept as written.");
                    assertNoJava(failure.description() + failure.action());
                });
    }

    @Test
    void aNumberYamlReadsOtherwiseThanWrittenIsRefusedWhereTextIsExpected() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: static
                      name: 0x1F
                """);

        assertThat(analysis)
                .contains("key: policy-gateway.modules[0].name\n")
                .contains("value: '0x1F'\n")
                .contains("problem: YAML reads '0x1F', written without quotes, as a number, so it would be taken as '31'\n");
        assertNoJava(analysis);
    }

    @Test
    void booleansAndNumbersAsYamlReadsThemStillSetBooleanAndNumberSettingsAndTextThatSurvivesIsKept() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: content_rules
                              name: 7
                              config:
                                rules:
                                  - name: words
                                    keywords: ["no", "on", true, 12, 1.5]
                                    mentions: {max-users: 0x0A, room: off}
                        """))
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void aTokenFromAnEnvironmentVariableThatIsNotSetIsRefusedRatherThanTheGuessablePlaceholderServingAsTheToken() {
        String analysis = topLevelFailure("""
                policy-gateway:
                  server-name: example.com
                  auth:
                    token: "s3cr3t-${NOT_SET_ANYWHERE}-tail"
                """);

        assertThat(analysis).contains("key: policy-gateway.auth.token\n")
                .contains("problem: the placeholder ${NOT_SET_ANYWHERE} is set nowhere")
                .contains("Set NOT_SET_ANYWHERE in the gateway's environment")
                .doesNotContain("s3cr3t").doesNotContain("-tail");
        assertNoJava(analysis);
    }

    @Test
    void aModuleSettingFromAPlaceholderThatIsNotSetIsRefusedNamingIt() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: user_denylist
                              config:
                                users: ["@spam:bad.example"]
                                error: ${DENYLIST_ERROR}
                        """))
                .run(context -> {
                    ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
                    assertThat(failure.description()).contains("field: config.error\n")
                            .contains("value: '${DENYLIST_ERROR}'\n")
                            .contains("problem: the placeholder ${DENYLIST_ERROR} is set nowhere");
                });
    }

    @Test
    void aPlaceholderWithADefaultOrAnEscapedOneIsNoRefusal() {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: content_rules
                              config:
                                rules:
                                  - name: words
                                    keywords: ["${NOT_SET:airdrop}", '\\${jndi}']
                        """))
                .run(context -> assertThat(context).hasNotFailed());
    }

    private ConfiguredGateway.ModuleFailure moduleFailure(String yaml) {
        List<ConfiguredGateway.ModuleFailure> failure = new ArrayList<>();
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), yaml))
                .run(context -> failure.add(ConfiguredGateway.moduleFailure(context)));
        return failure.getFirst();
    }

    private String topLevelFailure(String yaml) {
        StringBuilder analysis = new StringBuilder();
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), yaml))
                .run(context -> analysis.append(gateway.propertiesFailure(context)));
        return analysis.toString();
    }

    private Path file() {
        return directory.resolve("application.yml");
    }

    /** No Java class, package or enum constant: an administrator reads this. */
    private static void assertNoJava(String message) {
        assertThat(message).doesNotContainPattern("java\\.|dev\\.matrixpolicy|springframework|FAIL_|Exception|enum");
    }
}
