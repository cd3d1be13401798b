package dev.matrixpolicy.gateway.policylist;

import java.util.Objects;
import java.util.Optional;

/**
 * One rule of a policy list.
 *
 * @param kind           what it is about
 * @param entity         whom it names
 * @param recommendation what it recommends
 * @param reason         its {@code reason}, possibly empty
 * @param origin         where it comes from
 */
public record PolicyRule(EntityKind kind, Entity entity, Recommendation recommendation, String reason, Origin origin) {
    public PolicyRule {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(entity, "entity");
        Objects.requireNonNull(recommendation, "recommendation");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(origin, "origin");
    }

    /**
     * Where a rule comes from.
     *
     * @param source  the source's name in the module's configuration
     * @param eventId the state event that holds it (policy rooms, and files of state events), if any
     * @param sender  who sent that event, if known
     * @param line    the line of a line-format file, 0 otherwise
     */
    public record Origin(String source, Optional<String> eventId, Optional<String> sender, int line) {
        public Origin {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(eventId, "eventId");
            Objects.requireNonNull(sender, "sender");
        }
    }
}
