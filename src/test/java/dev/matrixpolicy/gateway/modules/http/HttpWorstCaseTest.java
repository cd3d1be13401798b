package dev.matrixpolicy.gateway.modules.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.WorstCase;
import dev.matrixpolicy.gateway.modules.http.HttpConfig.CircuitBreakerSettings;
import dev.matrixpolicy.gateway.modules.http.HttpConfig.LoginTypeConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The longest one forwarded call can take before the module answers by its failure mode. */
class HttpWorstCaseTest {
    private static final Duration SECOND = Duration.ofSeconds(1);

    private final List<HttpForwarder> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(HttpForwarder::close);
    }

    @Test
    void withTheDefaultsAQuestionTakesTwoAttemptsAndOneBackoff() {
        assertThat(forwarder(List.of("user_may_invite"), List.of(), Map.of(), SECOND, 1, Duration.ofMillis(50)).worstCase())
                .contains(new WorstCase(Duration.ofMillis(4050),
                        "user_may_invite: 2 attempts × (connect-timeout 1s + timeout 1s) + retry-backoff 50ms"));
    }

    @Test
    void everyRetryWaitsOutBothTimeoutsAfterABackoffThatDoubles() {
        WorstCase worst = forwarder(List.of("user_may_invite"), List.of(), Map.of(), Duration.ofMillis(500), 3,
                Duration.ofMillis(100)).worstCase().orElseThrow();

        assertThat(worst.time()).isEqualTo(Duration.ofMillis(4 * 1500 + 100 + 200 + 400));
        assertThat(worst.computation())
                .isEqualTo("user_may_invite: 4 attempts × (connect-timeout 500ms + timeout 1s) + retry-backoff 100ms + 200ms + 400ms");
    }

    @Test
    void retryPausesStopDoublingAtRetryMaxBackoff() {
        WorstCase worst = forwarder(List.of("user_may_invite"), List.of(), Map.of(), Duration.ofMillis(500), 5,
                Duration.ofMillis(300)).worstCase().orElseThrow();

        assertThat(worst.time()).isEqualTo(Duration.ofMillis(6 * 1500 + 300 + 600 + 1000 + 1000 + 1000));
        assertThat(worst.computation())
                .isEqualTo("user_may_invite: 6 attempts × (connect-timeout 500ms + timeout 1s) + retry-backoff 300ms + 600ms + 1s + 1s + 1s");
    }

    @Test
    void withoutRetriesOneAttemptIsTheWorstCase() {
        assertThat(forwarder(List.of("user_may_invite"), List.of(), Map.of(), SECOND, 0, Duration.ofMillis(50)).worstCase())
                .contains(new WorstCase(Duration.ofSeconds(2), "user_may_invite: connect-timeout 1s + timeout 1s"));
    }

    @Test
    void notificationsAreSentOnceSoRetriesDoNotLengthenThem() {
        assertThat(forwarder(List.of("on_new_event"), List.of(), Map.of(), SECOND, 5, SECOND).worstCase())
                .contains(new WorstCase(Duration.ofSeconds(2), "on_new_event: connect-timeout 1s + timeout 1s"));
    }

    @Test
    void checkAuthIsSentOnceSoRetriesDoNotLengthenIt() {
        assertThat(forwarder(List.of(), List.of(new LoginTypeConfig("m.login.password", List.of("password"))), Map.of(), SECOND, 5,
                SECOND).worstCase()).contains(new WorstCase(Duration.ofSeconds(2), "check_auth: connect-timeout 1s + timeout 1s"));
    }

    @Test
    void theCallbackWithTheLongestPerCallbackTimeoutSetsTheWorstCase() {
        WorstCase worst = forwarder(List.of("user_may_invite", "check_event_for_spam", "user_may_join_room"), List.of(),
                Map.of("check_event_for_spam", Duration.ofMillis(200), "user_may_join_room", Duration.ofSeconds(3)),
                SECOND, 1, Duration.ofMillis(50)).worstCase().orElseThrow();

        assertThat(worst.time()).isEqualTo(Duration.ofMillis(2 * 4000 + 50));
        assertThat(worst.computation()).startsWith("user_may_join_room: 2 attempts × (connect-timeout 1s + timeout 3s)");
    }

    @Test
    void forwardedLoginTypesCountWithTheCheckAuthTimeout() {
        WorstCase worst = forwarder(List.of("user_may_invite"), List.of(new LoginTypeConfig("org.example.sso", List.of("token"))),
                Map.of("check_auth", Duration.ofSeconds(4)), SECOND, 0, Duration.ofMillis(50)).worstCase().orElseThrow();

        assertThat(worst).isEqualTo(new WorstCase(Duration.ofSeconds(5), "check_auth: connect-timeout 1s + timeout 4s"));
    }

    private PolicyModule forwarder(List<String> callbacks, List<LoginTypeConfig> loginTypes, Map<String, Duration> timeouts,
                                   Duration connectTimeout, int retries, Duration retryBackoff) {
        HttpConfig config = new HttpConfig(URI.create("http://policy.internal:8000/v1"), callbacks, loginTypes, null, null,
                SECOND, timeouts, connectTimeout, Backend.DEFAULT_MAX_REPLY_SIZE, retries, retryBackoff, SECOND,
                new CircuitBreakerSettings(50, 20, 10, Duration.ofSeconds(10), 3), FailureMode.FAIL_CLOSED);
        HttpForwarder forwarder = (HttpForwarder) new HttpModuleType()
                .create(config, new ModuleContext("policy-service", "example.com", new SimpleMeterRegistry()));
        opened.add(forwarder);
        return forwarder;
    }
}
