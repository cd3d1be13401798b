package dev.matrixpolicy.gateway.policylist;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * Reads policy rule state events: the spec's {@code m.policy.rule.*} types and the legacy
 * {@code m.room.rule.*} and {@code org.matrix.mjolnir.rule.*} ones.
 *
 * <p>A state event replaces whatever its (type, state key) held before, so every rule event is a
 * {@link Change} of that slot: a rule, or the slot emptied. Empty content (a withdrawn or redacted
 * rule) empties it; so does content that is not a rule this gateway can apply (an unknown
 * recommendation, no entity), which is reported so that it can be counted.
 */
public final class PolicyEvents {
    private static final String[] HASHES = {"hashes", "org.matrix.msc4205.hashes"};

    private PolicyEvents() {
    }

    /** A policy room's state slot. */
    public record Slot(String type, String stateKey) {
    }

    /** What one state event does to its slot. */
    public sealed interface Change {
        Slot slot();

        /** The state event that made the change, if known: a later redaction of it empties the slot. */
        Optional<String> eventId();
    }

    /** The slot now holds this rule. */
    public record Set(Slot slot, PolicyRule rule) implements Change {
        @Override
        public Optional<String> eventId() {
            return rule.origin().eventId();
        }
    }

    /**
     * The slot is empty now.
     *
     * @param why     empty when the content was empty (a withdrawn or redacted rule); otherwise what made
     *                the content unusable, e.g. {@code unknown recommendation 'org.example.mute'}
     * @param eventId the state event, if known
     */
    public record Cleared(Slot slot, Optional<Skipped> why, Optional<String> eventId) implements Change {
    }

    /** Why a rule event holds no rule this gateway applies, for the counters and the log. */
    public enum Skipped {
        UNKNOWN_RECOMMENDATION("unknown_recommendation"),
        NO_ENTITY("no_entity"),
        INVALID_HASH("invalid_hash");

        private final String wireName;

        Skipped(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    /**
     * Reads one state event, in the client-server API's format ({@code type}, {@code state_key},
     * {@code content}, and where known {@code event_id} and {@code sender}).
     *
     * @return empty for anything that is not a policy rule state event
     */
    public static Optional<Change> read(JsonNode event, String source) {
        if (event == null || !event.isObject()) {
            return Optional.empty();
        }
        String type = text(event.get("type"));
        String stateKey = text(event.get("state_key"));
        if (type == null || stateKey == null) {
            return Optional.empty();
        }
        Optional<EntityKind> kind = EntityKind.ofEventType(type);
        if (kind.isEmpty()) {
            return Optional.empty();
        }
        Slot slot = new Slot(Shared.TEXTS.text(type), stateKey); // a few event types, in every rule of a room
        Optional<String> eventId = Optional.ofNullable(text(event.get("event_id")));
        JsonNode content = event.get("content");
        if (content == null || !content.isObject() || content.isEmpty()) {
            return Optional.of(new Cleared(slot, Optional.empty(), eventId));
        }
        String recommendationText = text(content.get("recommendation"));
        Optional<Recommendation> recommendation = recommendationText == null ? Optional.empty()
                : Recommendation.ofEvent(recommendationText);
        if (recommendation.isEmpty()) {
            return Optional.of(new Cleared(slot, Optional.of(Skipped.UNKNOWN_RECOMMENDATION), eventId));
        }
        Entity entity;
        String literal = text(content.get("entity"));
        if (literal != null && !literal.isEmpty()) {
            entity = Entity.of(literal);
        } else {
            Optional<String> hash = hash(content);
            if (hash.isEmpty()) {
                return Optional.of(new Cleared(slot, Optional.of(Skipped.NO_ENTITY), eventId));
            }
            try {
                entity = Entity.sha256(hash.get());
            } catch (IllegalArgumentException invalid) {
                return Optional.of(new Cleared(slot, Optional.of(Skipped.INVALID_HASH), eventId));
            }
        }
        String reason = text(content.get("reason"));
        // lists repeat a few reasons, and a few moderators send every rule: one copy of each
        PolicyRule.Origin origin = new PolicyRule.Origin(Shared.TEXTS.text(source), eventId,
                Shared.TEXTS.text(Optional.ofNullable(text(event.get("sender")))), 0);
        return Optional.of(new Set(slot, new PolicyRule(kind.get(), entity, recommendation.get(),
                reason == null ? "" : Shared.TEXTS.text(reason), origin)));
    }

    /**
     * The event an {@code m.room.redaction} redacts: its top-level {@code redacts}, or from room
     * version 11 on its {@code content.redacts}. A redacted rule event is an emptied slot, like a
     * withdrawn one, but the redaction is no state event: it names the rule only by event ID.
     *
     * @return empty for any other event
     */
    public static Optional<String> redacts(JsonNode event) {
        if (event == null || !event.isObject() || !"m.room.redaction".equals(text(event.get("type")))) {
            return Optional.empty();
        }
        String redacts = text(event.get("redacts"));
        if (redacts == null) {
            JsonNode content = event.get("content");
            redacts = content == null ? null : text(content.get("redacts"));
        }
        return Optional.ofNullable(redacts).filter(id -> !id.isEmpty());
    }

    private static Optional<String> hash(JsonNode content) {
        for (String field : HASHES) {
            JsonNode hashes = content.get(field);
            if (hashes != null && hashes.isObject()) {
                String sha256 = text(hashes.get("sha256"));
                if (sha256 != null) {
                    return Optional.of(sha256);
                }
            }
        }
        return Optional.empty();
    }

    private static String text(JsonNode node) {
        return node != null && node.isString() ? node.stringValue() : null;
    }
}
