package dev.matrixpolicy.gateway.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * {@value #NAME} (counter): policy API requests answered with an error instead of a result, tagged
 * {@code status} and {@code errcode} ({@code none} for the access rule's plain-text refusals: a bad
 * token, another machine, another site's page).
 * Bad input, unknown callbacks, a shim with the wrong token and modules failing closed all show here;
 * paths outside the callback categories are Spring MVC's, in {@code http.server.requests}.
 */
@Component
final class RequestErrors {
    static final String NAME = "policy.requests.errors";
    static final String PLAIN_TEXT = "none";

    private final MeterRegistry registry;
    private final Map<Key, Counter> counters = new ConcurrentHashMap<>();

    RequestErrors(MeterRegistry registry) {
        this.registry = registry;
    }

    private record Key(int status, String errcode) {
    }

    void count(int status, String errcode) {
        counters.computeIfAbsent(new Key(status, errcode), key -> Counter.builder(NAME)
                .description("Policy API requests answered with an error instead of a result")
                .tags("status", Integer.toString(status), "errcode", errcode)
                .register(registry)).increment();
    }
}
