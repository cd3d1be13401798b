package dev.matrixpolicy.gateway.policylist;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import tools.jackson.core.JsonParser;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.util.TokenBuffer;

/**
 * What one {@code /sync} answer says of the one room a {@link RoomSource} reads, taken from the parser
 * as the answer streams in: the next token, whether the bot left the room, and the room's rule events.
 * Everything else (other rooms, presence, device lists) is skipped token by token, never held.
 *
 * <p>At most {@link #MAX_EVENTS} events of each section are kept, each as its own small tree. A
 * longer section is a gap: the source reads the room's full state instead, which it streams. So an
 * answer of any size (a state delta after a long outage, a homeserver that ignores the filter's
 * timeline limit) takes a bounded heap, where one tree of it would take several times its bytes.
 *
 * @param nextBatch the token the next long-poll starts from
 * @param left      the room's events up to the bot's leaving, when the answer reports it among those the
 *                  bot left (kicked, banned): the homeserver sends the rule events up to the removal there
 * @param joined    the room as a joined room, when the answer has it
 */
record SyncAnswer(String nextBatch, Optional<Room> left, Optional<Room> joined) {
    /** The events of a section kept before it counts as a gap: the filter's own timeline limit. */
    static final int MAX_EVENTS = SyncFilter.TIMELINE_LIMIT;
    /** Reads one event off a parser that goes on after it. */
    private static final ObjectReader EVENT = EventJson.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * The room's events in one answer.
     *
     * @param gap      whether events are missing between the last answer and these: the homeserver
     *                 said so ({@code limited}), or a section held more than {@link #MAX_EVENTS}; or
     *                 whether the two sections cannot be applied in order: both hold an event for one
     *                 slot. The {@code state} section is not always the state before the timeline:
     *                 where the room's history forked, Synapse puts there the state at the timeline's
     *                 end, and a timeline event that state resolution lost would then win here
     * @param cut      whether a section held more than {@link #MAX_EVENTS}, or an event larger than any
     *                 homeserver sends (its {@code unsigned} aside), so that none of its events
     *                 were kept; a {@code limited} answer's are (its {@code state} section holds the net
     *                 state changes of the events left out, and its timeline the newest events)
     * @param state    the {@code state} section's events, in order; empty when {@code cut}
     * @param timeline the timeline's events, in order; empty when {@code cut}
     */
    record Room(boolean gap, boolean cut, List<JsonNode> state, List<JsonNode> timeline) {
        Room {
            gap |= cut || shareASlot(state, timeline);
            state = cut ? List.of() : List.copyOf(state);
            timeline = cut ? List.of() : List.copyOf(timeline);
        }

        private static boolean shareASlot(List<JsonNode> state, List<JsonNode> timeline) {
            if (state.isEmpty()) {
                return false;
            }
            Set<List<String>> slots = new HashSet<>();
            state.forEach(event -> slots.add(slot(event)));
            return timeline.stream().filter(event -> event.has("state_key")).anyMatch(event -> slots.contains(slot(event)));
        }

        private static List<String> slot(JsonNode event) {
            return List.of(event.path("type").asString(""), event.path("state_key").asString(""));
        }
    }

    /**
     * Reads an answer from a parser before its first token, to its end. A field of an unexpected type
     * is read as absent, as a tree's {@code path} would read it; only an answer that is no object, has
     * no {@code next_batch} or has more after its object is refused. Where a key is repeated, each
     * occurrence is read.
     *
     * @throws IllegalArgumentException naming what makes the answer unusable
     */
    static SyncAnswer read(JsonParser parser, String roomId) {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            throw new IllegalArgumentException("not a JSON object");
        }
        String nextBatch = null;
        Room left = null;
        Room joined = null;
        for (String name = parser.nextName(); name != null; name = parser.nextName()) {
            JsonToken value = parser.nextToken();
            if (name.equals("next_batch") && value == JsonToken.VALUE_STRING) {
                nextBatch = parser.getString();
            } else if (name.equals("rooms") && value == JsonToken.START_OBJECT) {
                for (String section = parser.nextName(); section != null; section = parser.nextName()) {
                    JsonToken rooms = parser.nextToken();
                    if (section.equals("join") && rooms == JsonToken.START_OBJECT) {
                        joined = oneRoom(parser, roomId).orElse(joined);
                    } else if (section.equals("leave") && rooms == JsonToken.START_OBJECT) {
                        left = oneRoom(parser, roomId).orElse(left);
                    } else {
                        parser.skipChildren();
                    }
                }
            } else {
                parser.skipChildren();
            }
        }
        if (parser.nextToken() != null) {
            throw new IllegalArgumentException("more content after the answer");
        }
        if (nextBatch == null || nextBatch.isEmpty()) {
            throw new IllegalArgumentException("no next_batch");
        }
        return new SyncAnswer(nextBatch, Optional.ofNullable(left), Optional.ofNullable(joined));
    }

