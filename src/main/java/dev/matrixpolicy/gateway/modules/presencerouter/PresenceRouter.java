package dev.matrixpolicy.gateway.modules.presencerouter;

import dev.matrixpolicy.gateway.callbacks.InterestedUsers;
import dev.matrixpolicy.gateway.callbacks.PresenceStates;
import dev.matrixpolicy.gateway.callbacks.UsersForStates;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetInterestedUsers;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetUsersForStates;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One {@code presence_router} instance: static routes, answered from lookup tables built once at
 * startup so a call costs one look-up per presence update (or per asking user), whatever the number
 * of routes.
 *
 * <p>Both callbacks read the same tables, which keeps them complementary, as Synapse requires: if
 * an update from S is forwarded to R, then {@code get_interested_users(R)} contains S (or is "all
 * users"), and the other way round.
 */
final class PresenceRouter implements PolicyModule, GetUsersForStates, GetInterestedUsers {
    /** Receivers of an ALL route: they get every update. */
    private final Set<String> receiversOfAll;
    /** Source to its receivers, for routes with listed sources; receivers of ALL are left out. */
    private final Map<String, Set<String>> receiversBySource;
    /** Receiver to whose presence it may see. */
    private final Map<String, InterestedUsers> interestedUsers;

    /**
     * @param sourcesByReceiver each receiver with its listed sources (in configuration order)
     * @param receiversOfAll    receivers of an ALL route
     */
    PresenceRouter(Map<String, Set<String>> sourcesByReceiver, Set<String> receiversOfAll) {
        this.receiversOfAll = Collections.unmodifiableSet(new LinkedHashSet<>(receiversOfAll));
        Map<String, Set<String>> bySource = new LinkedHashMap<>();
        Map<String, InterestedUsers> interested = new LinkedHashMap<>();
        sourcesByReceiver.forEach((receiver, sources) -> {
            if (!receiversOfAll.contains(receiver)) {
                sources.forEach(source -> bySource.computeIfAbsent(source, s -> new LinkedHashSet<>()).add(receiver));
                interested.put(receiver, new InterestedUsers.Users(sources));
            }
        });
        receiversOfAll.forEach(receiver -> interested.put(receiver, InterestedUsers.ALL_USERS));
        bySource.replaceAll((source, receivers) -> Collections.unmodifiableSet(receivers));
        this.receiversBySource = Collections.unmodifiableMap(bySource);
        this.interestedUsers = Collections.unmodifiableMap(interested);
    }

    /**
     * Every receiver of ALL is in the answer, without updates too: Synapse builds the sync of a user
     * interested in all users by asking this callback about every user's presence and taking that
     * user's entry by key ({@code _filter_all_presence_updates_for_user}, v1.157), so a receiver
     * missing from the answer to an empty list (nobody online) fails its sync with a 500.
     */
    @Override
    public UsersForStates getUsersForStates(GetUsersForStates.Args args) {
        Map<String, Set<JsonNode>> forwarded = new LinkedHashMap<>();
        // one set for every receiver of ALL, which the answer holds once
        PresenceStates all = new PresenceStates();
        receiversOfAll.forEach(receiver -> forwarded.put(receiver, all));
        for (ObjectNode update : args.stateUpdates()) {
            // user_id was validated as a user ID when the request was read.
            Set<String> receivers = receiversBySource.getOrDefault(update.get("user_id").stringValue(), Set.of());
            receivers.forEach(receiver -> forwarded.computeIfAbsent(receiver, r -> new PresenceStates()).add(update));
            if (!receiversOfAll.isEmpty()) {
                all.add(update);
            }
        }
        return forwarded.isEmpty() ? UsersForStates.NONE : new UsersForStates(forwarded);
    }

    @Override
    public InterestedUsers getInterestedUsers(GetInterestedUsers.Args args) {
        return interestedUsers.getOrDefault(args.userId(), InterestedUsers.NONE);
    }

    @Override
    public boolean mayBlock() {
        return false;
    }
}
