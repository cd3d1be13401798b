package dev.matrixpolicy.gateway.reload;

import java.util.LinkedHashMap;
import java.util.Map;
import dev.matrixpolicy.gateway.config.Generations;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;

/**
 * {@code POST /actuator/reload}: applies the configuration on disk now. 200 with {@code reloaded} or
 * {@code unchanged}; 409 with {@code failed} and the problem when the configuration on disk would not
 * start the gateway, in which case the serving generation goes on. {@code GET /actuator/reload}: the
 * serving generation and how the last reload ended, as the {@code configReload} health details say
 * them (the console reads them here, where its login is asked for).
 */
@Endpoint(id = "reload")
final class ReloadEndpoint {
    private final Reloader reloader;
    private final Generations generations;

    ReloadEndpoint(Reloader reloader, Generations generations) {
        this.reloader = reloader;
        this.generations = generations;
    }

    @ReadOperation
    public Map<String, Object> status() {
        return status(reloader, generations);
    }

    /** The serving generation, since when it serves, and the last reload. */
    static Map<String, Object> status(Reloader reloader, Generations generations) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("generation", generations.current().number());
        status.put("since", generations.current().appliedAt().toString());
        status.put("last_reload", describe(reloader.last()));
        return status;
    }

    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> reload() {
        ReloadResult result = reloader.reload("request");
        return new WebEndpointResponse<>(describe(result),
                result.outcome() == ReloadResult.Outcome.FAILED ? 409 : 200);
    }

    /** A result as the endpoint and the health details show it. */
    static Map<String, Object> describe(ReloadResult result) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("result", result.outcome().wireName());
        body.put("generation", result.generation());
        body.put("trigger", result.trigger());
        body.put("at", result.at().toString());
        result.problem().ifPresent(problem -> body.put("error", problem));
        if (!result.restartNeeded().isEmpty()) {
            body.put("restart_needed", result.restartNeeded());
        }
        return body;
    }
}
