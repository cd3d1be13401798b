package dev.matrixpolicy.gateway.policylist;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;

/**
 * Reads policy rule state events: the spec's {@code m.policy.rule.*} types and the legacy
 * {@code m.room.rule.*} and {@code org.matrix.mjolnir.rule.*} ones.
 *
 * <p>A state event replaces whatever its (type, state key) held before, so every rule event is a
 * {@link Change} of that slot: a rule, or the slot emptied. Empty content (a withdrawn or redacted
 * rule) empties it; so does content that is not a rule this gateway can apply (an unknown
 * recommendation, no entity, an entity of another kind), which is reported so that it can be counted.
 */
public final class PolicyEvents {
    /** The content fields that hold an entity's hashes, by preference: each an object whose {@code sha256} is read. */
    static final List<String> HASHES = List.of("hashes", "org.matrix.msc4205.hashes");

    private PolicyEvents() {
    }

    /**
     * A policy room's state slot.
     *
     * <p>One rule can sit in three slots: its state key under the spec's type and under the two older
     * types ({@code m.policy.rule.user}, {@code m.room.rule.user}, {@code org.matrix.mjolnir.rule.user}).
     * Moderation bots read the three as one, the newer type's event deciding whenever there is one,
     * even an empty one (Meowlnir merges them so; Mjolnir and Draupnir never let an older type's event
     * replace a newer one's). That is how a bot withdraws a rule first sent under an older type: it
     * sends empty content under the spec's type at the same state key (Meowlnir's
     * {@code !remove-policy}), and the older event stays in the room's state.
     */
    public record Slot(String type, String stateKey) {

        /**
         * The change that decides this slot's state key among those {@code held}: the one of the
         * newest type held (an emptied one included); null when none is held.
         */
        Change deciding(Function<Slot, Change> held) {
            EntityKind kind = EntityKind.ofEventType(type).orElseThrow();
            for (String rival : kind.eventTypesByPrecedence()) {
                Change change = held.apply(rival.equals(type) ? this : new Slot(rival, stateKey));
                if (change != null) {
                    return change;
                }
            }
            return null;
        }

        /** Whether this slot's type is the spec's, which no other type's event can override. */
        boolean isNewestType() {
            return EntityKind.isSpecType(type);
        }
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
        INVALID_HASH("invalid_hash"),
        /** An entity no ID of the rule's kind has, e.g. a server name in a user rule: it could never match. */
        ENTITY_OF_ANOTHER_KIND("entity_of_another_kind");

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
        return event != null && event.isObject() ? change(Fields.of(event), source) : Optional.empty();
    }

    /**
     * As {@link #read(JsonNode, String)}, for the event the parser is on, read off its tokens without
     * a tree: a list of thousands of rules read again on every change would otherwise make a tree of
     * some twenty objects a rule only to read seven strings from it. Leaves the parser on the event's
     * last token.
     */
    public static Optional<Change> read(JsonParser parser, String source) {
        return readState(parser, source).change();
    }

    /**
     * One event of a room's full state: the rule it holds, if any, and whether it is the room's
     * {@code m.room.create}, which every room's state holds.
     */
    record StateEvent(Optional<Change> change, boolean isCreate) {
        private static final StateEvent NONE = new StateEvent(Optional.empty(), false);
    }

