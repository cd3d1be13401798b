package dev.matrixpolicy.gateway.modules.denylist;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What a {@code user_denylist} entry does to startup: the chains it joins, or the message that stops it. */
class UserDenylistConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT, "names every user");
    @RegisterExtension
    final LoggedLines warnings = LoggedLines.of(UserDenylistModuleType.class, Level.WARN);

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.denylist"})
    static class GatewayWithDenylist {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(GatewayWithDenylist.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com",
                    "policy-gateway.modules[0].module=user_denylist", "policy-gateway.modules[0].name=denylist",
                    "policy-gateway.modules[0].config.users[0]=@spammer:example.com",
                    "policy-gateway.modules[0].config.users[1]=*:evil.example");

    @Test
    void byDefaultJoinsTheChainsOfTheNineCallbacksWhereAUserActs() {
        runner.run(context -> assertThat(chainsWithModules(context.getBean(Generations.class).current().chains())).isEqualTo(Map.of(
                "check_event_for_spam", List.of("denylist"), "user_may_invite", List.of("denylist"),
                "user_may_send_3pid_invite", List.of("denylist"), "user_may_join_room", List.of("denylist"),
                "user_may_create_room", List.of("denylist"), "user_may_create_room_alias", List.of("denylist"),
                "user_may_publish_room", List.of("denylist"), "user_may_send_state_event", List.of("denylist"),
                "federated_user_may_invite", List.of("denylist"))));
    }

    @Test
    void aListThatNamesEveryUserStartsWithOneWarningAndAListThatDoesNotWithNone() {
        runner.run(context -> assertThat(context).hasNotFailed());
        assertThat(warnings.all()).isEmpty();

        runner.withPropertyValues("policy-gateway.modules[0].config.users[2]=@*:*")
                .run(context -> assertThat(context).hasNotFailed());
        assertThat(warnings.all()).singleElement().asString()
                .contains("denylist: users hold an entry that names every user (such as * or @*:*)");
    }

    @Test
    void callbacksListChoosesTheChains() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_join_room,user_may_invite")
                .run(context -> assertThat(chainsWithModules(context.getBean(Generations.class).current().chains()))
                        .containsOnlyKeys("user_may_join_room", "user_may_invite"));
    }

    @Test
    void unknownCallbackNamesTheEntryAndTheSupportedOnes() {
        runner.withPropertyValues("policy-gateway.modules[0].config.callbacks=user_may_invite,check_login_for_spam")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "policy-gateway.modules[0] (module: user_denylist) config.callbacks[1]: 'check_login_for_spam' is not one of "
                                + "[check_event_for_spam, user_may_invite, user_may_send_3pid_invite, user_may_join_room, user_may_create_room, "
                                + "user_may_create_room_alias, user_may_publish_room, user_may_send_state_event, federated_user_may_invite]"));
    }

    @Test
    void errcodeThatIsNotAMatrixErrorCodeIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.errcode=forbidden")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "policy-gateway.modules[0] (module: user_denylist) config.errcode: expected a Matrix error code such as "
                                + "M_FORBIDDEN, got 'forbidden'"));
    }

    @Test
    void entryThatCanNeverMatchNamesItsIndex() {
        runner.withPropertyValues("policy-gateway.modules[0].config.users[2]=evil.example")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "policy-gateway.modules[0] (module: user_denylist) config.users[2]: 'evil.example' is not a valid Matrix user ID"));
    }

    @Test
    void usersFileAloneIsEnoughAndJoinsTheChains(@TempDir Path directory) throws IOException {
        Path file = Files.writeString(directory.resolve("denylist.txt"), "@filed:example.com\n");

        onlyTheFile(file).run(context -> assertThat(chainsWithModules(context.getBean(Generations.class).current().chains()))
                .containsEntry("user_may_invite", List.of("denylist")));
    }

    @Test
    void badLineOfTheUsersFileStopsStartupNamingTheFileTheLineAndTheValue(@TempDir Path directory) throws IOException {
        Path file = Files.writeString(directory.resolve("denylist.txt"), "@filed:example.com\n@nobody\n");

        onlyTheFile(file).run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                "policy-gateway.modules[0] (module: user_denylist) config.users-file: " + file + " line 2: '@nobody' is not a "
                        + "valid Matrix user ID"));
    }

    @Test
    void missingUsersFileStopsStartupNamingIt(@TempDir Path directory) {
        Path file = directory.resolve("absent.txt");

        onlyTheFile(file).run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                "policy-gateway.modules[0] (module: user_denylist) config.users-file: " + file + " does not exist"));
    }

    private static ApplicationContextRunner onlyTheFile(Path file) {
        return ScannedOnceContext.runner()
                .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
                .withUserConfiguration(GatewayWithDenylist.class)
                .withBean(SimpleMeterRegistry.class)
                .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=user_denylist",
                        "policy-gateway.modules[0].name=denylist", "policy-gateway.modules[0].config.users-file=" + file);
    }

    @Test
    void emptyListIsRefused() {
        ScannedOnceContext.runner()
                .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
                .withUserConfiguration(GatewayWithDenylist.class)
                .withBean(SimpleMeterRegistry.class)
                .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=user_denylist")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "policy-gateway.modules[0] (module: user_denylist) config.users: must not be empty when there is no "
                                + "users-file: list user IDs in users, or name a file of them in users-file"));
    }

    private static Map<String, List<String>> chainsWithModules(CallbackChains chains) {
        return chains.endpoints().stream()
                .filter(CallbackEndpoint::hasModules)
                .collect(Collectors.toMap(CallbackEndpoint::name, endpoint -> endpoint.chains().get("")));
    }
}
