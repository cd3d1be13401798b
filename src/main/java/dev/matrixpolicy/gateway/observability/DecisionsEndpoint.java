package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.decisions.DecisionLog;
import dev.matrixpolicy.gateway.decisions.LoggedDecision;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/decisions}: the decision log, newest first, optionally filtered by a user or room
 * involved, the callback and the deciding entry (exact matches), and cut at {@code limit}. An admin
 * endpoint: the management port's admin filter guards it.
 */
@Component
@Endpoint(id = "decisions")
final class DecisionsEndpoint {
    private final DecisionLog log;

    DecisionsEndpoint(DecisionLog log) {
        this.log = log;
    }

    /** The answer: the ring's size, how many were recorded since startup, and the matching decisions. */
    record Decisions(int capacity, long recorded, List<LoggedDecision> decisions) {
    }

    @ReadOperation
    public WebEndpointResponse<Object> decisions(@Nullable String user, @Nullable String room, @Nullable String callback,
                                                 @Nullable String entry, @Nullable String limit) {
        int most;
        try {
            // read here, not by the endpoint's parameter mapping, whose refusal names no parameter
            most = given(limit).map(Long::parseLong).map(n -> (int) Math.min(n, log.capacity())).orElse(log.capacity());
        } catch (NumberFormatException notANumber) {
            most = 0;
        }
        if (most < 1) {
            return new WebEndpointResponse<>(Map.of("errcode", "M_INVALID_PARAM",
                    "error", "Invalid query parameter 'limit': expected a whole number of at least 1"), 400);
        }
        LoggedDecision.Filter filter = new LoggedDecision.Filter(given(user), given(room), given(callback), given(entry));
        return new WebEndpointResponse<>(new Decisions(log.capacity(), log.recorded(), log.newestFirst(filter, most)), 200);
    }

    /** A filter left empty in a form ({@code ?user=}) filters nothing. */
    private static Optional<String> given(@Nullable String value) {
        return Optional.ofNullable(value).map(String::strip).filter(text -> !text.isEmpty());
    }
}
