package dev.matrixpolicy.gateway.modules.ratelimits;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.config.PolicyGatewayProperties;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.state.SharedState;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What a {@code rate_limits} entry and {@code policy-gateway.state} do to startup: the chains joined, or the message that stops it. */
class RateLimitsConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.ratelimits"})
    static class GatewayWithRateLimits {
    }

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(GatewayWithRateLimits.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com",
                    "policy-gateway.modules[0].module=rate_limits", "policy-gateway.modules[0].name=limits",
                    "policy-gateway.modules[0].config.events.per-sender.capacity=10",
                    "policy-gateway.modules[0].config.events.per-sender.period=10s",
                    "policy-gateway.modules[0].config.joins.per-room.capacity=20",
                    "policy-gateway.modules[0].config.joins.per-room.period=1m");

    @Test
    void joinsTheChainsOfItsConfiguredLimitsOnlyWithTheStateInMemoryByDefault() {
        runner.run(context -> {
            assertThat(context.getBean(SharedState.class)).isInstanceOf(MemoryState.class);
            assertThat(context.getBean(Generations.class).current().chains().endpoints().stream()
                    .filter(CallbackEndpoint::hasModules).map(CallbackEndpoint::name))
                    .containsExactlyInAnyOrder("check_event_for_spam", "user_may_join_room");
        });
    }

    @Test
    void zeroCapacityIsRefusedNamingTheKey() {
        runner.withPropertyValues("policy-gateway.modules[0].config.events.per-sender.capacity=0")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining("events.per-sender.capacity")
                        .hasStackTraceContaining("must be greater than or equal to 1"));
    }

    @Test
    void aLimitWithoutABucketIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.invites.errcode=M_LIMIT_EXCEEDED")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "policy-gateway.modules[0] (module: rate_limits) config.invites: no bucket: set per-sender, per-room or both"));
    }

    @Test
    void roomCreationPerRoomIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.room-creation.per-room.capacity=1",
                        "policy-gateway.modules[0].config.room-creation.per-room.period=1h")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "config.room-creation.per-room: a room being created has no ID yet: use per-sender"));
    }

    @Test
    void skipOlderThanOnALimitOtherThanEventsIsRefused() {
        runner.withPropertyValues("policy-gateway.modules[0].config.joins.per-room.capacity=1",
                        "policy-gateway.modules[0].config.joins.per-room.period=1h",
                        "policy-gateway.modules[0].config.joins.skip-older-than=1h")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "config.joins.skip-older-than: applies to events only"));
    }

    @Test
    void aZeroPeriodIsRefusedInTheWordsOfTheConfiguration() {
        runner.withPropertyValues("policy-gateway.modules[0].config.invites.per-sender.capacity=1",
                        "policy-gateway.modules[0].config.invites.per-sender.period=0s")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "config.invites.per-sender.period: must be at least 1ms, got 0s"));
    }

    /** Validated by the record, as every other duration of a module's configuration, not by hand. */
    @Test
    void aNegativeSkipOlderThanIsRefusedByTheConfigurationsValidationSayingWhatZeroMeans() {
        runner.withPropertyValues("policy-gateway.modules[0].config.events.skip-older-than=-1s")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "config.events.skip-older-than: must not be negative (0s counts every event)"));
    }

    @Test
    void aSkipOlderThanTooLongForMillisecondsIsRefusedNamingTheKeyNotAnOverflow() {
        runner.withPropertyValues("policy-gateway.modules[0].config.events.skip-older-than=200000000000d")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining("config.events.skip-older-than")
                        .hasStackTraceContaining("must be at most 366d, got 17280000000000000s"));
    }

    @Test
    void aSkipOlderThanUnderAMillisecondIsRefusedRatherThanReadAsZeroWhichCountsEveryEvent() {
        runner.withPropertyValues("policy-gateway.modules[0].config.events.skip-older-than=500us")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "config.events.skip-older-than: must be 0s (count every event) or at least 1ms, got 500us"));
    }

    @Test
    void aBadErrcodeNamesItsLimit() {
        runner.withPropertyValues("policy-gateway.modules[0].config.events.errcode=slow-down")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "config.events.errcode: expected a Matrix error code such as M_FORBIDDEN, got 'slow-down'"));
    }

    @Test
    void anEntryWithNoLimitIsRefused() {
        ScannedOnceContext.runner()
                .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
                .withUserConfiguration(GatewayWithRateLimits.class)
                .withBean(SimpleMeterRegistry.class)
                .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=rate_limits",
                        "policy-gateway.modules[0].config.exempt[0]=@admin:example.com")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "no limit is set: configure at least one of events, joins, invites, room-creation"));
    }

    @Test
    void aRedisUrlOfAnotherSchemeIsRefused() {
        runner.withPropertyValues("policy-gateway.state.redis.url=http://redis:6379")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "url: expected a redis:// or rediss:// URL"));
    }

    @Test
    void aRedisUrlWhosePortOrDatabaseIsNoneIsRefusedNamingWhichRatherThanFailingInTheRedisClient() {
        assertRefused(java.util.Map.of(
                "redis://redis:99999", "url: port 99999 is out of range: expected 1 to 65535",
                "redis://redis:0", "url: port 0 is out of range",
                "redis://redis:6379/abc", "url: the path is the database index: expected a number such as /0, got /abc",
                "redis://redis:6379/-1", "got /-1",
                "redis://redis:6379/1/2", "got /1/2"));
    }

    @Test
    void aRedisUrlParameterTheRedisClientWouldMisreadOrPassOverIsRefused() {
        assertRefused(java.util.Map.of(
                "redis://redis:6379?database=abc", "url: database is the database index: expected a number such as 0, got 'abc'",
                "redis://redis:6379?db=-1", "url: db is the database index",
                "redis://redis:6379/2?db=3", "url: names the database twice (db=3)",
                "rediss://redis:6379?verifyPeer=false", "url: verifyPeer: expected FULL (the default), CA or NONE, got 'false'",
                "redis://redis:6379?timeout=5s", "url: the URL's timeout is not read: set policy-gateway.state.redis.timeout",
                "redis://redis:6379?dbs=1", "url: unknown parameter 'dbs'",
                "redis://redis:6379?clientName=100%", "url: not a URL: Malformed escape pair",
                "redis://redis:6379?sentinelMasterId=main", "url: unknown parameter 'sentinelMasterId'"));
    }

    /** What reads as a host to whoever wrote it: a password that breaks the URL, a port or a host name it cannot hold. */
    @Test
    void aRedisUrlThatNamesNoHostToTheParserSaysWhyRatherThanThatItNamesNone() {
        assertRefused(java.util.Map.of(
                "redis://:pass/word@redis:6379", "url: names no host: a character of the user or password that a URL reserves "
                        + "must be percent-encoded: / as %2F",
                "redis://:p@ss@redis:6379", "url: names no host: a character of the user or password that a URL reserves",
                "redis://:pa#ss@redis:6379", "url: names no host: a character of the user or password that a URL reserves",
                "redis://:50%off@redis:6379", "url: not a URL: Malformed escape pair: a character of the user or password",
                "redis://redis:63x9", "url: the port is no number: '63x9'",
                "redis://matrix_redis:6379/0", "url: names no host: 'matrix_redis' holds '_', which a host name may not"));
    }

    /** Each URL, by the problem its refusal names. */
    private void assertRefused(java.util.Map<String, String> problems) {
        problems.forEach((url, problem) -> runner.withPropertyValues("policy-gateway.state.redis.url=" + url)
                .run(context -> assertThat(context).getFailure().as(url).hasStackTraceContaining(problem)));
    }

    @Test
    void aRedisUrlWithADatabaseOrNoneIsAccepted() {
        for (String url : java.util.List.of("redis://redis:6379/3", "redis://redis:6379/", "rediss://:secret@redis",
                "redis://redis:6379?db=3&clientName=policy%20gateway", "rediss://redis?verifyPeer=ca")) {
            assertThat(new PolicyGatewayProperties.State.Redis(url, java.time.Duration.ofMillis(200), "mpg:", null).address())
                    .as(url).startsWith("redis");
        }
    }

    @Test
    void aRedisBlockWithoutUrlIsRefused() {
        runner.withPropertyValues("policy-gateway.state.redis.timeout=1s")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining("url: required under policy-gateway.state.redis"));
    }
}
