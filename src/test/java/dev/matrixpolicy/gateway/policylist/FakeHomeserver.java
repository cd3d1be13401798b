package dev.matrixpolicy.gateway.policylist;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import tools.jackson.core.StreamWriteConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The client-server API of a homeserver with one bot, as far as a {@link RoomSource} uses it, on a
 * real local HTTP server: whoami, aliases, membership, join, filters, long-polled {@code /sync} and
 * {@code /rooms/{id}/state}. The test scripts the rooms' state, the sync batches and the failures.
 */
final class FakeHomeserver implements AutoCloseable {
    static final String TOKEN = "syt_Ym90_secret_token";
    static final String BOT = "@bot:test";
    /** Writes what Synapse would send, nesting as deep as an event of 64 KiB can: no limit of Jackson's own. */
    private static final JsonMapper JSON = JsonMapper.builder(JsonFactory.builder()
            .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(65_536).build()).build()).build();
    private static final String PREFIX = "/_matrix/client/v3";

    /** One request the homeserver received. */
    record Request(Instant at, String method, String path, Map<String, String> query, String body) {
        /** The path after {@code /_matrix/client/v3}, decoded, e.g. {@code /rooms/!r:test/state}. */
        String call() {
            return method + " " + path;
        }
    }

    private final HttpServer server;
    private final Object lock = new Object();
    private final Map<String, String> aliases = new HashMap<>();
    private final Map<String, Map<List<String>, ObjectNode>> rooms = new HashMap<>();
    private final Map<String, Integer> hugeRooms = new HashMap<>();
    /** What {@code GET /rooms/{roomId}/state} answers instead of a room's state, when set. */
    private volatile String garbledState;
    private final Set<String> joined = new HashSet<>();
    private final Set<String> joinable = new HashSet<>();
    /** The {@code rooms} object of each incremental sync answer; since token {@code s<n>} has seen the first n. */
    private final List<ObjectNode> batches = new ArrayList<>();
    /** Synapse's sync answer cache (sync_response_cache_duration, 2 minutes), for initial syncs: the token by filter and timeout. */
    private final Map<String, String> initialSyncs = new HashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private boolean tokenValid = true;
    private int failures;
    private int failureStatus;
    private String failureBody;
    private boolean stallBodies;
    private boolean tombstoneReadsFail;
    private boolean stateReadsFail;
    /** Failures scripted for one call each, see {@link #failCall}. */
    private final Map<String, ScriptedFailure> failingCalls = new HashMap<>();
    /** The events whose reads answer them pruned, see {@link #serveEventPruned}. */
    private final Set<String> prunedEventReads = new HashSet<>();
    /** The room every long-poll that ends with nothing new reports a gap in, when set. */
    private String gapInEveryAnswer;
    /** Whether long-polls answer at once, whatever their timeout, and the bot's membership reads as out of every room. */
    private boolean answerAtOnce;
    /** Whether long-polls answer at once with the last batch again and the token they were given, see {@link #replayLastBatch}. */
    private boolean replayLastBatch;
    private boolean membershipSaysOut;
    /** Run, holding the lock, when the bot's membership is next asked, before the answer is read. */
    private Runnable beforeNextMembershipCheck;
    private boolean stopped;
    /** Whether reads of one event wait unanswered, see {@link #holdEventReads}. */
    private boolean eventReadsHeld;
    /** Whether reads of an event read before wait unanswered, see {@link #holdEventReadsAskedAgain}. */
    private boolean eventReadsAskedAgainHeld;
    private int eventCounter;

    FakeHomeserver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    // ---- scripting

    /** A room the bot is in, with a create event and the bot's membership. */
    FakeHomeserver room(String roomId) {
        synchronized (lock) {
            rooms.computeIfAbsent(roomId, id -> new LinkedHashMap<>());
            joined.add(roomId);
            put(roomId, event("m.room.create", "", JSON.createObjectNode().put("room_version", "10")));
            put(roomId, member("join"));
        }
        return this;
    }

    /** A room the bot is not in but may join, under an alias. */
    FakeHomeserver roomToJoin(String roomId, String alias, boolean mayJoin) {
        synchronized (lock) {
            rooms.computeIfAbsent(roomId, id -> new LinkedHashMap<>());
            put(roomId, event("m.room.create", "", JSON.createObjectNode().put("room_version", "10")));
            aliases.put(alias, roomId);
            if (mayJoin) {
                joinable.add(roomId);
            }
        }
        return this;
    }

    /** Points an alias at another room, as a room upgrade moves its local aliases. */
    void moveAlias(String alias, String roomId) {
        synchronized (lock) {
            aliases.put(alias, roomId);
        }
    }

    /** Answers every read of a room's full state with {@code body} (a list that is no room's state), or the state again with null. */
    void garbleState(String body) {
        garbledState = body;
    }

    /** A room whose state holds {@code count} user bans, written as they are sent, never held. */
    FakeHomeserver hugeRoom(String roomId, int count) {
        synchronized (lock) {
            room(roomId);
            hugeRooms.put(roomId, count);
        }
        return this;
    }

    /** Puts a state event into the room's current state without any sync seeing it, e.g. before the source starts. */
    FakeHomeserver state(String roomId, ObjectNode event) {
        synchronized (lock) {
            put(roomId, event);
        }
        return this;
    }

    /** Sends state events: into the room's state, and as one sync batch's timeline. */
    void send(String roomId, ObjectNode... events) {
        sendBatch(roomId, "join", false, events);
    }

    /**
     * Sends state events the way a homeserver reports a gap: all of them change the state, but the
     * sync batch holds only the last, with {@code limited: true}.
     */
    void sendWithGap(String roomId, ObjectNode... events) {
        sendBatch(roomId, "join", true, events);
    }

    /**
     * A moderator redacts an event, as Synapse does it: the event's content is emptied in the room's
     * state, and the sync's timeline gets the {@code m.room.redaction}, which names the event at the
     * top level ({@code redacts}) or, from room version 11 on, in its content.
     */
    void redact(String roomId, String eventId, boolean inContent) {
        redact(roomId, eventId, inContent, true);
    }

    /**
     * A redaction the homeserver accepts into the room but does not apply, as Synapse does for one
     * whose sender may not redact the event (a member of a server that lets anyone send them): the
     * timeline gets it, the event keeps its content.
     */
    void redactWithoutPower(String roomId, String eventId) {
        redact(roomId, eventId, false, false);
    }

    /** {@link #redactWithoutPower} of several events, whose redactions one sync batch carries. */
    void redactWithoutPower(String roomId, List<String> eventIds) {
        redact(roomId, eventIds, false, false);
    }

    /**
     * Applies a redaction sent {@linkplain #redactWithoutPower without taking effect}, as a worker
     * whose cache lagged behind the sync that carried it would have a moment later: the event's
     * content is emptied, and no sync says so.
     */
    void applyRedactionLate(String roomId, String eventId) {
        synchronized (lock) {
            ObjectNode redaction = JSON.createObjectNode().put("type", "m.room.redaction").put("sender", "@mod:test")
                    .put("event_id", "$late" + ++eventCounter).put("redacts", eventId);
            redaction.putObject("content");
            applyRedaction(roomId, eventId, redaction);
        }
    }

    /** Empties the event's content and says which redaction did, in {@code unsigned.redacted_because}, as Synapse does. */
    private void applyRedaction(String roomId, String eventId, ObjectNode redaction) {
        for (ObjectNode event : rooms.get(roomId).values()) {
            if (eventId.equals(event.path("event_id").asString(""))) {
                event.putObject("content");
                event.putObject("unsigned").set("redacted_because", redaction.deepCopy());
            }
        }
    }

    /**
     * From now on, a read of this one event ({@code GET /rooms/{room}/event/{event}}) answers it pruned,
     * its content emptied without {@code redacted_because}, while the room's state keeps it whole: as
     * Synapse shows the events of a user erased at deactivation to a member who joined after them.
     */
    void serveEventPruned(String eventId) {
        synchronized (lock) {
            prunedEventReads.add(eventId);
        }
    }

    private void redact(String roomId, String eventId, boolean inContent, boolean applied) {
        redact(roomId, List.of(eventId), inContent, applied);
    }

    /** Sends state events and redacts an event after them, applied, in one sync batch. */
    void sendAndRedact(String roomId, String redacted, ObjectNode... stateEvents) {
        redact(roomId, List.of(redacted), false, true, stateEvents);
    }

    /** Redacts these events in one sync batch, one redaction each, after {@code stateEvents}. */
    private void redact(String roomId, List<String> eventIds, boolean inContent, boolean applied, ObjectNode... stateEvents) {
        synchronized (lock) {
            ObjectNode batch = JSON.createObjectNode();
            ObjectNode timeline = batch.putObject("join").putObject(roomId).putObject("timeline");
            timeline.put("limited", false);
            ArrayNode events = timeline.putArray("events");
            for (ObjectNode event : stateEvents) {
                put(roomId, event);
                events.add(event);
            }
            for (String eventId : eventIds) {
                ObjectNode redaction = events.addObject();
                redaction.put("type", "m.room.redaction").put("sender", "@mod:test").put("event_id", "$e" + ++eventCounter);
                ObjectNode content = redaction.putObject("content");
                (inContent ? content : redaction).put("redacts", eventId);
                if (applied) {
                    applyRedaction(roomId, eventId, redaction);
                }
            }
            batches.add(batch);
            lock.notifyAll();
        }
    }

    /**
     * The bot is kicked: its membership becomes leave, and it may join again. As Synapse does for a
     * filter that lets no member event through, no sync reports it: the room's events stop.
     */
    void kick(String roomId) {
        synchronized (lock) {
            joined.remove(roomId);
            joinable.add(roomId);
        }
    }

    /**
     * The bot is kicked just after these events: Synapse reports the room in the sync's {@code leave}
     * section then, with those of them the filter lets through.
     */
    void kickAfter(String roomId, ObjectNode... events) {
        synchronized (lock) { // at once, as Synapse persists the events and the removal before any sync or read sees them
            kick(roomId);
            sendBatch(roomId, "leave", false, events);
        }
    }

    /** The bot is banned, and no sync says so (the filter leaves member events out): it may not join again. */
    void ban(String roomId) {
        synchronized (lock) {
            joined.remove(roomId);
            joinable.remove(roomId);
        }
    }

    /** The bot is banned just after these events: reported as {@link #kickAfter} does, and it may not join again. */
    void banAfter(String roomId, ObjectNode... events) {
        synchronized (lock) {
            ban(roomId);
            sendBatch(roomId, "leave", false, events);
        }
    }

    /**
     * As {@link #banAfter}, the moment the bot next asks for its membership: after the long-poll before
     * that question was answered, so that the question, not a sync, is the first to show the removal.
     */
    void banAfterAtNextMembershipCheck(String roomId, ObjectNode... events) {
        synchronized (lock) {
            beforeNextMembershipCheck = () -> banAfter(roomId, events);
        }
    }

    /** Answers every request with this status and body until {@link #recover()}. */
    void failAll(int status, String body) {
        failNext(Integer.MAX_VALUE, status, body);
    }

    /** Answers the next {@code count} requests with this status and body, a long-poll in flight included. */
    void failNext(int count, int status, String body) {
        synchronized (lock) {
            failures = count;
            failureStatus = status;
            failureBody = body;
            lock.notifyAll();
        }
    }

    void recover() {
        synchronized (lock) {
            failures = 0;
            stallBodies = false;
            tokenValid = true;
        }
    }

    /** Reads of one event ({@code GET /rooms/{room}/event/{event}}) wait unanswered from now on, until {@link #answerEventReads}. */
    void holdEventReads() {
        synchronized (lock) {
            eventReadsHeld = true;
        }
    }

    /**
     * Reads of an event that was read before wait unanswered from now on, until {@link #answerEventReads}:
     * the first question about each redaction is answered, those asked again are held, whenever the
     * source asks them.
     */
    void holdEventReadsAskedAgain() {
        synchronized (lock) {
            eventReadsAskedAgainHeld = true;
        }
    }

    /** Answers the reads of one event {@link #holdEventReads} or {@link #holdEventReadsAskedAgain} held, and every later one at once. */
    void answerEventReads() {
        synchronized (lock) {
            eventReadsHeld = false;
            eventReadsAskedAgainHeld = false;
            lock.notifyAll();
        }
    }

    /** Every read of a room's tombstone fails with a 500 from now on; every other call still works. */
    void failTombstoneReads() {
        synchronized (lock) {
            tombstoneReadsFail = true;
        }
    }

    /**
     * A bot kicked at once after each join, on a homeserver whose long-polls answer at once: the
     * joins, syncs and state reads work, and the bot's membership reads as out of the room.
     */
    void kickAtEveryJoinAndAnswerLongPollsAtOnce() {
        synchronized (lock) {
            answerAtOnce = true;
            membershipSaysOut = true;
        }
    }

    /**
     * From now on every long-poll answers at once with the last batch again, and its next_batch is the
     * token it was given: a homeserver (or a proxy's cache) whose token never advances.
     */
    void replayLastBatch() {
        synchronized (lock) {
            replayLastBatch = true;
            lock.notifyAll();
        }
    }

    /**
     * Every long-poll that ends with nothing new, at its timeout, reports a gap in this room (a
     * homeserver that flags every answer), or none again when null.
     */
    void gapInEveryAnswer(String roomId) {
        synchronized (lock) {
            gapInEveryAnswer = roomId;
        }
    }

    /**
     * Answers the next {@code count} requests of this one call (as {@link #requests} names them, e.g.
     * {@code GET /rooms/!r:test/event/$e1}) with this status and body; every other call still works.
     */
    void failCall(String call, int count, int status, String body) {
        synchronized (lock) {
            failingCalls.put(call, new ScriptedFailure(count, status, body));
        }
    }

    private record ScriptedFailure(int count, int status, String body) {
    }

    /** Every read of a room's full state fails with a 502 from now on, or no longer; every other call still works. */
    void failStateReads(boolean fail) {
        synchronized (lock) {
            stateReadsFail = fail;
        }
    }

    /** The access token stops working, as after a logout or an admin's deactivation. */
    void revokeToken() {
        synchronized (lock) {
            tokenValid = false;
        }
    }

    /** Sends the headers and the first bytes of every answer, and then nothing more. */
    void stallBodies() {
        synchronized (lock) {
            stallBodies = true;
        }
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    List<Request> requests(String method, String pathPrefix) {
        return requests.stream().filter(request -> request.method.equals(method) && request.path.startsWith(pathPrefix)).toList();
    }

    /** The requests of exactly this call, e.g. {@code GET /rooms/!r:test/state}. */
    List<Request> requests(String call) {
        return requests.stream().filter(request -> request.call().equals(call)).toList();
    }

    /** The long-polls in flight or answered, initial sync excluded. */
    List<Request> longPolls() {
        return requests("GET", "/sync").stream().filter(request -> request.query.containsKey("since")).toList();
    }

    @Override
    public void close() {
        synchronized (lock) {
            stopped = true;
            lock.notifyAll();
        }
        server.stop(0);
    }

    // ---- events

    static ObjectNode ban(String kind, String stateKey, String entity) {
        return rule(kind, stateKey, JSON.createObjectNode().put("entity", entity).put("recommendation", "m.ban")
                .put("reason", "spam"));
    }

    static ObjectNode rule(String kind, String stateKey, ObjectNode content) {
        return event("m.policy.rule." + kind, stateKey, content);
    }

    static ObjectNode withdrawn(String kind, String stateKey) {
        return rule(kind, stateKey, JSON.createObjectNode());
    }

    static ObjectNode member(String membership) {
        return event("m.room.member", BOT, JSON.createObjectNode().put("membership", membership));
    }

    static ObjectNode event(String type, String stateKey, ObjectNode content) {
        ObjectNode event = JSON.createObjectNode();
        event.put("type", type).put("state_key", stateKey).put("sender", "@mod:test");
        event.set("content", content);
        return event;
    }

    // ---- serving

    private void put(String roomId, ObjectNode event) {
        if (!event.has("event_id")) {
            event.put("event_id", "$e" + ++eventCounter);
        }
        rooms.get(roomId).put(List.of(event.get("type").asString(), event.get("state_key").asString()), event);
    }

    private void sendBatch(String roomId, String section, boolean limited, ObjectNode... events) {
        synchronized (lock) {
            for (ObjectNode event : events) {
                put(roomId, event);
            }
            ObjectNode batch = JSON.createObjectNode();
            ObjectNode room = batch.putObject(section).putObject(roomId);
            // As Synapse: a limited timeline holds the last event only, and the state section the net state
            // changes of those it left out (each slot's last event)
            int first = limited ? Math.max(0, events.length - 1) : 0;
            if (first > 0) {
                Map<List<String>, ObjectNode> delta = new LinkedHashMap<>();
                for (int i = 0; i < first; i++) {
                    delta.put(List.of(events[i].get("type").asString(), events[i].get("state_key").asString()), events[i]);
                }
                delta.values().forEach(room.putObject("state").putArray("events")::add);
            }
            ObjectNode timeline = room.putObject("timeline");
            timeline.put("limited", limited);
            ArrayNode list = timeline.putArray("events");
            for (int i = first; i < events.length; i++) {
                list.add(events[i]);
            }
            batches.add(batch);
            lock.notifyAll();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String call = path.startsWith(PREFIX) ? decode(path.substring(PREFIX.length())) : path;
            requests.add(new Request(Instant.now(), exchange.getRequestMethod(), call, query, body));
            boolean stall;
            synchronized (lock) {
                stall = stallBodies;
            }
            if (failed(exchange, call)) {
                return;
            }
            if (!("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization")) || !tokenValid()) {
                respond(exchange, 401, "{\"errcode\":\"M_UNKNOWN_TOKEN\",\"error\":\"Invalid access token passed.\",\"soft_logout\":false}");
                return;
            }
            if (stall) {
                exchange.sendResponseHeaders(200, 0);
                exchange.getResponseBody().write("{\"user_id\": ".getBytes(StandardCharsets.UTF_8));
                exchange.getResponseBody().flush();
                waitUntilStopped();
                return;
            }
            route(exchange, exchange.getRequestMethod() + " " + call, query, body);
        }
    }

    private void route(HttpExchange exchange, String call, Map<String, String> query, String body) throws IOException {
        String[] parts = call.split(" ", 2)[1].split("/");
        if (call.equals("GET /account/whoami")) {
            respond(exchange, 200, "{\"user_id\":\"" + BOT + "\",\"is_guest\":false}");
        } else if (call.startsWith("GET /directory/room/")) {
            String roomId;
            synchronized (lock) {
                roomId = aliases.get(parts[3]);
            }
            respond(exchange, roomId == null ? 404 : 200, roomId == null ? "{\"errcode\":\"M_NOT_FOUND\",\"error\":\"Room alias not found\"}"
                    : "{\"room_id\":\"" + roomId + "\",\"servers\":[\"test\"]}");
        } else if (call.startsWith("GET /rooms/") && call.endsWith("/state/m.room.member/" + BOT)) {
            boolean member;
            synchronized (lock) {
                if (beforeNextMembershipCheck != null) {
                    beforeNextMembershipCheck.run();
                    beforeNextMembershipCheck = null;
                }
                member = joined.contains(parts[2]) && !membershipSaysOut;
            }
            respond(exchange, member ? 200 : 403, member ? "{\"membership\":\"join\"}"
                    : "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"User " + BOT + " not in room " + parts[2] + "\"}");
        } else if (call.startsWith("GET /rooms/") && call.endsWith("/state/m.room.tombstone/")) {
            ObjectNode tombstone;
            synchronized (lock) {
                if (tombstoneReadsFail) {
                    respond(exchange, 500, "{\"errcode\":\"M_UNKNOWN\",\"error\":\"Internal server error\"}");
                    return;
                }
                tombstone = rooms.getOrDefault(parts[2], Map.of()).get(List.of("m.room.tombstone", ""));
            }
            respond(exchange, tombstone == null ? 404 : 200, tombstone == null
                    ? "{\"errcode\":\"M_NOT_FOUND\",\"error\":\"Event not found.\"}" : JSON.writeValueAsString(tombstone.get("content")));
        } else if (call.startsWith("GET /rooms/") && parts.length == 5 && parts[3].equals("event")) {
            ObjectNode found;
            synchronized (lock) {
                while ((eventReadsHeld || eventReadsAskedAgainHeld && requests(call).size() > 1) && !stopped) {
                    try {
                        lock.wait();
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
                found = rooms.getOrDefault(parts[2], Map.of()).values().stream()
                        .filter(event -> parts[4].equals(event.path("event_id").asString(""))).findFirst().orElse(null);
                if (found != null && prunedEventReads.contains(parts[4])) {
                    found = found.deepCopy();
                    found.putObject("content");
                    found.remove("unsigned");
                }
            }
            respond(exchange, found == null ? 404 : 200, found == null
                    ? "{\"errcode\":\"M_NOT_FOUND\",\"error\":\"Event not found.\"}" : JSON.writeValueAsString(found));
        } else if (call.startsWith("GET /rooms/") && call.endsWith("/state")) {
            boolean fail;
            synchronized (lock) {
                fail = stateReadsFail;
            }
            if (fail) {
                respond(exchange, 502, "<html>Bad gateway</html>");
                return;
            }
            state(exchange, parts[2]);
        } else if (call.startsWith("POST /join/")) {
            join(exchange, parts[2]);
        } else if (call.equals("POST /user/" + BOT + "/filter")) {
            JSON.readTree(body);
            respond(exchange, 200, "{\"filter_id\":\"7\"}");
        } else if (call.equals("GET /sync")) {
            sync(exchange, query);
        } else {
            respond(exchange, 404, "{\"errcode\":\"M_UNRECOGNIZED\",\"error\":\"Unrecognized request\"}");
        }
    }

    private void join(HttpExchange exchange, String roomIdOrAlias) throws IOException {
        String roomId;
        synchronized (lock) {
            roomId = aliases.getOrDefault(roomIdOrAlias, roomIdOrAlias);
            if (!joined.contains(roomId) && !joinable.contains(roomId)) {
                roomId = null;
            } else if (joined.add(roomId)) {
                put(roomId, member("join"));
            }
        }
        respond(exchange, roomId == null ? 403 : 200, roomId == null
                ? "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"You are not invited to this room.\"}"
                : "{\"room_id\":\"" + roomId + "\"}");
    }

    private void state(HttpExchange exchange, String roomId) throws IOException {
        List<ObjectNode> events;
        int huge;
        synchronized (lock) {
            if (!joined.contains(roomId)) {
                respond(exchange, 403, "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"User not in room\"}");
                return;
            }
            events = List.copyOf(rooms.get(roomId).values());
            huge = hugeRooms.getOrDefault(roomId, 0);
        }
        String garbled = garbledState;
        if (garbled != null) {
            respond(exchange, 200, garbled);
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, 0);
        try (Writer out = new OutputStreamWriter(exchange.getResponseBody(), StandardCharsets.UTF_8)) {
            out.write('[');
            String separator = "";
            for (ObjectNode event : events) {
                out.write(separator);
                out.write(JSON.writeValueAsString(event));
                separator = ",";
            }
            for (int i = 0; i < huge; i++) {
                out.write(",{\"type\":\"m.policy.rule.user\",\"state_key\":\"rule:" + i + "\",\"event_id\":\"$h" + i
                        + "\",\"sender\":\"@mod:test\",\"origin_server_ts\":1700000000000,\"content\":{\"entity\":\"@spammer"
                        + i + ":evil.example\",\"recommendation\":\"m.ban\",\"reason\":\"spam, reported by several moderators\"}}");
            }
            out.write(']');
        }
    }

    private void sync(HttpExchange exchange, Map<String, String> query) throws IOException {
        String since = query.get("since");
        ObjectNode answer = JSON.createObjectNode();
        if (since == null) {
            synchronized (lock) {
                // As Synapse does: the same request within two minutes gets the same answer.
                answer.put("next_batch", initialSyncs.computeIfAbsent(query.get("filter") + " " + query.get("timeout"),
                        request -> "s" + batches.size()));
            }
            respond(exchange, 200, JSON.writeValueAsString(answer));
            return;
        }
        int seen = Integer.parseInt(since.substring(1));
        long deadline = System.nanoTime() + (answerAtOnce ? 0 : Duration.ofMillis(Long.parseLong(query.getOrDefault("timeout", "0"))).toNanos());
        synchronized (lock) {
            long left;
            while (!stopped && failures == 0 && !replayLastBatch && batches.size() <= seen && (left = deadline - System.nanoTime()) > 0) {
                try {
                    lock.wait(Duration.ofNanos(left).toMillis() + 1);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
        // A homeserver that fails while a long-poll waits (a restart) fails that long-poll too.
        if (failed(exchange, "/sync")) {
            return;
        }
        synchronized (lock) {
            if (replayLastBatch && seen > 0) {
                answer.put("next_batch", since);
                answer.set("rooms", batches.get(seen - 1));
            } else if (batches.size() > seen) {
                answer.put("next_batch", "s" + (seen + 1));
                answer.set("rooms", batches.get(seen));
            } else {
                answer.put("next_batch", since);
                if (gapInEveryAnswer != null) {
                    answer.putObject("rooms").putObject("join").putObject(gapInEveryAnswer).putObject("timeline")
                            .put("limited", true).putArray("events");
                }
            }
        }
        respond(exchange, 200, JSON.writeValueAsString(answer));
    }

    /** Answers with the scripted failure, if there is one now. */
    private boolean failed(HttpExchange exchange, String call) throws IOException {
        int status;
        String body;
        synchronized (lock) {
            ScriptedFailure ofCall = failingCalls.get(exchange.getRequestMethod() + " " + call);
            if (ofCall != null) {
                if (ofCall.count() <= 1) {
                    failingCalls.remove(exchange.getRequestMethod() + " " + call);
                } else {
                    failingCalls.put(exchange.getRequestMethod() + " " + call,
                            new ScriptedFailure(ofCall.count() - 1, ofCall.status(), ofCall.body()));
                }
                respond(exchange, ofCall.status(), ofCall.body());
                return true;
            }
            if (failures == 0) {
                return false;
            }
            if (failures != Integer.MAX_VALUE) {
                failures--;
            }
            status = failureStatus;
            body = failureBody;
        }
        respond(exchange, status, body);
        return true;
    }

    private boolean tokenValid() {
        synchronized (lock) {
            return tokenValid;
        }
    }

    private void waitUntilStopped() {
        synchronized (lock) {
            while (!stopped) {
                try {
                    lock.wait();
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> query = new LinkedHashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int equals = pair.indexOf('=');
                query.put(decode(equals < 0 ? pair : pair.substring(0, equals)), equals < 0 ? "" : decode(pair.substring(equals + 1)));
            }
        }
        return query;
    }

    private static String decode(String text) {
        return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
