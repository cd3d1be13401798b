package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.InterestedUsers;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetInterestedUsers;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.MapPropertySource;

/** What a configuration does to startup: the chains it builds, or the one message that stops it. */
class ModuleConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT, "serves no module");
    @RegisterExtension
    final LoggedLines serving = LoggedLines.of(GenerationBuilder.class, Level.INFO);

    @TempDir
    Path directory;

    private final ApplicationContextRunner runner = new ConfiguredGateway().runner()
            .withPropertyValues("policy-gateway.server-name=example.com");

    @Test
    void chainOrderIsConfigurationPositionNotNameOrBeanOrder() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=zeta",
                        "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM",
                        "policy-gateway.modules[1].module=static", "policy-gateway.modules[1].name=alpha",
                        "policy-gateway.modules[1].config.results.user_may_invite=M_FORBIDDEN",
                        "policy-gateway.modules[2].module=static", "policy-gateway.modules[2].name=mid",
                        "policy-gateway.modules[2].config.results.user_may_invite=NOT_SPAM")
                .run(context -> assertThat(chain(context, "user_may_invite")).containsExactly("zeta", "alpha", "mid"));
    }

    @Test
    void aModulesListFromAHigherSourceReplacesTheLowerListWholeEntriesIncluded() {
        runner.withInitializer(context -> context.getEnvironment().getPropertySources().addLast(new MapPropertySource(
                        "packaged-defaults", Map.of(
                                "policy-gateway.modules[0].module", "static",
                                "policy-gateway.modules[0].config.results.user_may_invite", "M_FORBIDDEN",
                                "policy-gateway.modules[1].module", "static",
                                "policy-gateway.modules[1].config.results.user_may_join_room", "M_FORBIDDEN"))))
                .withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.user_may_create_room=M_FORBIDDEN")
                .run(context -> {
                    assertThat(chain(context, "user_may_create_room")).containsExactly("static-0");
                    assertThat(chain(context, "user_may_invite")).isEmpty();
                    assertThat(chain(context, "user_may_join_room")).isEmpty();
                });
    }

    @Test
    void startupNamesTheModulesItServesInTheirOrder() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=zeta",
                        "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM",
                        "policy-gateway.modules[1].module=user_denylist", "policy-gateway.modules[1].name=spammers",
                        "policy-gateway.modules[1].config.users[0]=@*:spam.example")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(serving.at(Level.INFO)).containsExactly(
                            "Generation 1 serves 2 module(s): static 'zeta', user_denylist 'spammers'");
                });
    }

    @Test
    void aGatewayThatServesNoModuleWarnsAtStartup() {
        // `modules: ~`, `modules: []`, or a list indented under the key before it: every callback allowed, silently
        runner.withPropertyValues("policy-gateway.modules=")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(serving.at(Level.WARN)).singleElement().asString().startsWith(
                            "Generation 1 serves no module: policy-gateway.modules is empty, so every callback gives the"
                                    + " answer of an empty chain");
                });
    }

    @Test
    void eachEntryBecomesAModuleInstanceBean() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.user_may_create_room=M_FORBIDDEN")
                .run(context -> assertThat(context.getBean(Generations.class).current().instance("static-0")).isPresent());
    }

    @Test
    void instanceWithoutANameIsNamedAfterItsTypeAndPosition() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=first",
                        "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM",
                        "policy-gateway.modules[1].module=static",
                        "policy-gateway.modules[1].config.results.user_may_invite=M_FORBIDDEN")
                .run(context -> assertThat(chain(context, "user_may_invite")).containsExactly("first", "static-1"));
    }

    @Test
    void anUnnamedInstanceIsNamedByItsPlaceAmongItsTypeSoAnEntryOfAnotherTypeAheadDoesNotRenameIt() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=user_denylist",
                        "policy-gateway.modules[0].config.users[0]=@spam:bad.example",
                        "policy-gateway.modules[1].module=static",
                        "policy-gateway.modules[1].config.results.user_may_invite=NOT_SPAM",
                        "policy-gateway.modules[2].module=static",
                        "policy-gateway.modules[2].config.results.user_may_invite=M_FORBIDDEN")
                .run(context -> assertThat(chain(context, "user_may_invite")).containsExactly("user_denylist-0", "static-0", "static-1"));
    }

    @Test
    void anEntryEnforcesUnlessItsModeIsShadow() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=enforced",
                        "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM",
                        "policy-gateway.modules[1].module=static", "policy-gateway.modules[1].name=trial",
                        "policy-gateway.modules[1].mode=shadow",
                        "policy-gateway.modules[1].config.results.user_may_invite=M_FORBIDDEN")
                .run(context -> {
                    assertThat(context.getBean(Generations.class).current().instance("enforced").orElseThrow().mode()).isEqualTo(Link.Mode.ENFORCE);
                    assertThat(context.getBean(Generations.class).current().instance("trial").orElseThrow().mode()).isEqualTo(Link.Mode.SHADOW);
                    assertThat(chain(context, "user_may_invite")).containsExactly("enforced", "trial");
                });
    }

    @Test
    void aCallbackNotListedByAStaticModuleLeavesItOutOfThatChain() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.user_may_create_room=M_FORBIDDEN")
                .run(context -> assertThat(chain(context, "user_may_invite")).isEmpty());
    }

    @Test
    void anInstanceNameWithALineBreakIsRefusedRatherThanWrittenIntoItsLogLines() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=deny\nINFO forged",
                        "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.entry()).isEqualTo("policy-gateway.modules[0] (module: static)");
                    assertThat(failure.field()).isEqualTo("name");
                    assertThat(failure.problem()).startsWith("an instance name must not hold a control character, a line"
                            + " separator or a bidirectional control, but this one holds U+000A");
                });
    }

    @Test
    void anInstanceNameWithARightToLeftOverrideIsRefusedRatherThanTurningItsLogLinesRound() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=deny\u202Eyna",
                        "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM")
                .run(context -> assertThat(moduleFailure(context).problem()).contains("holds U+202E"));
    }

    @Test
    void anInstanceNameNoClientCouldSendAsAPathSegmentIsRefused() {
        Map<String, String> refusals = Map.of(
                "spam/links", "instance name 'spam/links' holds a '/'",
                "spam\\links", "instance name 'spam\\links' holds a '\\'",
                ".", "instance name '.' is a dot segment",
                "..", "instance name '..' is a dot segment");
        refusals.forEach((name, refusal) ->
                runner.withPropertyValues("policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=" + name,
                                "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM")
                        .run(context -> {
                            Expected failure = moduleFailure(context);
                            assertThat(failure.field()).isEqualTo("name");
                            assertThat(failure.problem()).startsWith(refusal).contains("/v1/modules/{name}/is_evil");
                        }));
    }

    @Test
    void aMapWrittenAsAListIsRefusedAsSuchRatherThanAsKeyZero() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results[0]=user_may_invite")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.field()).isEqualTo("config.results[0]");
                    assertThat(failure.problem()).isEqualTo("takes keys, not a list: write each entry as its key, a colon"
                            + " and its value (name: value), indented below results, without '- '");
                });
    }

    @Test
    void aListAmongTheValuesOfAMapOfAnyValueIsTakenAsTheListItIs() {
        // docs/modules/static.md: get_interested_users takes a list of user IDs, get_media_upload_limits_for_user a list
        runner.withInitializer(ConfiguredGateway.yamlFile(directory.resolve("application.yml"), """
                        policy-gateway:
                          modules:
                            - module: static
                              config:
                                results:
                                  get_interested_users: ["@bob:example.com"]
                                  get_media_upload_limits_for_user:
                                    - max_bytes: 1048576
                                      time_period_ms: 86400000
                            - module: media_limits
                              config:
                                groups:
                                  - name: everyone
                                    users: ["*"]
                                    max-upload-size: 1MB
                                    media-config:
                                      formats: [png, jpeg]
                        """))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    GetInterestedUsers answer = context.getBean(Generations.class).current().instance("static-0").orElseThrow()
                            .module().implementation(GetInterestedUsers.TYPE).orElseThrow();
                    assertThat(answer.getInterestedUsers(new GetInterestedUsers.Args("@alice:example.com")))
                            .isEqualTo(new InterestedUsers.Users(Set.of("@bob:example.com")));
                });
    }

    @Test
    void unknownModuleTypeNamesTheEntryAndTheKnownTypes() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static", "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM",
                        "policy-gateway.modules[1].module=spam_buster")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.entry()).isEqualTo("policy-gateway.modules[1] (module: spam_buster)");
                    assertThat(failure.field()).isEqualTo("module");
                    assertThat(failure.problem()).startsWith("unknown module type 'spam_buster'; known types: [")
                            .contains("static").contains("test_faulty").contains("test_password");
                });
    }

    @Test
    void staticResultOfTheWrongTypeForItsCallbackNamesTheCallback() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.user_may_invite=maybe")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.entry()).isEqualTo("policy-gateway.modules[0] (module: static)");
                    assertThat(failure.field()).isEqualTo("config.results.user_may_invite");
                    assertThat(failure.problem()).contains("NOT_SPAM or a Matrix error code").contains("'maybe'");
                });
    }

    @Test
    void staticResultForAMisspeltCallbackIsRefusedWithTheClosestName() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.user_may_invit=NOT_SPAM")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.field()).isEqualTo("config.results.user_may_invit");
                    assertThat(failure.problem()).startsWith("'user_may_invit' is not a Synapse callback; known callbacks: [")
                            .endsWith("]. Did you mean user_may_invite?");
                });
    }

    @Test
    void staticBooleanCallbackRefusesAnErrcode() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.is_3pid_allowed=M_FORBIDDEN")
                .run(context -> assertThat(moduleFailure(context).problem()).contains("true or false"));
    }

    /** Synapse lower-cases the answer, then refuses every registration with a user ID of other characters (400). */
    @Test
    void staticUsernameForRegistrationSynapseWouldRefuseEveryTimeIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.get_username_for_registration=@carol:example.com")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.field()).isEqualTo("config.results.get_username_for_registration");
                    assertThat(failure.problem()).contains("a-z, 0-9 and =_-./+").contains("'@carol:example.com'");
                });
        runner.withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.get_username_for_registration=Carol.Smith_2",
                        "policy-gateway.modules[0].config.results.get_displayname_for_registration=Carol Smith")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void staticResultForAnUnknownCallbackIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.user_may_teleport=NOT_SPAM")
                .run(context -> assertThat(moduleFailure(context).field()).isEqualTo("config.results.user_may_teleport"));
    }

    @Test
    void missingRequiredConfigIsAValidationErrorNamingTheField() {
        runner.withPropertyValues("policy-gateway.modules[0].module=test_password",
                        "policy-gateway.modules[0].config.field=password",
                        "policy-gateway.modules[0].config.users.alice=secret")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.entry()).isEqualTo("policy-gateway.modules[0] (module: test_password)");
                    assertThat(failure.field()).isEqualTo("config.login-type");
                    assertThat(failure.problem()).isEqualTo("must not be blank");
                });
    }

    @Test
    void aPasswordWrittenWhereAHashBelongsIsNotShownWhenTheEntryIsRefused() {
        ConfiguredGateway gateway = new ConfiguredGateway();
        gateway.runner().withPropertyValues("policy-gateway.server-name=example.com",
                        "policy-gateway.modules[0].module=password_file",
                        "policy-gateway.modules[0].config.users.alice=hunter2")
                .run(context -> assertThat(gateway.startupScreen(context))
                        .contains("config.users.alice", "not a bcrypt").doesNotContain("hunter2"));
    }

    @Test
    void aRefusedEntryInOneLineReadsAsSentencesAsAReloadReportsIt() {
        ConfiguredGateway gateway = new ConfiguredGateway();
        gateway.runner().withPropertyValues("policy-gateway.server-name=example.com",
                        "policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.user_may_create_room=sometimes")
                .run(context -> assertThat(gateway.startupScreen(context))
                        .startsWith("Invalid policy module configuration: entry: policy-gateway.modules[0] (module: static);")
                        .contains("got 'sometimes'. Fix: Correct config.results.user_may_create_room of"
                                + " policy-gateway.modules[0] (module: static). Each module type's configuration keys")
                        .doesNotContain(".;"));
    }

    @Test
    void unconvertibleValueNamesThePropertyAndTheValue() {
        runner.withPropertyValues("policy-gateway.modules[0].module=test_faulty",
                        "policy-gateway.modules[0].config.callbacks[0]=user_may_invite",
                        "policy-gateway.modules[0].config.behaviour=explode")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.field()).isEqualTo("config.behaviour");
                    assertThat(failure.description()).contains("value: 'explode'");
                    assertThat(failure.problem()).isEqualTo("expected one of throw, hang, wait, stuck, overflow");
                });
    }

    @Test
    void invalidValueInANestedRecordNamesTheFieldWithItsFullPath() {
        runner.withPropertyValues("policy-gateway.modules[0].module=test_faulty",
                        "policy-gateway.modules[0].config.callbacks[0]=user_may_invite",
                        "policy-gateway.modules[0].config.behaviour=hang",
                        "policy-gateway.modules[0].config.hang.seconds=600")
                .run(context -> {
                    Expected failure = moduleFailure(context);
                    assertThat(failure.field()).isEqualTo("config.hang.seconds");
                    assertThat(failure.problem()).isEqualTo("must be less than or equal to 60");
                });
    }

    @Test
    void twoInstancesWithTheSameNameAreRefused() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=twin",
                        "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM",
                        "policy-gateway.modules[1].module=static", "policy-gateway.modules[1].name=twin",
                        "policy-gateway.modules[1].config.results.user_may_invite=NOT_SPAM")
                .run(context -> assertThat(moduleFailure(context).field()).isEqualTo("name"));
    }

    @Test
    void anInstanceNamedAsTheMetricsNameADecisionNoInstanceMadeIsRefused() {
        // policy_decisions_total{module="none"} counts the chains every entry fell through: an instance of that
        // name would have them counted as its own (in chainstats and the console too), and lose them with it
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static", "policy-gateway.modules[0].name=" + ModuleInstance.NO_INSTANCE,
                        "policy-gateway.modules[0].config.results.user_may_invite=NOT_SPAM")
                .run(context -> {
                    Expected refused = moduleFailure(context);
                    assertThat(refused.field()).isEqualTo("name");
                    assertThat(refused.problem()).contains("'none'").contains("module=\"none\"");
                });
    }

    @Test
    void twoAuthCheckersForOneLoginTypeWithDifferentFieldsStopStartupAsInSynapse() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=test_password", "policy-gateway.modules[0].config.login-type=m.login.password",
                        "policy-gateway.modules[0].config.field=password", "policy-gateway.modules[0].config.users.alice=a",
                        "policy-gateway.modules[1].module=test_password", "policy-gateway.modules[1].config.login-type=m.login.password",
                        "policy-gateway.modules[1].config.field=secret", "policy-gateway.modules[1].config.users.bob=b")
                .run(context -> {
                    FailureAnalysis analysis = new ChainFailureAnalyzer().analyze(context.getStartupFailure());
                    assertThat(analysis).isNotNull();
                    assertThat(analysis.getDescription())
                            .contains("modules[1] (test_password 'test_password-1')")
                            .contains("'m.login.password' with fields [secret]")
                            .contains("modules[0] (test_password 'test_password-0') checks it with fields [password]");
                });
    }

    @Test
    void twoAuthCheckersForOneLoginTypeWithTheSameFieldsFormOneChainInOrder() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=test_password", "policy-gateway.modules[0].config.login-type=m.login.password",
                        "policy-gateway.modules[0].config.field=password", "policy-gateway.modules[0].config.users.alice=a",
                        "policy-gateway.modules[1].module=test_password", "policy-gateway.modules[1].config.login-type=m.login.password",
                        "policy-gateway.modules[1].config.field=password", "policy-gateway.modules[1].config.users.bob=b")
                .run(context -> assertThat(context.getBean(Generations.class).current().chains()
                        .endpoint(Category.PASSWORD_AUTH_PROVIDER, "check_auth").orElseThrow().chains())
                        .isEqualTo(Map.of("m.login.password", List.of("test_password-0", "test_password-1"))));
    }

    @Test
    void backgroundUpdateControllerWithoutOnUpdateIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].module=static",
                        "policy-gateway.modules[0].config.results.min_batch_size=10")
                .run(context -> assertThat(new ChainFailureAnalyzer().analyze(context.getStartupFailure()).getDescription())
                        .contains("modules[0] (static 'static-0')").contains("on_update"));
    }

    @Test
    void onlyTheFirstModuleImplementingTheBackgroundUpdateControllerIsUsed() {
        runner.withPropertyValues(
                        "policy-gateway.modules[0].module=static", "policy-gateway.modules[0].config.results.on_update=50",
                        "policy-gateway.modules[1].module=static", "policy-gateway.modules[1].config.results.on_update=70",
                        "policy-gateway.modules[1].config.results.min_batch_size=10")
                .run(context -> {
                    assertThat(chain(context, "on_update")).containsExactly("static-0");
                    assertThat(chain(context, "min_batch_size")).isEmpty();
                });
    }

    @Test
    void staticEmptyInterestedUsersListMeansNobody() {
        runner.withInitializer(ConfiguredGateway.yamlFile(directory.resolve("application.yml"), """
                        policy-gateway:
                          modules:
                            - module: static
                              config:
                                results:
                                  get_interested_users: []
                        """))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    GetInterestedUsers answer = context.getBean(Generations.class).current().instance("static-0").orElseThrow().module()
                            .implementation(GetInterestedUsers.TYPE).orElseThrow();
                    assertThat(answer.getInterestedUsers(new GetInterestedUsers.Args("@alice:example.com")))
                            .isEqualTo(InterestedUsers.NONE);
                });
    }

    private static List<String> chain(AssertableApplicationContext context, String callback) {
        assertThat(context).hasNotFailed();
        return context.getBean(Generations.class).current().chains().endpoints().stream()
                .filter(endpoint -> endpoint.name().equals(callback))
                .findFirst().orElseThrow().chains().get("");
    }

    private record Expected(String entry, String field, String problem, String description) {
    }

    private static Expected moduleFailure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        FailureAnalysis analysis = new ModuleFailureAnalyzer(null).analyze(context.getStartupFailure());
        assertThat(analysis).as("a module failure analysis for %s", context.getStartupFailure()).isNotNull();
        InvalidModuleException cause = (InvalidModuleException) analysis.getCause();
        assertThat(analysis.getDescription()).contains(cause.entry()).contains(cause.field()).contains(cause.problem());
        return new Expected(cause.entry(), cause.field(), cause.problem(), analysis.getDescription());
    }
}
