package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.policyserver.BadJsonException;
import dev.matrixpolicy.gateway.policyserver.CanonicalJson;
import dev.matrixpolicy.gateway.policyserver.EventAuthenticator;
import dev.matrixpolicy.gateway.policyserver.KeyWait;
import dev.matrixpolicy.gateway.policyserver.Pdu;
import dev.matrixpolicy.gateway.policyserver.PolicyServerKey;
import dev.matrixpolicy.gateway.policyserver.RequestAuthenticator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.util.unit.DataSize;
import org.springframework.web.util.UriUtils;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The policy server's federation endpoints (MSC4284, spec v1.18), on the federation listener only:
 * <ul>
 *   <li>{@code POST /_matrix/policy/v1/sign}, and its unstable {@code
 *       /_matrix/policy/unstable/org.matrix.msc4284/sign}: {@code 200 {"<name>": {"ed25519:policy_server":
 *       "<signature>"}}} for an event the chain allows, {@code 400 M_FORBIDDEN} for one it refuses.</li>
 *   <li>{@code POST /_matrix/policy/unstable/org.matrix.msc4284/event/{eventId}/check}, the legacy
 *       check that servers still call: {@code 200 {"recommendation": "ok"}} or {@code "spam"}, which is
 *       also the answer to an event that is not one (the MSC's rule).</li>
 *   <li>{@code GET /.well-known/matrix/policy_server}: the public key for the rooms' {@code
 *       m.room.policy} event, as the spec's {@code public_keys} and MSC4284's earlier {@code
 *       public_key}, readable from any web page (CORS).</li>
 * </ul>
 * Both POST endpoints take federation {@code X-Matrix} authentication (401 {@code M_UNAUTHORIZED}),
 * a PDU of a room the policy server serves (404 {@code M_NOT_FOUND} for any other), and never the
 * room's {@code m.room.policy} state event itself (400 {@code M_BAD_JSON}). An event without a valid
 * signature of each server homeservers require to sign it ({@link EventAuthenticator}) is refused,
 * {@code 400 M_FORBIDDEN} naming the server missing (or whose keys could not be fetched), or {@code
 * "spam"}, before any module sees it, and the refusal is not remembered: its reference hash leaves
 * the signatures out, and the same event, signed, gets its own answer. A request waits for keys
 * {@link KeyWait#PER_REQUEST} at most, then answers 503: an answer inside the time Synapse waits
 * tells its user why. An asking server over its {@link PolicyServerRateLimit} is answered 429 {@code
 * M_LIMIT_EXCEEDED} for events with no answer remembered. Every error is Matrix
 * error JSON from {@link MatrixErrors#describe}, written by {@link MatrixErrors.MatrixError#answer}.
 * {@value #METRIC} times every request by endpoint and outcome.
 */
final class PolicyServerServlet extends HttpServlet {
    static final String NAME = "policyServer";
    static final String METRIC = "policy.server.requests";
    static final String SIGN = "/_matrix/policy/v1/sign";
    static final String UNSTABLE_SIGN = "/_matrix/policy/unstable/org.matrix.msc4284/sign";
    static final String WELL_KNOWN = "/.well-known/matrix/policy_server";
    /** The {@code Allow} of the paths that take a POST, and of the well-known document. */
    private static final String POSTED = AllowedMethods.of("POST");
    private static final String READ = AllowedMethods.of("GET");
    /**
     * The legacy check's path. The event ID may hold a '/' (room version 3's base64 IDs): escaped as
     * %2F by Synapse 1.151 and later and by ruma, as it is by Synapse 1.136 to 1.150, which put the
     * ID in the path unescaped; so the ID is everything between {@code /event/} and the last {@code /check}.
     */
    private static final Pattern CHECK = Pattern.compile("/_matrix/policy/unstable/org\\.matrix\\.msc4284/event/(.+)/check");
    /** The spec's limit on a whole PDU in canonical JSON, doubled for a sender's whitespace. */
    static final long MAX_BODY_BYTES = 2 * 65_536;

    private final transient String name;
    private final transient PolicyServerKey key;
    private final transient RequestAuthenticator authenticator;
    private final transient EventAuthenticator events;
    private final transient PolicyServerSigning signing;
    private final transient PolicyServerRateLimit rateLimit;
    private final transient RequestBodyReader bodies;
    private final transient JsonMapper json;
    private final transient MeterRegistry registry;
    private final transient Map<String, Timer> timers = new ConcurrentHashMap<>();

    PolicyServerServlet(String name, PolicyServerKey key, RequestAuthenticator authenticator, EventAuthenticator events,
                        PolicyServerSigning signing, PolicyServerRateLimit rateLimit, JsonMapper json, MeterRegistry registry) {
        this(name, key, authenticator, events, signing, rateLimit, json, registry, RequestBodyReader.Budget.ofHeapUntilAnswered(16));
    }

    /** @param bodies what the bodies of the requests being answered may hold at once (for tests: a sixteenth of the heap otherwise) */
    PolicyServerServlet(String name, PolicyServerKey key, RequestAuthenticator authenticator, EventAuthenticator events,
                        PolicyServerSigning signing, PolicyServerRateLimit rateLimit, JsonMapper json, MeterRegistry registry,
                        RequestBodyReader.Budget bodies) {
        this.name = name;
        this.key = key;
        this.authenticator = authenticator;
        this.events = events;
        this.signing = signing;
        this.rateLimit = rateLimit;
        // A name holding half a surrogate pair stays not JSON here: such a body has no canonical JSON
        // (nor has one with such a string), so no homeserver can sign it, and Synapse's own federation
        // listener fails it as its canonicaljson cannot encode it.
        this.bodies = new RequestBodyReader(json, DataSize.ofBytes(MAX_BODY_BYTES), bodies, RequestBodyReader.HalfPairNames.REFUSED);
        this.json = json;
        this.registry = registry;
        bodies.bindTo(registry, "policy.server.body.memory", "the policy server's request bodies being answered, and the trees built of them,",
                "a request is refused 503 M_UNKNOWN");
    }

    /** The servlet's URL patterns: the policy API's prefix and the well-known document. */
    static String[] urlPatterns() {
        return new String[] {"/_matrix/policy/*", WELL_KNOWN};
    }

    /** Whether the federation listener serves this path (as the container routed it). */
    static boolean serves(String path) {
        return path.equals(SIGN) || path.equals(UNSTABLE_SIGN) || path.equals(WELL_KNOWN) || CHECK.matcher(path).matches();
    }

    /**
     * What one request came to, for the metric and for the answer: a body to write as JSON, none, or
     * a {@link MatrixErrors.MatrixError}, which writes itself as every error answer is written.
     */
    private record Answer(String endpoint, String outcome, int status, Object body) {
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        try {
            answer(request, response);
        } finally {
            bodies.release(request); // a body waiting for its origin's keys counts until it is answered
        }
    }

    private void answer(HttpServletRequest request, HttpServletResponse response) throws IOException {
        long started = System.nanoTime();
        KeyWait wait = KeyWait.forRequestStartedAt(started);
        String path = PolicyApiServlet.routedPath(request);
        Answer answer;
        if (path.equals(WELL_KNOWN)) {
            answer = wellKnown(request, response);
        } else if (path.equals(SIGN) || path.equals(UNSTABLE_SIGN)) {
            answer = post(request, response, "sign", () -> sign(request, wait));
        } else {
            Matcher check = CHECK.matcher(path);
            answer = check.matches()
                    ? post(request, response, "check", () -> check(request, checkedEventId(request, check.group(1)), wait))
                    : failure("unknown", MatrixApiException.unrecognized("Unrecognized request"));
        }
        timer(answer.endpoint(), answer.outcome()).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        switch (answer.body()) {
            case null -> {
                response.setStatus(answer.status());
                response.setContentLength(0);
            }
            case MatrixErrors.MatrixError error -> error.answer(response, json);
            default -> {
                byte[] body = json.writeValueAsBytes(answer.body());
                response.setStatus(answer.status());
                response.setContentType(MediaType.APPLICATION_JSON_VALUE);
                response.setContentLength(body.length);
                response.getOutputStream().write(body);
            }
        }
    }

    @FunctionalInterface
    private interface Handler {
        Answer answer();
    }

    private Answer post(HttpServletRequest request, HttpServletResponse response, String endpoint, Handler handler) {
        if ("OPTIONS".equals(request.getMethod())) {
            return options(response, endpoint, POSTED);
        }
        if (!"POST".equals(request.getMethod())) {
            return failure(endpoint, MatrixApiException.methodNotAllowed(request.getMethod(), POSTED));
        }
        try {
            return handler.answer();
        } catch (RuntimeException failure) {
            return failure(endpoint, failure);
        }
    }

    /** The request's body, parsed once, and the homeserver that signed the request. */
    private record Signed(String origin, ObjectNode body) {
    }

    /**
     * Reads the body's bytes and checks they are a JSON object (400 first, as Synapse answers), then
     * authenticates the request, which builds their tree only once the origin's keys are in hand:
     * while a key fetch keeps a request waiting, it holds the bytes its listener's budget counts, not
     * a tree some thirty times their size. The tree, built, is held until the answer (through key
     * fetches for the event's signatures and the chain's judgement), so the budget takes its estimate
     * first: an asking server's burst of events of empty objects is refused 503, not built.
     */
    private Signed authenticate(HttpServletRequest request, KeyWait wait) {
        byte[] bytes = bodies.read(request);
        bodies.checkObject(bytes);
        String uri = request.getQueryString() == null ? request.getRequestURI() : request.getRequestURI() + "?" + request.getQueryString();
        AtomicReference<ObjectNode> body = new AtomicReference<>();
        String origin = authenticator.authenticate(request.getMethod(), uri, () -> {
            body.set(bodies.parseObject(request, bytes));
            return body.get();
        }, Collections.list(request.getHeaders(HttpHeaders.AUTHORIZATION)), wait);
        return new Signed(origin, body.get());
    }

    private Answer sign(HttpServletRequest request, KeyWait wait) {
        Signed signed = authenticate(request, wait);
        Pdu pdu = pdu(signed.body(), request);
        limit(signed.origin(), pdu);
        Optional<EventAuthenticator.Unverified> unverified = events.missingSignature(pdu, wait);
        if (unverified.isPresent()) {
            return failure("sign", "unsigned", MatrixApiException.forbidden(HttpStatus.BAD_REQUEST, unverified.get().reason()));
        }
        return switch (signing.decide(signed.origin(), pdu)) {
            case PolicyServerSigning.Verdict.Signed signature -> {
                ObjectNode answer = JsonNodeFactory.instance.objectNode();
                answer.putObject(name).put(PolicyServerKey.KEY_ID, signature.signature());
                yield new Answer("sign", "signed", HttpServletResponse.SC_OK, answer);
            }
            case PolicyServerSigning.Verdict.Refused refused -> failure("sign", "refused",
                    MatrixApiException.forbidden(HttpStatus.BAD_REQUEST, refused.reason()));
        };
    }

    private Answer check(HttpServletRequest request, String eventId, KeyWait wait) {
        Signed signed = authenticate(request, wait);
        Pdu pdu;
        try {
            pdu = pdu(signed.body(), request);
        } catch (BadJsonException notAnEvent) {
            return recommendation("malformed", "spam");
        }
        if (!pdu.eventId().equals(eventId)) {
            return recommendation("malformed", "spam");
        }
        limit(signed.origin(), pdu);
        if (events.missingSignature(pdu, wait).isPresent()) {
            return recommendation("unsigned", "spam");
        }
        return switch (signing.decide(signed.origin(), pdu)) {
            case PolicyServerSigning.Verdict.Signed allowed -> recommendation("ok", "ok");
            case PolicyServerSigning.Verdict.Refused refused -> recommendation("spam", "spam");
        };
    }

    /**
     * Takes one of the asking server's tokens ({@link PolicyServerRateLimit}) for an event with no
     * answer remembered, before its signatures are checked and the chain judges it. A remembered answer
     * costs neither a chain run nor a cache slot, and its signatures were verified once already: in a
     * busy room every homeserver asks about the same events, which must not use up their allowance.
     */
    private void limit(String origin, Pdu pdu) {
        if (signing.remembered(pdu.referenceHash()).isEmpty()) {
            rateLimit.take(origin);
        }
    }

    /**
     * The event ID in the legacy check's path, percent-decoded from the request's own URI: Tomcat
     * leaves an escaped '/' (%2F, in room version 3's base64 event IDs) escaped on this listener, so
     * the routed path holds it as {@code %2F}. Only for a URI the pattern does not match as sent (dot
     * segments, path parameters) is the routed path's segment taken as it is.
     */
    private static String checkedEventId(HttpServletRequest request, String routed) {
        Matcher raw = CHECK.matcher(request.getRequestURI());
        return raw.matches() ? UriUtils.decode(raw.group(1), StandardCharsets.UTF_8) : routed;
    }

    /**
     * The event, checked for a room this policy server serves, and for the size a PDU may have (as
     * Synapse checks it, in canonical JSON): encoded only when the request's body may be larger, since
     * canonical JSON is never longer than the JSON it is made from.
     */
    private Pdu pdu(ObjectNode body, HttpServletRequest request) {
        long declared = request.getContentLengthLong();
        if ((declared < 0 || declared > Pdu.MAX_BYTES) && CanonicalJson.encode(body).length > Pdu.MAX_BYTES) {
            throw new BadJsonException("The event is larger than the " + Pdu.MAX_BYTES + " bytes of canonical JSON a PDU may have");
        }
        if (Pdu.isPolicyStateEvent(body)) {
            throw new BadJsonException("A room's m.room.policy state event is never signed by its policy server");
        }
        Optional<String> createVersion = Pdu.versionOfRoomlessCreate(body);
        if (createVersion.isPresent()) { // room version 12: the room's ID is this event's reference hash
            Pdu create = Pdu.of(createVersion.get(), body);
            if (!signing.roomVersion(create.roomId()).equals(createVersion.get())) {
                throw new BadJsonException("The create event's room_version is not the version configured for room " + create.roomId());
            }
            return create;
        }
        JsonNode roomId = body.get("room_id");
        if (roomId == null || !roomId.isString()) {
            throw new BadJsonException("The event's room_id must be a string");
        }
        try {
            MatrixIds.roomId(roomId.stringValue());
        } catch (IllegalArgumentException invalid) {
            throw new BadJsonException("The event's room_id is " + invalid.getMessage()); // never echoed: it may be anything
        }
        return Pdu.of(signing.roomVersion(roomId.stringValue()), body);
    }

    private Answer wellKnown(HttpServletRequest request, HttpServletResponse response) {
        response.setHeader("Access-Control-Allow-Origin", "*");
        if ("OPTIONS".equals(request.getMethod())) { // a browser's preflight: clients read this document
            response.setHeader("Access-Control-Allow-Methods", READ);
            response.setHeader("Access-Control-Allow-Headers", "X-Requested-With, Content-Type, Authorization");
            return options(response, "well_known", READ);
        }
        if (!"GET".equals(request.getMethod()) && !"HEAD".equals(request.getMethod())) {
            return failure("well_known", MatrixApiException.methodNotAllowed(request.getMethod(), READ));
        }
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.putObject("public_keys").put("ed25519", key.publicKeyBase64());
        answer.put("public_key", key.publicKeyBase64());
        return new Answer("well_known", "ok", HttpServletResponse.SC_OK, answer);
    }

    /**
     * {@code OPTIONS}, answered on every path as on the policy and management ports: 200, the path's
     * {@code Allow}, no body. Homeservers never ask it (federation is server to server), but a 405 for
     * the one method every other path answers told a client probing the listener the path took nothing.
     */
    private static Answer options(HttpServletResponse response, String endpoint, String allow) {
        response.setHeader(HttpHeaders.ALLOW, allow);
        return new Answer(endpoint, "options", HttpServletResponse.SC_OK, null);
    }

    private static Answer recommendation(String outcome, String recommendation) {
        return new Answer("check", outcome, HttpServletResponse.SC_OK, Map.of("recommendation", recommendation));
    }

    /** An error answer whose outcome, for the metric, is its errcode ({@code bad_json}), or {@code failed} for a 5xx. */
    private static Answer failure(String endpoint, RuntimeException failure) {
        return failure(endpoint, null, failure);
    }

    private static Answer failure(String endpoint, String outcome, RuntimeException failure) {
        MatrixErrors.MatrixError error = MatrixErrors.describe(failure);
        String named = outcome != null ? outcome : error.status().is5xxServerError() ? "failed"
                : error.errcode().toLowerCase(Locale.ROOT).replaceFirst("^m_", "");
        return new Answer(endpoint, named, error.status().value(), error);
    }

    private Timer timer(String endpoint, String outcome) {
        return timers.computeIfAbsent(endpoint + ' ' + outcome, key -> Timer.builder(METRIC)
                .description("Policy server requests, by endpoint and outcome")
                .tags("endpoint", endpoint, "outcome", outcome)
                .register(registry));
    }
}
