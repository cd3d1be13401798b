package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ContextConsumer;
import org.springframework.core.env.MapPropertySource;

/**
 * An unknown key under {@code policy-gateway}, or in a module's {@code config:}, stops startup with
 * one message naming the key, its file and line, the keys expected there and the closest of them:
 * a typo must not leave a setting at its default without a word.
 */
class UnknownKeyTest {
    /** EntryTimeoutCheckTest proves this WARN; here a configuration that shows every key style happens to draw it. */
    private static final String TIMEOUT_SHORTER_THAN_WORST_CASE = "is shorter than the module's worst case for one call";

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT, TIMEOUT_SHORTER_THAN_WORST_CASE,
            "serves no module");

    @TempDir
    Path directory;

    private final ConfiguredGateway gateway = new ConfiguredGateway();

    private final ApplicationContextRunner runner = gateway.runner();

    @Test
    void misspeltTopLevelKeyNamesItsFileTheExpectedKeysAndTheClosest() {
        run("""
                policy-gateway:
                  server-name: example.com
                  modlues:
                    - module: static
                      config:
                        results:
                          user_may_invite: M_FORBIDDEN
                """, context -> {
            String analysis = gateway.propertiesFailure(context);
            assertThat(analysis)
                    .contains("key: policy-gateway.modlues\n")
                    .contains("file: " + file() + ", line 4, column 15\n")
                    .contains("problem: unknown key; the keys of policy-gateway are server-name, auth, admin, decision-log, defaults, max-body-size, modules, reload, policy-server, state\n")
                    .contains("Did you mean policy-gateway.modules?");
        });
    }

    @Test
    void misspeltAuthKeyIsNamedWithoutItsValueWhichMayBeASecret() {
        run("""
                policy-gateway:
                  server-name: example.com
                  auth:
                    tokn: s3cr3t-t0ken
                """, context -> assertThat(gateway.propertiesFailure(context))
                .contains("key: policy-gateway.auth.tokn\n")
                .contains("file: " + file() + ", line 4, column 11\n")
                .contains("the keys of policy-gateway.auth are token, token-file")
                .contains("Did you mean policy-gateway.auth.token?")
                .doesNotContain("s3cr3t-t0ken"));
    }

    @Test
    void everyUnknownKeyIsNamedAtOnceInTheOrderOfTheFile() {
        run("""
                policy-gateway:
                  server-name: example.com
                  auth:
                    tokn: s3cr3t-t0ken
                  max-body-sise: 2MB
                """, context -> assertThat(gateway.propertiesFailure(context))
                .containsSubsequence("key: policy-gateway.auth.tokn\n", "key: policy-gateway.max-body-sise\n",
                        "Did you mean policy-gateway.auth.token?", "Did you mean policy-gateway.max-body-size?")
                .containsOnlyOnce("Unknown keys stop startup"));
    }

    @Test
    void misspeltRequiredKeyIsReportedAsTheUnknownKeyItIsNotAsTheMissingOne() {
        run("""
                policy-gateway:
                  sever-name: example.com
                """, context -> assertThat(gateway.propertiesFailure(context))
                .contains("key: policy-gateway.sever-name\n")
                .contains("Did you mean policy-gateway.server-name?")
                .doesNotContain("must not be blank"));
    }

    @Test
    void misspeltSynapseStyleModuleOptionIsNamedInTheSameStyle() {
        run("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: threepid_checker
                      config:
                        url: https://id.example.com/check
                        cache_tll: 10m
                """, context -> {
            ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
            assertThat(failure.cause().entry()).isEqualTo("policy-gateway.modules[0] (module: threepid_checker)");
            assertThat(failure.cause().field()).isEqualTo("config.cache_tll");
            assertThat(failure.description())
                    .contains("file: " + file() + ", line 7, column 20\n")
                    .contains("the keys of config are url, only_check_at_registration, timeout, cache_ttl, cache_max_size, max_reply_size, failure_mode");
            assertThat(failure.action()).contains("Did you mean config.cache_ttl?");
        });
    }

    @Test
    void misspeltKebabCaseModuleOptionIsNamedWithTheClosestKey() {
        run("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: event_censor
                      config:
                        endpoint: https://censor.example.com/check
                        failur-mode: fail-closed
                """, context -> {
            ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
            assertThat(failure.cause().field()).isEqualTo("config.failur-mode");
            assertThat(failure.action()).contains("Did you mean config.failure-mode?");
        });
    }

    @Test
    void misspeltModuleOptionIsDescribedAsTheModuleSeesItNotAsAKeyOfPolicyGateway() {
        // The first analyzer startup asks is the one for policy-gateway, where config: is a map; it
        // must leave a module's keys to the module's analyzer.
        run("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: policy_list
                      config:
                        show-reasons: true
                        sources:
                          - name: local
                            file: /nonexistent/bans.txt
                            chek-interval: 1s
                """, context -> assertThat(gateway.startupScreen(context))
                .contains("key: policy-gateway.modules[0].config.show-reasons;")
                .contains("Did you mean policy-gateway.modules[0].config.show-reason?")
                .contains("key: policy-gateway.modules[0].config.sources[0].chek-interval;")
                .contains("Did you mean policy-gateway.modules[0].config.sources[0].check-interval?")
                .doesNotContain("takes keys ()")
                .doesNotContain("takes a value, not keys"));
    }

    @Test
    void unknownKeyInARecordInAListNamesItsFullPath() {
        run("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: presence_router
                      config:
                        routes:
                          - receivers: ["@support:example.com"]
                            sources: ALL
                            source: ALL
                """, context -> {
            ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
            assertThat(failure.cause().field()).isEqualTo("config.routes[0].source");
            assertThat(failure.description()).contains("the keys of config.routes[0] are receivers, sources");
        });
    }

    @Test
    void misspeltRequiredModuleOptionIsReportedAsTheUnknownKeyNotAsTheMissingOne() {
        run("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: user_denylist
                      config:
                        usres: ["@spammer:example.com"]
                """, context -> {
            ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
            assertThat(failure.cause().field()).isEqualTo("config.usres");
            assertThat(failure.action()).contains("Did you mean config.users?");
        });
    }

    @Test
    void entryKeyIndentedIntoConfigIsShownWhereItBelongs() {
        run("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: user_denylist
                      config:
                        users: ["@spammer:example.com"]
                        on-failure: fail-open
                """, context -> {
            ConfiguredGateway.ModuleFailure failure = ConfiguredGateway.moduleFailure(context);
            assertThat(failure.cause().field()).isEqualTo("config.on-failure");
            assertThat(failure.action()).contains("policy-gateway.modules[0].on-failure");
        });
    }

    @Test
    void entriesOfAListReplacedByAHigherSourceAreNotCheckedAtAnyDepth() {
        runner.withInitializer(context -> context.getEnvironment().getPropertySources().addLast(new MapPropertySource(
                        "packaged-defaults", Map.of(
                                "policy-gateway.modules[0].module", "user_denylist",
                                "policy-gateway.modules[0].config.users[0]", "*:spam.example",
                                "policy-gateway.modules[1].module", "presence_router",
                                "policy-gateway.modules[1].config.routes[0].receivers[0]", "@support:example.com",
                                "policy-gateway.modules[1].config.routes[0].sources", "ALL"))))
                .withInitializer(ConfiguredGateway.yamlFile(file(), """
                        policy-gateway:
                          server-name: example.com
                          modules:
                            - module: static
                              config:
                                results:
                                  user_may_invite: M_FORBIDDEN
                        """))
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void emptySectionsAndAnEmptyModuleListAreKnownKeys() {
        run("""
                policy-gateway:
                  server-name: example.com
                  auth:
                  defaults: {}
                  modules: []
                """, context -> assertThat(context).hasNotFailed());
    }

    @Test
    void synapseStyleAndKebabCaseKeysAreBothKnownAtEveryLevel() {
        run("""
                policy-gateway:
                  server-name: example.com
                  max-body-size: 2MB
                  defaults:
                    on-failure: fail-open
                  modules:
                    - module: threepid_checker
                      name: directory
                      on-failure: fail-closed
                      timeout: 3s
                      config:
                        url: https://id.example.com/check
                        cache_ttl: 10m
                        only-check-at-registration: true
                    - module: http
                      config:
                        url: https://policy.example.com
                        callbacks: [user_may_invite]
                        login_types:
                          - type: m.login.password
                            fields: [password]
                        circuit-breaker:
                          failure_rate_threshold: 20
                        timeouts:
                          user_may_invite: 2s
                """, context -> assertThat(context).hasNotFailed());
    }

    private void run(String yaml, ContextConsumer<AssertableApplicationContext> consumer) {
        runner.withInitializer(ConfiguredGateway.yamlFile(file(), yaml)).run(consumer);
    }

    private Path file() {
        return directory.resolve("application.yml");
    }
}
