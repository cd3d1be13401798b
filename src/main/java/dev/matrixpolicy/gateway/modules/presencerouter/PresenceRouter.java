package dev.matrixpolicy.gateway.modules.presencerouter;

import dev.matrixpolicy.gateway.callbacks.InterestedUsers;
import dev.matrixpolicy.gateway.callbacks.PresenceStates;
import dev.matrixpolicy.gateway.callbacks.UsersForStates;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetInterestedUsers;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetUsersForStates;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
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
    private static final int[] NO_GROUPS = {};
    /** Receivers of an ALL route: they get every update. */
    private final Set<String> receiversOfAll;
    /**
     * Receivers with listed sources, grouped by their sources: the receivers of one group receive the
     * same updates, so they share one set, whose states are each hashed once however many receive them
     * (a team of 40 routed to each other: one set, not 40). Receivers of ALL are left out.
     */
    private final List<List<String>> groups;
    /** Source to the groups ({@link #groups}' indices) that receive its updates. */
    private final Map<String, int[]> groupsBySource;
    /** Receiver to whose presence it may see. */
    private final Map<String, InterestedUsers> interestedUsers;

    /**
     * @param sourcesByReceiver each receiver with its listed sources (in configuration order)
     * @param receiversOfAll    receivers of an ALL route
     */
    PresenceRouter(Map<String, Set<String>> sourcesByReceiver, Set<String> receiversOfAll) {
        this.receiversOfAll = Collections.unmodifiableSet(new LinkedHashSet<>(receiversOfAll));
        Map<Set<String>, List<String>> receiversBySources = new LinkedHashMap<>();
        Map<String, InterestedUsers> interested = new LinkedHashMap<>();
        sourcesByReceiver.forEach((receiver, sources) -> {
            if (!receiversOfAll.contains(receiver)) {
                receiversBySources.computeIfAbsent(Set.copyOf(sources), group -> new ArrayList<>()).add(receiver);
                interested.put(receiver, new InterestedUsers.Users(sources));
            }
        });
        receiversOfAll.forEach(receiver -> interested.put(receiver, InterestedUsers.ALL_USERS));
        Map<String, List<Integer>> bySource = new LinkedHashMap<>();
        List<List<String>> grouped = new ArrayList<>();
        receiversBySources.forEach((sources, receivers) -> {
            sources.forEach(source -> bySource.computeIfAbsent(source, s -> new ArrayList<>()).add(grouped.size()));
            grouped.add(List.copyOf(receivers));
        });
        this.groups = List.copyOf(grouped);
        Map<String, int[]> indices = new HashMap<>();
        bySource.forEach((source, groupIndices) -> indices.put(source, groupIndices.stream().mapToInt(Integer::intValue).toArray()));
        this.groupsBySource = Map.copyOf(indices);
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
        // one set for every receiver of ALL, and one for each group, which the answer holds once
        PresenceStates all = new PresenceStates();
        receiversOfAll.forEach(receiver -> forwarded.put(receiver, all));
        PresenceStates[] received = new PresenceStates[groups.size()];
        for (ObjectNode update : args.stateUpdates()) {
            // user_id was validated as a user ID when the request was read.
            for (int group : groupsBySource.getOrDefault(update.get("user_id").stringValue(), NO_GROUPS)) {
                if (received[group] == null) {
                    received[group] = new PresenceStates();
                }
                received[group].add(update);
            }
            if (!receiversOfAll.isEmpty()) {
                all.add(update);
            }
        }
        for (int group = 0; group < received.length; group++) {
            PresenceStates states = received[group];
            if (states != null) {
                groups.get(group).forEach(receiver -> forwarded.put(receiver, states));
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
