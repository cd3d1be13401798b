package dev.matrixpolicy.gateway.modules.presencerouter;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotEmpty;
import java.util.List;

/**
 * Configuration of the {@code presence_router} module: who receives whose presence, beyond the
 * users they share a room with.
 *
 * @param routes the routes, each from a set of sources to a set of receivers
 */
public record PresenceRouterConfig(@NotEmpty List<@Valid Route> routes) {

    /** The word that stands for every user in {@code sources}, Synapse's {@code PRESENCE_ALL_USERS}. */
    public static final String ALL = "ALL";

    /**
     * One route: every receiver gets the presence of every source.
     *
     * @param receivers user IDs (local or remote) who receive the presence
     * @param sources   user IDs whose presence they receive, or {@value PresenceRouterConfig#ALL} alone
     *                  for every user
     */
    public record Route(@NotEmpty List<String> receivers, @NotEmpty List<String> sources) {
    }
}
