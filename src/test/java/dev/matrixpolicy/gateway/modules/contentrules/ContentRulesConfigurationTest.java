package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What a {@code content_rules} entry's settings do to startup: the message that stops it, naming the key. */
class ContentRulesConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.contentrules"})
    static class GatewayWithContentRules {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(GatewayWithContentRules.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com",
                    "policy-gateway.modules[0].module=content_rules", "policy-gateway.modules[0].name=content",
                    "policy-gateway.modules[0].config.rules[0].name=copypasta");

    @Test
    void aRepeatedMinLengthBelowOneIsRefusedNamingTheKey() {
        runner.withPropertyValues("policy-gateway.modules[0].config.rules[0].repeated.min-length=0")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining("rules[0].repeated.minLength")
                        .hasStackTraceContaining("must be greater than 0"));
    }

    /** A count keeps 10,000 rooms at most: a rule allowing more would never refuse. */
    @Test
    void aMaxRoomsACountCouldNeverPassIsRefusedNamingTheKey() {
        runner.withPropertyValues("policy-gateway.modules[0].config.rules[0].repeated.max-rooms=10000")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining("rules[0].repeated.maxRooms")
                        .hasStackTraceContaining("must be at most 9999"));
        runner.withPropertyValues("policy-gateway.modules[0].config.rules[0].repeated.max-rooms=9999")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void anAllowedTypeThatIsNotAMediaTypeIsRefusedNamingTheKeyTheValueAndWhatToWrite() {
        for (String type : List.of("image", "image/", "*/*", "image/png; charset=x")) {
            runner.withPropertyValues("policy-gateway.modules[0].config.rules[0].media.allowed-types[0]=video/mp4",
                            "policy-gateway.modules[0].config.rules[0].media.allowed-types[1]=" + type)
                    .run(context -> assertThat(context).getFailure().as(type).hasStackTraceContaining(
                            "policy-gateway.modules[0] (module: content_rules) config.rules[0].media.allowed-types[1]: '" + type
                                    + "' is not a media type: write type/subtype (image/png) or type/* (image/*)"));
        }
    }

    @Test
    void aMissingHashesFileIsRefusedInAnAdminsWordsNotAJavaType() {
        runner.withPropertyValues("policy-gateway.modules[0].config.rules[0].media.hashes-file=/nonexistent/hashes.txt")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "config.rules[0].media.hashes-file: /nonexistent/hashes.txt does not exist: create it, or correct the path")
                        .satisfies(failure -> assertThat(failure.getCause().getMessage()).doesNotContain("Exception")));
    }

    @Test
    void mediaTypesAndTypeWildcardsAreAccepted() {
        runner.withPropertyValues("policy-gateway.modules[0].config.rules[0].media.allowed-types=image/*, Video/MP4, image/svg+xml,"
                        + " application/vnd.oasis.opendocument.text")
                .run(context -> assertThat(context).hasNotFailed());
    }
}
