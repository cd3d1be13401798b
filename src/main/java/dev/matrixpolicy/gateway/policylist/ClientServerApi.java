package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import dev.matrixpolicy.gateway.replies.ReplyTooLargeException;
import dev.matrixpolicy.gateway.replies.RetryAfter;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.exc.JacksonIOException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The few calls of the Matrix client-server API (v3) a {@link RoomSource} makes, as its bot. Every
 * call waits at most its timeout for the headers and at most the request timeout between two pieces
 * of the body, and reads at most its {@link ReplyCap} of a successful answer (the gateway's one rule
 * for reading a reply; the state and the syncs are parsed as they stream in, under the same cap); every way it can
 * fail ends as one {@link HomeserverFailure}. Redirects are not followed. The access token goes in the {@code Authorization} header only, never in a URL or a message.
 */
final class ClientServerApi implements AutoCloseable {
    private static final JsonMapper JSON = EventJson.MAPPER;
    /** How much of an error answer is read for its {@code errcode}: Matrix errors are a few hundred bytes. */
    private static final int MAX_ERROR_BODY = 64 * 1024;
    /**
     * The most an answer read whole may take (whoami, a join, an alias, a membership, a tombstone, an
     * event): a few hundred bytes from a homeserver, which a broken one must not turn into a tree the
     * size of {@code max-size}, the cap of the room's state and of one sync, which are read as they stream.
     */
    static final ReplyCap SMALL_ANSWER = new ReplyCap("the small-answer cap", 1024 * 1024);

    /** Reads a successful answer's body. */
    @FunctionalInterface
    private interface BodyReader<T> {
        T read(InputStream body) throws IOException, HomeserverFailure;
    }

    /** The least wait for the room's full state to begin: Synapse sends nothing until it has built the whole answer. */
    static final Duration STATE_WAIT = Duration.ofMinutes(2);
    private final String base;
    private final String authorization;
    private final Duration requestTimeout;
    /** How long a body may take in all: {@link UrlSource#SLOW_LIST}, as for a list at a URL, and the request timeout. */
    private final Duration bodyDeadline;
    /** How long the room's full state may take to begin: {@link #STATE_WAIT}, or the request timeout if longer. */
    private final Duration stateWait;
    private final ReplyCap cap;
    private final HttpClient http;

    /**
     * @param homeserver     the client-server API's base URL, e.g. {@code https://matrix.example.org}
     * @param requestTimeout how long to wait for a connection, for an answer (a sync waits its own
     *                       timeout on top), and between two pieces of an answer's body
     * @param cap            the longest successful answer read
     */
    ClientServerApi(URI homeserver, String accessToken, Duration requestTimeout, ReplyCap cap) {
        this(homeserver, accessToken, requestTimeout, cap, UrlSource.SLOW_LIST);
    }

