package dev.matrixpolicy.gateway.modules.presencerouter;

import dev.matrixpolicy.gateway.config.Generations;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.InterestedUsers;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetInterestedUsers;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** How a {@code presence_router} entry binds, and the one message that stops startup when it is wrong. */
class PresenceRouterConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    private static final String ROUTES = "policy-gateway.modules[0].config.routes";

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.presencerouter"})
    static class Gateway {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=presence_router",
                    "policy-gateway.modules[0].name=router");

    @Test
    void sourcesWrittenAsTheScalarAllMeanEveryUser() {
        runner.withPropertyValues(ROUTES + "[0].receivers[0]=@auditor:example.com", ROUTES + "[0].sources=ALL")
                .run(context -> assertThat(interested(context.getBean(Generations.class).current().instance("router").orElseThrow(), "@auditor:example.com"))
                        .isSameAs(InterestedUsers.ALL_USERS));
    }

    @Test
    void singleReceiverMayBeWrittenAsAScalar() {
        runner.withPropertyValues(ROUTES + "[0].receivers=@alice:example.com",
                        ROUTES + "[0].sources[0]=@bob:example.com", ROUTES + "[0].sources[1]=@charlie:somewhere.org")
                .run(context -> assertThat(interested(context.getBean(Generations.class).current().instance("router").orElseThrow(), "@alice:example.com"))
                        .isEqualTo(new InterestedUsers.Users(Set.of("@bob:example.com", "@charlie:somewhere.org"))));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            [1].sources[0]    | bob                  | routes[1].sources[0]   | 'bob' is not a valid Matrix user ID: expected @localpart:server_name, or ALL (alone) for every user
            [1].sources[0]    | all                  | routes[1].sources[0]   | 'all' is not a valid Matrix user ID
            [1].sources[0]    | @bob:not a server    | routes[1].sources[0]   | '@bob:not a server' is not a valid Matrix user ID
            [1].receivers[0]  | #room:example.com    | routes[1].receivers[0] | '#room:example.com' is not a valid Matrix user ID: expected @localpart:server_name
            [1].receivers[0]  | ALL                  | routes[1].receivers[0] | receivers must be user IDs: ALL is only meaningful in sources
            [1].sources[1]    | ALL                  | routes[1].sources[1]   | ALL already means every user: list it alone, as 'sources: ALL'
            """)
    void badEntryInARouteStopsStartupNamingRouteListAndPosition(String key, String value, String field, String problem) {
        runner.withPropertyValues(ROUTES + "[0].receivers[0]=@alice:example.com", ROUTES + "[0].sources[0]=@bob:example.com",
                        ROUTES + "[1].receivers[0]=@carol:example.com", ROUTES + "[1].sources[0]=@dave:example.com",
                        ROUTES + key + "=" + value)
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("policy-gateway.modules[0] (module: presence_router) config." + field + ": " + problem));
    }

    @Test
    void noRoutesStopsStartup() {
        runner.run(context -> assertThat(context).getFailure()
                .hasStackTraceContaining("policy-gateway.modules[0] (module: presence_router) config.routes: must not be empty"));
    }

    @Test
    void routeWithoutSourcesStopsStartup() {
        runner.withPropertyValues(ROUTES + "[0].receivers[0]=@alice:example.com")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("policy-gateway.modules[0] (module: presence_router) config.routes[0].sources: must not be empty"));
    }

    private static InterestedUsers interested(ModuleInstance instance, String user) {
        return ((PresenceRouter) instance.module()).getInterestedUsers(new GetInterestedUsers.Args(user));
    }
}