    /** As {@link #read(JsonParser, String)}, telling the room's {@code m.room.create} too. */
    static StateEvent readState(JsonParser parser, String source) {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            parser.skipChildren();
            return StateEvent.NONE;
        }
        Fields fields = Fields.read(parser);
        return new StateEvent(change(fields, source), "m.room.create".equals(fields.type) && "".equals(fields.stateKey));
    }

    /** The one reading of a rule event's fields, whichever way they were parsed. */
    private static Optional<Change> change(Fields event, String source) {
        if (event.type == null || event.stateKey == null) {
            return Optional.empty();
        }
        Optional<EntityKind> kind = EntityKind.ofEventType(event.type);
        if (kind.isEmpty()) {
            return Optional.empty();
        }
        if (!event.contentIsObject) {
            // no homeserver sends that: an event of a garbled answer, which withdraws nothing
            return Optional.empty();
        }
        Slot slot = new Slot(Shared.TEXTS.text(event.type), event.stateKey); // a few event types, in every rule of a room
        Optional<String> eventId = Optional.ofNullable(event.eventId);
        if (!event.hasContent) {
            return Optional.of(new Cleared(slot, Optional.empty(), eventId));
        }
        Optional<Recommendation> recommendation = event.recommendation == null ? Optional.empty()
                : Recommendation.ofEvent(event.recommendation);
        if (recommendation.isEmpty()) {
            return Optional.of(new Cleared(slot, Optional.of(Skipped.UNKNOWN_RECOMMENDATION), eventId));
        }
        Entity entity;
        if (event.entity != null && !event.entity.isEmpty()) {
            if (!kind.get().couldName(event.entity)) {
                return Optional.of(new Cleared(slot, Optional.of(Skipped.ENTITY_OF_ANOTHER_KIND), eventId));
            }
            entity = Entity.of(event.entity);
        } else {
            Optional<String> hash = Arrays.stream(event.hashes).filter(Objects::nonNull).findFirst();
            if (hash.isEmpty()) {
                return Optional.of(new Cleared(slot, Optional.of(Skipped.NO_ENTITY), eventId));
            }
            try {
                entity = Entity.sha256(hash.get());
            } catch (IllegalArgumentException invalid) {
                return Optional.of(new Cleared(slot, Optional.of(Skipped.INVALID_HASH), eventId));
            }
        }
        // lists repeat a few reasons, and a few moderators send every rule: one copy of each
        PolicyRule.Origin origin = new PolicyRule.Origin(Shared.TEXTS.text(source), eventId,
                Shared.TEXTS.text(Optional.ofNullable(event.sender)), 0);
        return Optional.of(new Set(slot, new PolicyRule(kind.get(), entity, recommendation.get(),
                event.reason == null ? "" : Shared.TEXTS.text(event.reason), origin)));
    }

    /**
     * What a rule is read from, as found in one state event: each a string, or null where the event
     * has none (or something else there). Where a field is repeated, the last one counts, as in a tree.
     */
    private static final class Fields {
        String type;
        String stateKey;
        String eventId;
        String sender;
        /** Whether {@code content} is an object with at least one field. */
        boolean hasContent;
        /** Whether {@code content} is an object at all: an event without one is no event a homeserver sends. */
        boolean contentIsObject;
        String recommendation;
        String entity;
        String reason;
        /** {@code sha256} of each of {@link #HASHES}, in that order of preference. */
        final String[] hashes = new String[HASHES.size()];

        static Fields of(JsonNode event) {
            Fields fields = new Fields();
            fields.type = text(event.get("type"));
            fields.stateKey = text(event.get("state_key"));
            fields.eventId = text(event.get("event_id"));
            fields.sender = text(event.get("sender"));
            JsonNode content = event.get("content");
            if (content != null && content.isObject()) {
                fields.contentIsObject = true;
                fields.hasContent = !content.isEmpty();
                fields.recommendation = text(content.get("recommendation"));
                fields.entity = text(content.get("entity"));
                fields.reason = text(content.get("reason"));
                for (int i = 0; i < HASHES.size(); i++) {
                    JsonNode hashes = content.get(HASHES.get(i));
                    fields.hashes[i] = hashes != null && hashes.isObject() ? text(hashes.get("sha256")) : null;
                }
            }
            return fields;
        }

        /** Reads the object the parser is on, up to and including its end. */
        static Fields read(JsonParser parser) {
            Fields fields = new Fields();
            for (String name = parser.nextName(); name != null; name = parser.nextName()) {
                parser.nextToken();
                switch (name) {
                    case "type" -> fields.type = string(parser);
                    case "state_key" -> fields.stateKey = string(parser);
                    case "event_id" -> fields.eventId = string(parser);
                    case "sender" -> fields.sender = string(parser);
                    case "content" -> fields.readContent(parser);
                    default -> parser.skipChildren();
                }
            }
            return fields;
        }

        private void readContent(JsonParser parser) {
            hasContent = false;
            recommendation = entity = reason = null;
            Arrays.fill(hashes, null);
            contentIsObject = parser.currentToken() == JsonToken.START_OBJECT;
            if (!contentIsObject) {
                parser.skipChildren();
                return;
            }
            for (String name = parser.nextName(); name != null; name = parser.nextName()) {
                hasContent = true;
                parser.nextToken();
                switch (name) {
                    case "recommendation" -> recommendation = string(parser);
                    case "entity" -> entity = string(parser);
                    case "reason" -> reason = string(parser);
                    default -> {
                        int hash = HASHES.indexOf(name);
                        if (hash >= 0) {
                            hashes[hash] = sha256(parser);
                        } else {
                            parser.skipChildren();
                        }
                    }
                }
            }
        }

        private static String sha256(JsonParser parser) {
            if (parser.currentToken() != JsonToken.START_OBJECT) {
                parser.skipChildren();
                return null;
            }
            String sha256 = null;
            for (String name = parser.nextName(); name != null; name = parser.nextName()) {
                parser.nextToken();
                if (name.equals("sha256")) {
                    sha256 = string(parser);
                } else {
                    parser.skipChildren();
                }
            }
            return sha256;
        }

        private static String string(JsonParser parser) {
            if (parser.currentToken() == JsonToken.VALUE_STRING) {
                return parser.getString();
            }
            parser.skipChildren();
            return null;
        }
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

    private static String text(JsonNode node) {
        return node != null && node.isString() ? node.stringValue() : null;
    }
}