    /** The one room of the {@code join} or {@code leave} section the parser is on, when it is there; the other rooms are skipped. */
    private static Optional<Room> oneRoom(JsonParser parser, String roomId) {
        Room found = null;
        for (String room = parser.nextName(); room != null; room = parser.nextName()) {
            parser.nextToken();
            if (room.equals(roomId)) {
                found = room(parser);
            } else {
                parser.skipChildren();
            }
        }
        return Optional.ofNullable(found);
    }

    /** The room the parser is on; a room that is no object is a room with nothing new. */
    private static Room room(JsonParser parser) {
        List<JsonNode> state = new ArrayList<>();
        List<JsonNode> timeline = new ArrayList<>();
        boolean limited = false;
        boolean cut = false;
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            parser.skipChildren();
            return new Room(false, false, state, timeline);
        }
        for (String section = parser.nextName(); section != null; section = parser.nextName()) {
            JsonToken value = parser.nextToken();
            if ((section.equals("state") || section.equals("timeline")) && value == JsonToken.START_OBJECT) {
                List<JsonNode> events = section.equals("state") ? state : timeline;
                for (String field = parser.nextName(); field != null; field = parser.nextName()) {
                    JsonToken token = parser.nextToken();
                    if (field.equals("events") && token == JsonToken.START_ARRAY) {
                        cut |= !events(parser, events);
                    } else if (field.equals("limited") && section.equals("timeline")) {
                        limited |= token == JsonToken.VALUE_TRUE;
                        parser.skipChildren(); // an object or array there is read past, as anything else unexpected
                    } else {
                        parser.skipChildren();
                    }
                }
            } else {
                parser.skipChildren();
            }
        }
        return new Room(limited, cut, state, timeline);
    }

    /** What {@link #bounded} answers for an event larger than a homeserver sends. */
    private static final JsonNode TOO_LARGE = MissingNode.getInstance();

    /**
     * The fields of an event the source reads ({@link PolicyEvents}, {@link Tombstone}, {@link RoomUpgrade}),
     * at the top and in {@code content}; in a hash object only {@code sha256}.
     */
    private static final Set<String> READ = Set.of("type", "state_key", "event_id", "sender", "redacts", "content");
    private static final Set<String> READ_IN_CONTENT = Stream.concat(
            Stream.of("recommendation", "entity", "reason", "redacts", "replacement_room", RoomUpgrade.UPGRADE_TYPE),
            PolicyEvents.HASHES.stream()).collect(Collectors.toUnmodifiableSet());

    /**
     * The event the parser is on as a tree, if it is an object no larger than an event can be
     * ({@link EventJson#EVENT_BYTES}), its {@code unsigned} section left out; {@link #TOO_LARGE} for a
     * larger one, {@code null} for one that is no object, the rest of it skipped either way. Its tokens
     * are buffered first and measured as they come, so that a homeserver's answer of one event of a
     * hundred megabytes is never built into a tree of that size. {@code unsigned} is neither read nor
     * measured: it is the homeserver's own addition (a replaced rule's whole {@code prev_content}, up to
     * an event's size again), and a rule replacing one of 40 KB would otherwise be over the limit.
     *
     * <p>Only what the source reads is kept ({@link #READ}, {@link #READ_IN_CONTENT}): an array or object
     * there, but for the content and its hash objects, is kept empty, and of the content's other fields one,
     * as null, so that the content still reads as not empty. Any member of a public policy room may send a
     * redaction, whose content Synapse takes as written: 64 KiB of {@code [{},{},...]} made a tree of 2 MiB,
     * and a sync of a hundred of them, 6 MB on the wire, held 200 MiB of heap.
     */
    private static JsonNode bounded(JsonParser parser) {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            parser.skipChildren();
            return null; // no event: a homeserver sends objects
        }
        long start = parser.currentTokenLocation().getByteOffset();
        long unsigned = 0;
        TokenBuffer buffer = TokenBuffer.forBuffering(parser, ObjectReadContext.empty());
        buffer.copyCurrentEvent(parser);
        List<String> path = new ArrayList<>(); // the objects entered below the event: content, then a hash object
        boolean otherContentKept = false;
        for (int depth = 1; depth > 0; ) {
            JsonToken token = parser.nextToken();
            if (token == null) {
                throw new IllegalArgumentException("the answer ends early");
            }
            if (token == JsonToken.END_OBJECT) { // every value entered is an object, and ends so
                depth--;
                if (depth > 0) {
                    path.removeLast();
                }
                buffer.copyCurrentEvent(parser);
                continue;
            }
            String name = parser.currentName();
            long from = parser.currentTokenLocation().getByteOffset();
            JsonToken value = parser.nextToken();
            if (depth == 1 && name.equals("unsigned")) {
                parser.skipChildren();
                unsigned += parser.currentLocation().getByteOffset() - from;
                continue;
            }
            boolean read = switch (path.size()) {
                case 0 -> READ.contains(name);
                case 1 -> READ_IN_CONTENT.contains(name);
                default -> name.equals("sha256");
            };
            boolean enter = value == JsonToken.START_OBJECT && read
                    && (path.isEmpty() ? name.equals("content") : path.size() == 1 && PolicyEvents.HASHES.contains(name));
            if (enter) {
                buffer.writeName(name);
                buffer.copyCurrentEvent(parser);
                path.add(name);
                depth++;
                otherContentKept &= path.size() != 1; // a content object (again) keeps one other field of its own
            } else if (read) {
                buffer.writeName(name);
                if (value.isStructStart()) {
                    parser.skipChildren();
                    if (value == JsonToken.START_OBJECT) {
                        buffer.writeStartObject();
                        buffer.writeEndObject();
                    } else {
                        buffer.writeStartArray();
                        buffer.writeEndArray();
                    }
                } else {
                    buffer.copyCurrentEvent(parser);
                }
            } else {
                parser.skipChildren();
                if (path.size() == 1 && !otherContentKept) {
                    buffer.writeName(name);
                    buffer.writeNull();
                    otherContentKept = true;
                }
            }
            if (parser.currentLocation().getByteOffset() - start - unsigned > EventJson.EVENT_BYTES) {
                skipTo(parser, depth);
                return TOO_LARGE;
            }
        }
        return EVENT.readTree(buffer.asParserOnFirstToken(ObjectReadContext.empty()));
    }

    /** Skips the rest of a value {@code depth} levels deep, up to its end. */
    private static void skipTo(JsonParser parser, int depth) {
        if (parser.currentToken().isStructStart()) {
            parser.skipChildren(); // the one just opened, whole
            depth--;
        }
        for (; depth > 0; depth--) {
            JsonToken token = parser.nextToken();
            while (token != null && !token.isStructEnd()) {
                if (token.isStructStart()) {
                    parser.skipChildren();
                }
                token = parser.nextToken();
            }
            if (token == null) {
                throw new IllegalArgumentException("the answer ends early");
            }
        }
    }

    /**
     * Adds the events of the array the parser is on, each read as a tree, up to {@link #MAX_EVENTS}
     * and none larger than an event can be; past either, none is kept and the rest is skipped.
     *
     * @return whether every event was kept
     */
    private static boolean events(JsonParser parser, List<JsonNode> into) {
        boolean all = true;
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
            if (token == null) {
                throw new IllegalArgumentException("the answer ends early");
            }
            if (all && into.size() < MAX_EVENTS) {
                JsonNode event = bounded(parser);
                if (event == TOO_LARGE) { // the events are not all here: read in full, which streams an event of any size
                    all = false;
                    into.clear();
                } else if (event != null) {
                    into.add(event);
                }
            } else {
                all = false;
                into.clear();
                parser.skipChildren();
            }
        }
        return all;
    }
}