    /** @param slowBody the least time a body may take in all (for tests: {@link UrlSource#SLOW_LIST} otherwise) */
    ClientServerApi(URI homeserver, String accessToken, Duration requestTimeout, ReplyCap cap, Duration slowBody) {
        this.bodyDeadline = slowBody.plus(requestTimeout);
        this.stateWait = requestTimeout.compareTo(STATE_WAIT) >= 0 ? requestTimeout : STATE_WAIT;
        String url = homeserver.toString();
        this.base = (url.endsWith("/") ? url.substring(0, url.length() - 1) : url) + "/_matrix/client/v3";
        this.authorization = "Bearer " + accessToken;
        this.requestTimeout = requestTimeout;
        this.cap = cap;
        this.http = HttpClient.newBuilder()
                // HTTP/1.1: no h2c upgrade attempt against a plain-http homeserver.
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(requestTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** {@code GET /account/whoami}: the bot's user ID. */
    String whoami() throws HomeserverFailure, InterruptedException {
        String call = "GET /account/whoami";
        return id(call, json(call, get("account", "whoami")), "user_id", MatrixIds::userId);
    }

    /** {@code GET /directory/room/{roomAlias}}: the room ID an alias names. */
    String resolveAlias(String alias) throws HomeserverFailure, InterruptedException {
        String call = "GET /directory/room/{alias}";
        return id(call, json(call, get("directory", "room", alias)), "room_id", MatrixIds::roomId);
    }

    /** Whether the bot's membership in the room is {@code join}: its {@code m.room.member} state, which a non-member may not read. */
    boolean isJoined(String roomId, String userId) throws HomeserverFailure, InterruptedException {
        try {
            return membership(roomId, userId).filter("join"::equals).isPresent();
        } catch (HomeserverFailure failure) {
            if (failure.says(404, "M_NOT_FOUND")) {
                return false;
            }
            throw failure;
        }
    }

    /**
     * The bot's membership in the room as its {@code m.room.member} state says ({@code join},
     * {@code leave}, {@code ban}: a former member still reads its state up to its departure); empty when
     * the homeserver refuses to say (403 {@code M_FORBIDDEN}), as it does to one that never was a member.
     * Any other failure, a proxy's bare 403 or 404 included, or an answer without a {@code membership},
     * is thrown: it says nothing about the membership.
     */
    Optional<String> membership(String roomId, String userId) throws HomeserverFailure, InterruptedException {
        String call = "GET /rooms/{room}/state/m.room.member/{user}";
        try {
            JsonNode membership = json(call, get("rooms", roomId, "state", "m.room.member", userId)).path("membership");
            if (!membership.isString()) { // a proxy's garbled answer says nothing of the membership either
                throw HomeserverFailure.malformed(call, "no \"membership\" string in the member event's content");
            }
            return Optional.of(membership.stringValue());
        } catch (HomeserverFailure failure) {
            if (failure.says(403, "M_FORBIDDEN")) {
                return Optional.empty();
            }
            throw failure;
        }
    }

    /**
     * {@code POST /join/{roomIdOrAlias}}: joins, or stays joined; the room ID. A classic room ID is
     * joined by way of the server it names (the room's creator's), as {@code via} and the older
     * {@code server_name}: a homeserver that no local user's membership has brought into a remote
     * room cannot find it from the ID alone. An alias needs no such hint: resolving it names servers.
     */
    String join(String roomIdOrAlias) throws HomeserverFailure, InterruptedException {
        String call = "POST /join/{room}";
        URI url = url("join", roomIdOrAlias);
        int colon = roomIdOrAlias.indexOf(':');
        if (roomIdOrAlias.startsWith("!") && colon > 0) {
            String server = encode(roomIdOrAlias.substring(colon + 1));
            url = URI.create(url + "?via=" + server + "&server_name=" + server);
        }
        return id(call, json(call, post("{}", url)), "room_id", MatrixIds::roomId);
    }

    /**
     * The content of the room's {@code m.room.tombstone}, the announcement of an upgrade; empty when
     * the homeserver says it has none (404 {@code M_NOT_FOUND}). A proxy's bare 404 says nothing, and is
     * thrown: it must not withdraw an upgrade reported before.
     */
    Optional<JsonNode> tombstone(String roomId) throws HomeserverFailure, InterruptedException {
        String call = "GET /rooms/{room}/state/m.room.tombstone";
        try {
            return Optional.of(json(call, get("rooms", roomId, "state", "m.room.tombstone", "")));
        } catch (HomeserverFailure failure) {
            if (failure.says(404, "M_NOT_FOUND")) {
                return Optional.empty();
            }
            throw failure;
        }
    }

    /**
     * Whether the homeserver applied a redaction of the event: {@code GET /rooms/{room}/event/{id}}
     * answers the event with the redaction in {@code unsigned.redacted_because}, as the spec has a
     * redacted event carry it. A redaction reaches the timeline even where its sender may not redact
     * (Synapse accepts it and applies it only if the sender has the power, or is on the event's
     * server), so the timeline alone does not say. The event with its {@code content} and without
     * {@code redacted_because} was not redacted, even with its content emptied: Synapse shows the
     * events of an erased (deactivated) user pruned so to a member who joined after them, though their
     * rules stand in the room's state. Anything else (an answer that is not this event, a 404, a proxy's
     * page) says nothing, and is thrown: the caller reads the room's state whole instead.
     */
    boolean isRedacted(String roomId, String eventId) throws HomeserverFailure, InterruptedException {
        String call = "GET /rooms/{room}/event/{event}";
        JsonNode event = json(call, get("rooms", roomId, "event", eventId));
        if (!eventId.equals(event.path("event_id").asString(""))) {
            throw HomeserverFailure.malformed(call, "the answer is not the event asked for");
        }
        if (event.path("unsigned").path("redacted_because").isObject()) {
            return true;
        }
        if (!event.path("content").isObject()) {
            throw HomeserverFailure.malformed(call, "no \"content\" object in the event");
        }
        return false;
    }

    /** {@code POST /user/{userId}/filter}: the ID of a stored filter, for the long-polls. */
    String createFilter(String userId, JsonNode filter) throws HomeserverFailure, InterruptedException {
        String call = "POST /user/{user}/filter";
        return text(call, json(call, post(JSON.writeValueAsString(filter), "user", userId, "filter")), "filter_id");
    }

    /**
     * {@code GET /sync}: waits up to {@code timeout} for something new, without marking the bot online,
     * and reads what the answer says of one room as it streams in ({@link SyncAnswer}).
     *
     * @param filter a filter ID, or a filter's JSON
     * @param roomId the room whose events are kept; every other part of the answer is skipped
     */
    SyncAnswer sync(Optional<String> since, String filter, Duration timeout, String roomId)
            throws HomeserverFailure, InterruptedException {
        String query = "?timeout=" + timeout.toMillis() + "&set_presence=offline&filter=" + encode(filter)
                + since.map(token -> "&since=" + encode(token)).orElse("");
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + "/sync" + query)).GET();
        String call = "GET /sync";
        return exchange(call, request, requestTimeout.plus(timeout), cap, body -> {
            try (JsonParser parser = JSON.createParser(body)) {
                return SyncAnswer.read(parser, roomId);
            } catch (IllegalArgumentException unusable) {
                throw HomeserverFailure.malformed(call, unusable.getMessage());
            }
        });
    }

