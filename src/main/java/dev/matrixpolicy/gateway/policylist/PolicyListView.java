package dev.matrixpolicy.gateway.policylist;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@code policy_list} instance shows of itself on the management port: its sources and
 * their health, and why an entity is or is not banned.
 */
public interface PolicyListView {

    /**
     * Whether the gateway may take traffic as far as this instance is concerned, and the sources that
     * are stale or have not read yet (reported whether or not they make it unready).
     */
    Readiness readiness(Instant now);

    /**
     * @param ready    false only when the instance is configured to be unready with stale lists, and a source
     *                 is stale, has had no good read (its first read failed, or has gone on for the stale
     *                 time), or holds rules that could not be compiled
     * @param starting whether a source's first read has not ended: its own rules are not in force, no
     *                 predecessor's serve in their place, and it has not failed either. The gateway
     *                 is not ready until no instance is starting, once (see the {@code policyLists}
     *                 health component)
     * @param problems per source, those and any failing source, e.g. {@code community: stale: no good read for 2h (HTTP 502)}
     */
    record Readiness(boolean ready, boolean starting, Map<String, String> problems) {
    }

    /** Each source in priority order, with its rule counts and health. */
    List<SourceReport> sources();

    /**
     * The rules that name an entity, in priority order, and the one that decides it.
     *
     * @param entity a user ID, a room ID or alias, or a server name
     */
    Explanation explain(String entity);

    /**
     * @param name   the source's name
     * @param kind   {@code allow}, {@code room}, {@code file} or {@code url}
     * @param location the room, path or URL
     * @param rules  rule counts by kind and recommendation
     * @param status the source's health
     * @param upgrade the upgrade its policy room announces, which the source reports and does not follow
     */
    record SourceReport(String name, String kind, String location,
                        Map<EntityKind, Map<Recommendation, Integer>> rules, PolicySource.Status status,
                        Optional<RoomUpgrade> upgrade) {
    }

    /**
     * @param entity   the entity asked about
     * @param decision what the callbacks apply to it, sources unscoped: the first source with a rule
     *                 for the entity or (for a user or room alias) its server decides; an allow means not banned
     * @param verdicts for the entity and, for a user or room alias, its server: each one's deciding rule and every match
     */
    record Explanation(String entity, Optional<PolicyRule> decision, List<Verdict> verdicts) {
    }

    /**
     * @param kind     the kind the entity was looked up as
     * @param id       the ID looked up (the entity, or its server)
     * @param decision the rule that decides it, if any (an allow means it is not banned)
     * @param matches  every rule that names it, in priority order
     */
    record Verdict(EntityKind kind, String id, Optional<PolicyRule> decision, List<PolicyRule> matches) {
    }
}
