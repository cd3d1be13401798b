package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.decisions.DecisionLog;
import dev.matrixpolicy.gateway.decisions.LoggedDecision;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/decisions}: the decision log, newest first, optionally filtered by a user or room
 * involved, the callback and the deciding entry (exact matches), and cut at {@code limit}. An admin
 * endpoint: the management port's admin filter guards it.
 *
 * <p>A filter that could match nothing because it is misspelt (a user ID without its server, a
 * callback with its category, an entry no module instance has) is refused, naming the parameter and
 * what it expects: an empty list would read as "no decisions" when the question was wrong.
 */
@Component
@Endpoint(id = "decisions")
final class DecisionsEndpoint {
    private static final Pattern WHOLE_NUMBER = Pattern.compile("\\+?[0-9]+");

    private final DecisionLog log;
    private final Generations generations;

    DecisionsEndpoint(DecisionLog log, Generations generations) {
        this.log = log;
        this.generations = generations;
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
        try {
            LoggedDecision.Filter filter = new LoggedDecision.Filter(
                    checked("user", user, MatrixIds::userIdAsSynapseTakesIt),
                    checked("room", room, DecisionsEndpoint::roomIdOrAlias),
                    checked("callback", callback, DecisionsEndpoint::callbackName),
                    checked("entry", entry, this::entryName));
            // read here, not by the endpoint's parameter mapping, whose refusal names no parameter
            int most = checked("limit", limit, this::atMostTheCapacity).orElse(log.capacity());
            List<LoggedDecision> newestFirst = log.newestFirst(filter, most);
            // counted after the list is read: a decision recorded meanwhile is in the count, never shown and not counted
            return new WebEndpointResponse<>(new Decisions(log.capacity(), log.recorded(), newestFirst), 200);
        } catch (EndpointErrors.InvalidParameter invalid) {
            return invalid.response();
        }
    }

    /**
     * A parameter's value, stripped, read by {@code grammar}, which throws {@link IllegalArgumentException}
     * saying what it expects; empty when not given or left empty in a form ({@code ?user=}), which filters nothing.
     */
    private static <T> Optional<T> checked(String name, @Nullable Object value, Function<String, T> grammar) {
        Optional<String> given = Optional.ofNullable(value).map(String::valueOf).map(String::strip).filter(text -> !text.isEmpty());
        try {
            return given.map(grammar);
        } catch (IllegalArgumentException invalid) {
            throw new EndpointErrors.InvalidParameter(name, invalid.getMessage());
        }
    }

    private static String roomIdOrAlias(String room) {
        return switch (room.charAt(0)) {
            case '!' -> MatrixIds.roomIdAsSynapseTakesIt(room);
            case '#' -> MatrixIds.roomAliasAsSynapseTakesIt(room);
            default -> throw new IllegalArgumentException("expected a room ID (!opaque:server_name) or a room alias (#localpart:server_name)");
        };
    }

    /** A callback as the log names it: Synapse's name alone, {@code user_may_invite}, not the API's path. */
    private static String callbackName(String callback) {
        if (Callbacks.byName(callback).isPresent()) {
            return callback;
        }
        String last = callback.substring(callback.lastIndexOf('/') + 1);
        throw new IllegalArgumentException("expected a Synapse callback name, e.g. user_may_invite"
                + (Callbacks.byName(last).isPresent() ? ", without its category: '" + last + "'" : ""));
    }

    /**
     * An entry that a module instance serving now has the name of, or that decided a decision the log
     * still holds: an instance a reload removed keeps its decisions until they make way.
     */
    private String entryName(String entry) {
        List<String> serving = generations.current().modules().stream().map(ModuleInstance::name).toList();
        if (serving.contains(entry) || !log.newestFirst(LoggedDecision.Filter.ALL.byEntry(entry), 1).isEmpty()) {
            return entry;
        }
        throw new IllegalArgumentException("no module instance of that name serves now, nor decided a decision the log holds;"
                + " serving: " + (serving.isEmpty() ? "none" : String.join(", ", serving)));
    }

    /**
     * A whole number of at least 1, in ASCII digits (BigInteger alone would take any script's, {@code １});
     * one above the capacity is the capacity, however many digits it has.
     */
    private int atMostTheCapacity(String limit) {
        if (WHOLE_NUMBER.matcher(limit).matches()) {
            BigInteger number = new BigInteger(limit);
            if (number.signum() > 0) {
                return number.min(BigInteger.valueOf(log.capacity())).intValue();
            }
        }
        throw new IllegalArgumentException("expected a whole number of at least 1");
    }
}
