package dev.matrixpolicy.gateway.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * {@value #NAME} (counter): policy API requests answered with an error instead of a result, tagged
 * {@code status} and {@code errcode} ({@code none} for the access rule's plain-text refusals: a bad
 * token, another machine, another site's page).
 * Bad input, unknown callbacks, a shim with the wrong token and modules failing closed all show here;
 * paths outside the callback categories are Spring MVC's, in {@code http.server.requests}. The errors
 * the documented alerts watch (a 401, a 5xx) are registered up front, so each series exists (at zero)
 * before its first error and alerts on its rate see that one: a series born at its first error starts
 * at its count, and {@code rate()} sees no rise in it.
 */
@Component
final class RequestErrors {
    static final String NAME = "policy.requests.errors";
    static final String PLAIN_TEXT = "none";

    private final MeterRegistry registry;
    private final Map<Key, Counter> counters = new ConcurrentHashMap<>();

    RequestErrors(MeterRegistry registry) {
        this.registry = registry;
        for (Key watched : WATCHED) {
            counter(watched);
        }
    }

    private record Key(int status, String errcode) {
    }

    /** A wrong or missing token, a module failing closed or a key fetch busy, the bodies' share of the heap full, our own bug. */
    private static final List<Key> WATCHED = List.of(new Key(401, PLAIN_TEXT), new Key(503, "M_UNKNOWN"),
            new Key(503, "M_LIMIT_EXCEEDED"), new Key(500, "M_UNKNOWN"));

    void count(int status, String errcode) {
        counter(new Key(status, errcode)).increment();
    }

    private Counter counter(Key key) {
        return counters.computeIfAbsent(key, absent -> Counter.builder(NAME)
                .description("Policy API requests answered with an error instead of a result")
                .tags("status", Integer.toString(key.status()), "errcode", key.errcode())
                .register(registry));
    }
}
