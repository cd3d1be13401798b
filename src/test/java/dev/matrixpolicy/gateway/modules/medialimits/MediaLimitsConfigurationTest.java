package dev.matrixpolicy.gateway.modules.medialimits;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.config.Generations;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaConfigForUser;
import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaUploadLimitsForUser;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ByteArrayResource;

/** How a {@code media_limits} entry binds, and the one message that stops startup when it is wrong. */
class MediaLimitsConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT, "media: groups[0].");
    @RegisterExtension
    final LoggedLines warnings = LoggedLines.of(MediaLimitsModuleType.class, Level.WARN);

    private static final String GROUP = "policy-gateway.modules[0].config.groups[0]";
    private static final String FAILURE = "policy-gateway.modules[0] (module: media_limits) config.";

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.medialimits"})
    static class Gateway {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=media_limits",
                    "policy-gateway.modules[0].name=media", GROUP + ".name=everyone", GROUP + ".users[0]=*:example.com");

    @Test
    void uploadLimitsLeftOutFallThroughWhileAnEmptyListLiftsEveryLimit() {
        runner.withPropertyValues(GROUP + ".max-upload-size=10MB")
                .run(context -> assertThat(limits(context.getBean(Generations.class).current().instance("media").orElseThrow())).isEmpty());
        // YAML's "upload-limits: []" binds as an empty value
        runner.withPropertyValues(GROUP + ".upload-limits=")
                .run(context -> assertThat(limits(context.getBean(Generations.class).current().instance("media").orElseThrow()))
                        .hasValueSatisfying(none -> assertThat(none).isEmpty()));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            .users[1]                  | example.com | groups[0].users[1]: 'example.com' is not a valid Matrix user ID
            .users[1]                  | bot*        | groups[0].users[1]: a glob must start with '@', '*' or '?'
            .max-upload-size           | 0B          | groups[0].max-upload-size: must be at least 1B, got 0B
            .upload-limits[0].max      | -1MB        | groups[0].upload-limits[0].max: must not be negative, got -1MB
            .upload-limits[0].per      | 0s          | groups[0].upload-limits[0].per: must be positive
            .upload-limits[0].per      | often       | groups[0].upload-limits[0].per
            .upload-limits[0].per      | 200000000000d | groups[0].upload-limits[0].per
            .media-config[m.upload.size] | 5         | groups[0].media-config.m.upload.size: is set by max-upload-size
            """)
    void badValueStopsStartupNamingGroupAndField(String key, String value, String problem) {
        runner.withPropertyValues(GROUP + ".max-upload-size=10MB", GROUP + ".upload-limits[0].max=1GB",
                        GROUP + ".upload-limits[0].per=1d", GROUP + key + "=" + value)
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(FAILURE + problem));
    }

    @Test
    void limitsThatCannotMeanWhatTheySayStartWithAWarningEach() {
        runner.withPropertyValues(GROUP + ".max-upload-size=100MB",
                        GROUP + ".upload-limits[0].max=500MB", GROUP + ".upload-limits[0].per=1h",
                        GROUP + ".upload-limits[1].max=10MB", GROUP + ".upload-limits[1].per=1d",
                        GROUP + ".upload-limits[2].max=2GB", GROUP + ".upload-limits[2].per=7d",
                        GROUP + ".upload-limits[3].max=10MB", GROUP + ".upload-limits[3].per=1d")
                .run(context -> assertThat(context).hasNotFailed());

        assertThat(warnings.all()).containsExactly(
                "media: groups[0].max-upload-size 100MB is above groups[0].upload-limits[1].max 10MB: every upload over 10MB"
                        + " is refused (400 M_RESOURCE_LIMIT_EXCEEDED) while clients are told they may upload 100MB. Lower"
                        + " max-upload-size to at most 10MB, or raise the limit",
                "media: groups[0].upload-limits[0] (500MB per 3600s) never refuses an upload that upload-limits[1] (10MB per 86400s)"
                        + " lets through, whose period is no shorter and whose max is no higher: remove it, or change one of the two",
                "media: groups[0].upload-limits[3] (10MB per 86400s) never refuses an upload that upload-limits[1] (10MB per 86400s)"
                        + " lets through, whose period is no shorter and whose max is no higher: remove it, or change one of the two");
    }

    @Test
    void theDocumentedGroupsStartWithoutAWarning() {
        runner.withPropertyValues(GROUP + ".max-upload-size=100MB",
                        GROUP + ".upload-limits[0].max=500MB", GROUP + ".upload-limits[0].per=1h",
                        GROUP + ".upload-limits[1].max=2GB", GROUP + ".upload-limits[1].per=1d")
                .run(context -> assertThat(context).hasNotFailed());

        assertThat(warnings.all()).isEmpty();
    }

    @Test
    void mediaConfigWithoutMaxUploadSizeStopsStartup() {
        runner.withPropertyValues(GROUP + ".upload-limits=", GROUP + ".media-config[com.example.policy]=strict")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(FAILURE
                        + "groups[0].media-config: needs max-upload-size: Synapse answers this map instead of its own "
                        + "media config, so without it the user would not be told m.upload.size"));
    }

    @Test
    void groupThatChangesNothingStopsStartup() {
        runner.run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                FAILURE + "groups[0]: group 'everyone' sets neither max-upload-size nor upload-limits, so it would change nothing"));
    }

    @Test
    void twoGroupsOfOneNameStopStartup() {
        runner.withPropertyValues(GROUP + ".max-upload-size=10MB", "policy-gateway.modules[0].config.groups[1].name=everyone",
                        "policy-gateway.modules[0].config.groups[1].users[0]=*", "policy-gateway.modules[0].config.groups[1].max-upload-size=1MB")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        FAILURE + "groups[1].name: 'everyone' names two groups; names must be unique"));
    }

    @Test
    void mediaConfigNumbersWrittenInYamlAreAnsweredAsJsonNumbers() {
        // YAML, unlike a properties file, hands the binder typed values: Double, Integer, BigInteger
        String yaml = """
                policy-gateway.modules:
                  - module: media_limits
                    name: media
                    config:
                      groups:
                        - name: everyone
                          users: ["*:example.com"]
                          max-upload-size: 10MB
                          media-config:
                            "[com.example.ratio]": 0.5
                            "[com.example.count]": 5
                            "[com.example.huge]": 12345678901234567890
                """;
        runner.withInitializer(context -> {
            try {
                new YamlPropertySourceLoader().load("gateway.yml", new ByteArrayResource(yaml.getBytes(StandardCharsets.UTF_8)))
                        .forEach(source -> context.getEnvironment().getPropertySources().addFirst(source));
            } catch (IOException impossible) {
                throw new UncheckedIOException(impossible);
            }
        }).run(context -> assertThat(((MediaLimits) context.getBean(Generations.class).current().instance("media").orElseThrow().module())
                .getMediaConfigForUser(new GetMediaConfigForUser.Args("@carol:example.com")).orElseThrow().toString())
                .isEqualTo("{\"m.upload.size\":10485760,\"com.example.ratio\":0.5,\"com.example.count\":5,"
                        + "\"com.example.huge\":12345678901234567890}"));
    }

    private static java.util.Optional<java.util.List<dev.matrixpolicy.gateway.callbacks.MediaUploadLimit>> limits(ModuleInstance instance) {
        return ((MediaLimits) instance.module()).getMediaUploadLimitsForUser(new GetMediaUploadLimitsForUser.Args("@carol:example.com"));
    }
}