    /**
     * {@code GET /rooms/{roomId}/state}: hands over the room's current state events one at a time, as
     * they are parsed, so that a room of many rules is never held as one JSON tree. {@code each} gets
     * the parser on an event's first token and reads that event, and only it, to its last.
     */
    void readState(String roomId, Consumer<JsonParser> each) throws HomeserverFailure, InterruptedException {
        String call = "GET /rooms/{room}/state";
        // Synapse builds the whole state before the first byte of its answer: a large room's takes a while
        exchange(call, get("rooms", roomId, "state"), stateWait, cap, body -> {
            try (JsonParser parser = JSON.createParser(body)) {
                if (parser.nextToken() != JsonToken.START_ARRAY) {
                    throw HomeserverFailure.malformed(call, "not a JSON array of events");
                }
                JsonToken token;
                while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                    if (token == null) {
                        throw HomeserverFailure.malformed(call, "the array of events ends early");
                    }
                    each.accept(parser);
                }
            }
            return null;
        });
    }

    /** Aborts a call in flight (a long-poll included) and releases the connections. */
    @Override
    public void close() {
        http.shutdownNow();
    }

    private HttpRequest.Builder get(String... segments) {
        return HttpRequest.newBuilder(url(segments)).GET();
    }

    private HttpRequest.Builder post(String json, String... segments) {
        return post(json, url(segments));
    }

    private static HttpRequest.Builder post(String json, URI url) {
        return HttpRequest.newBuilder(url).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
    }

    private URI url(String... segments) {
        StringBuilder url = new StringBuilder(base);
        for (String segment : segments) {
            url.append('/').append(encode(segment));
        }
        return URI.create(url.toString());
    }

    private JsonNode json(String call, HttpRequest.Builder request) throws HomeserverFailure, InterruptedException {
        return object(call, exchange(call, request, requestTimeout, SMALL_ANSWER, JSON::readTree));
    }

    private static JsonNode object(String call, JsonNode answer) throws HomeserverFailure {
        if (answer == null || !answer.isObject()) {
            throw HomeserverFailure.malformed(call, "not a JSON object");
        }
        return answer;
    }

    private <T> T exchange(String call, HttpRequest.Builder request, Duration wait, ReplyCap cap, BodyReader<T> reader)
            throws HomeserverFailure, InterruptedException {
        HttpRequest built = request.header("Authorization", authorization).header("Accept", "application/json")
                .timeout(wait).build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(built, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException slow) {
            throw HomeserverFailure.timeout(call, wait);
        } catch (IOException broken) {
            throw unreachable(call, broken);
        }
        // A body must keep coming, and must have ended by a deadline that a large room's state on a slow link
        // still meets: a homeserver (or a proxy) that trickles a byte in just within each stall would
        // otherwise hold the source's only thread for good.
        StallGuard body = new StallGuard(response.body(), requestTimeout, bodyDeadline);
        try (body) {
            if (response.statusCode() / 100 != 2) {
                throw error(call, response, body);
            }
            return reader.read(cap.stream(body, response.headers().firstValueAsLong("Content-Length").orElse(-1)));
        } catch (JacksonIOException broken) {
            throw bodyBroken(call, body, broken.getCause());
        } catch (StreamConstraintsException beyondAnyEvent) {
            throw HomeserverFailure.malformed(call, "a string, name or number longer than " + EventJson.EVENT_BYTES
                    + " bytes, or nesting deeper, which no event has");
        } catch (JacksonException garbled) {
            throw HomeserverFailure.malformed(call, "not JSON");
        } catch (IOException broken) {
            throw bodyBroken(call, body, broken);
        }
    }

    private HomeserverFailure bodyBroken(String call, StallGuard body, IOException cause) throws InterruptedException {
        ReplyTooLargeException tooLarge = ReplyTooLargeException.in(cause);
        if (tooLarge != null) {
            return HomeserverFailure.malformed(call, tooLarge.getMessage());
        }
        if (body.stalled()) {
            return HomeserverFailure.stalled(call, requestTimeout);
        }
        if (body.overdue()) {
            return HomeserverFailure.overdue(call, bodyDeadline);
        }
        stopping();
        // the homeserver was reached and began to answer: "cannot reach" would send an admin to the network
        return HomeserverFailure.brokenOff(call, cause);
    }

    private static HomeserverFailure unreachable(String call, IOException cause) throws InterruptedException {
        stopping();
        return HomeserverFailure.unreachable(call, cause);
    }

    /** The JDK client turns an interrupt (close() stopping the source) into an IOException: thrown as what it is. */
    private static void stopping() throws InterruptedException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException();
        }
    }

    /** A Matrix error answer: its status, {@code errcode}, {@code error} and {@code retry_after_ms}, where it has them. */
    private static HomeserverFailure error(String call, HttpResponse<?> response, InputStream body) throws IOException {
        JsonNode error = JSON.missingNode();
        try {
            JsonNode parsed = JSON.readTree(body.readNBytes(MAX_ERROR_BODY));
            if (parsed != null) {
                error = parsed;
            }
        } catch (JacksonException notJson) {
            // A proxy's HTML page: the status says enough.
        }
        Optional<String> errcode = Optional.of(error.path("errcode")).filter(JsonNode::isString).map(JsonNode::stringValue);
        Optional<String> message = Optional.of(error.path("error")).filter(JsonNode::isString).map(JsonNode::stringValue);
        return HomeserverFailure.status(call, response.statusCode(), errcode, message, retryAfter(error, response));
    }

    /** A 429's wait: the body's {@code retry_after_ms}, else its {@code Retry-After} header (newer homeservers send both). */
    private static Optional<Duration> retryAfter(JsonNode error, HttpResponse<?> response) {
        JsonNode millis = error.path("retry_after_ms");
        if (millis.canConvertToLong() && millis.asLong() >= 0) {
            return Optional.of(Duration.ofMillis(millis.asLong()));
        }
        return RetryAfter.of(response.headers().firstValue("Retry-After").orElse(null), Instant.now());
    }

    private static String text(String call, JsonNode answer, String field) throws HomeserverFailure {
        JsonNode value = answer.path(field);
        if (!value.isString() || value.stringValue().isEmpty()) {
            throw HomeserverFailure.malformed(call, "no " + field);
        }
        return value.stringValue();
    }

    /**
     * An ID the answer names, which must be a valid one of its kind: it goes into URLs, log lines and
     * status pages, and names the room whose rules the source reads.
     */
    private static String id(String call, JsonNode answer, String field, UnaryOperator<String> valid) throws HomeserverFailure {
        String id = text(call, answer, field);
        try {
            return valid.apply(id);
        } catch (IllegalArgumentException invalid) {
            throw HomeserverFailure.malformed(call, field + " \"" + id + "\" is " + invalid.getMessage()); // escaped there
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
