package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.decisions.DecisionLog;
import dev.matrixpolicy.gateway.decisions.LoggedDecision;
import java.util.LinkedHashMap;
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

    /** Each parameter as the actuator passes it: a string, or a list of its values when repeated, which is refused. */
    @ReadOperation
    public WebEndpointResponse<Object> decisions(@Nullable Object user, @Nullable Object room, @Nullable Object callback,
                                                 @Nullable Object entry, @Nullable Object limit) {
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("user", user);
        parameters.put("room", room);
        parameters.put("callback", callback);
        parameters.put("entry", entry);
        parameters.put("limit", limit);
        for (Map.Entry<String, Object> parameter : parameters.entrySet()) {
            Optional<WebEndpointResponse<Object>> repeated = EndpointErrors.repeated(parameter.getKey(), parameter.getValue());
            if (repeated.isPresent()) {
                return repeated.get();
            }
        }
        int most;
        try {
            // read here, not by the endpoint's parameter mapping, whose refusal names no parameter
            most = given(limit).map(Long::parseLong).map(n -> (int) Math.min(n, log.capacity())).orElse(log.capacity());
        } catch (NumberFormatException notANumber) {
            most = 0;
        }
        if (most < 1) {
            return EndpointErrors.error("M_INVALID_PARAM", "Invalid query parameter 'limit': expected a whole number of at least 1", 400);
        }
        LoggedDecision.Filter filter = new LoggedDecision.Filter(given(user), given(room), given(callback), given(entry));
        return new WebEndpointResponse<>(new Decisions(log.capacity(), log.recorded(), log.newestFirst(filter, most)), 200);
    }

    /** A filter left empty in a form ({@code ?user=}) filters nothing. */
    private static Optional<String> given(@Nullable Object value) {
        return Optional.ofNullable(value).map(String::valueOf).map(String::strip).filter(text -> !text.isEmpty());
    }
}
