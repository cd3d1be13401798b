package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.CallbackRequests;
import dev.matrixpolicy.gateway.support.Gen;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.RawHttp;
import dev.matrixpolicy.gateway.support.RawHttp.Response;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * A seeded corpus of malformed HTTP/1.1 requests, byte for byte: broken request lines, methods and
 * versions; duplicate, huge and control-character headers; every combination of Content-Length and
 * Transfer-Encoding, bad chunking; bad percent-encoding in path and query; bodies cut short, not
 * JSON, nested deep or too large, with names of half a surrogate pair ({@link HalfPairBodies}); with
 * and without the token. Most requests keep a valid frame
 * around one or two faults, so each fault reaches the layer that must refuse it.
 *
 * <p>{@link #fire} sends them over raw sockets and checks each answer against the promises of the
 * Errors section of docs/api.md ({@link #assertDocumented}); {@code HttpFuzzEndToEndTest} does it in
 * process, {@code HttpFuzzIT} against the packaged jar with the policy server's port too.
 */
final class MalformedHttp {
    /**
     * The corpus's seed: fixed, so that a build fails the same way twice; {@code -Dfuzz.seed=N} draws
     * another corpus to hunt with ({@code ./mvnw -o failsafe:integration-test -Dit.test=HttpFuzzIT
     * -Dfuzz.seed=4} after a package, on JDK 25).
     */
    static final long SEED = Long.getLong("fuzz.seed", 20261201L);
    private static final String TOKEN_REFUSED = "Missing or invalid bearer token\n";
    /** Qualified Java names, library and option names, the server's: none is any business of the caller. */
    private static final Pattern INTERNALS = Pattern.compile(
            "\\b(?:java|javax|jakarta|sun|org\\.apache|org\\.springframework|tools\\.jackson|com\\.fasterxml|ch\\.qos)\\.[a-z]"
                    + "|Exception|Jackson|JsonToken|DeserializationFeature|StreamReadConstraints|JsonReadFeature|Tomcat|Coyote"
                    + "|<html|\\tat ");

    /** Which of the gateway's ports a request goes to: the policy API, the management port, the policy server's federation port. */
    enum Port { POLICY, MANAGEMENT, FEDERATION }

    /**
     * A route to aim at and a valid body for it ({@code null} for none).
     * {@code failsClosed}: a module fails closed there, so 503 is the documented answer.
     * {@code admin}: an admin path of the management port, sent the admin token (or a fault of it).
     */
    record Route(Port port, String path, String validBody, boolean failsClosed, boolean admin) {
        Route(Port port, String path, String validBody, boolean failsClosed) {
            this(port, path, validBody, failsClosed, false);
        }

        /** The token this route takes, if any: the homeserver's on the policy API, the admin's on an admin path. */
        Optional<String> token() {
            return port == Port.POLICY ? Optional.of(TOKEN) : admin ? Optional.of(ADMIN_TOKEN) : Optional.empty();
        }
    }

    /**
     * One request: where it goes, what it is (for a failure message) and its bytes. {@code failsClosed}:
     * the path the container routes it by fails closed, its route's or, once the container has taken
     * out the path parameters and the query a fault put in, another's ({@code user_may_create_room;jsessionid=1_alias}
     * and {@code user_may_create_room?_alias} are {@code user_may_create_room}).
     */
    record Probe(Route route, boolean head, List<String> faults, byte[] bytes, boolean failsClosed) {
        @Override
        public String toString() {
            String text = new String(bytes, StandardCharsets.ISO_8859_1);
            return route.port() + " " + faults + ": " + (text.length() > 600 ? text.substring(0, 600) + "... (" + text.length() + " bytes)" : text);
        }
    }

    /** The homeserver's token of the gateway fired at: {@code policy-gateway.auth.token}. */
    static final String TOKEN = "fuzz-token";
    /** The admin token of the gateway fired at: {@code policy-gateway.admin.token}. */
    static final String ADMIN_TOKEN = "fuzz-admin-token";
    private static final List<String> METHODS = List.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT",
            "PRI", "get", "post", "G\u0000ET", "P(ST", "M-SEARCH", "BREW", "", "X".repeat(300), "POST\t", "\u00e9POST");
    private static final List<String> VERSIONS = List.of("HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1 extra",
            "http/1.1", "HTTP/1.10", "", "HTTP/1", "HTTP/1.1\u0000", "HTTPS/1.1", "HTTP/01.1");
    private static final List<String> PATH_FAULTS = List.of("%zz", "%", "%f", "%ff%fe", "%2F", "%2f", "%00", "%5C", "\\",
            "%2e%2e/", "../", "/..", "//", ";jsessionid=1", ";a=%zz", "%25", "%c0%af", "\u00e9", " ", "\t", "#frag", "%u0041",
            "\u0000", "\u007f", "*", "%%", "?");
    private static final List<String> QUERIES = List.of("?user=%zz", "?user=%", "?user=%ff%fe", "?user=@a:b&user=@c:d",
            "?=&=&&", "?user", "?user=%40spammer%3Aexample.com", "?user=\u00e9", "?" + "a=1&".repeat(1200), "?user=" + "x".repeat(9000),
            "?user=@spammer:example.com%00", "?tag=nocolon", "?tag=a:b:c", "?includedNames=%zz");
    private static final List<String> BODIES = List.of("", "null", "[]", "{}{}", "{", "}", "\"a\"", "{\"a\": NaN}",
            "{\"a\": 01}", "{'a': 1}", "{\"a\": 1,}", "\ufeff{}", "{\"a\": \"\\ud800\"}", "{\"a\":\"\u0000\"}", "{\"a\": 1e99999}",
            "{\"a\": /*c*/ 1}", "{\"a\": [1, 2}");

    /** A path parameter, which the servlet container takes out of a segment before routing. */
    private static final Pattern PATH_PARAMETER = Pattern.compile(";[^/?]*");
    /** The query, from the first '?' of the target: not part of the path the container routes by. */
    private static final Pattern QUERY = Pattern.compile("\\?.*", Pattern.DOTALL);

    private final Gen gen;
    private final List<Route> routes;

    MalformedHttp(Gen gen, List<Route> routes) {
        this.gen = gen;
        this.routes = routes;
    }

    Probe next() {
        Route route = gen.oneOf(routes);
        List<String> faults = new ArrayList<>();
        boolean hasBody = route.validBody() != null;
        String method = hasBody ? "POST" : "GET";
        if (gen.chance(0.15)) {
            method = gen.oneOf(METHODS);
            faults.add("method");
        }
        String target = route.path();
        if (gen.chance(0.25)) {
            target = pathWithFault(target);
            faults.add("path");
        }
        if (gen.chance(0.08)) {
            target = gen.oneOf(List.of("*", "http://localhost" + target, "http://evil.example" + target, "", target.substring(1),
                    "/" + "a".repeat(9000)));
            faults.add("request target");
        }
        String version = "HTTP/1.1";
        if (gen.chance(0.08)) {
            version = gen.oneOf(VERSIONS);
            faults.add("version");
        }
        String eol = gen.chance(0.05) ? "\n" : "\r\n";
        if (!eol.equals("\r\n")) {
            faults.add("bare LF");
        }

        List<String> headers = new ArrayList<>();
        if (gen.chance(0.95)) {
            headers.add("Host: localhost");
        } else {
            faults.add("no Host");
        }
        if (route.token().isPresent()) {
            String token = route.token().get();
            if (gen.chance(0.8)) {
                headers.add("Authorization: Bearer " + token);
            } else {
                String wrong = gen.oneOf(List.of("Bearer wrong", "Bearer", "Basic Zm9vOmJhcg==", "bearer " + token, "Bearer  " + token + " ",
                        "Bearer " + token + "\u0000", ""));
                if (!wrong.isEmpty()) {
                    headers.add("Authorization: " + wrong);
                }
                faults.add("token");
            }
        }
        if (gen.chance(0.7)) {
            headers.add(gen.chance(0.9) ? "Content-Type: application/json" : "Content-Type: " + gen.oneOf(List.of(
                    "text/html", "application/json; charset=latin1", "multipart/form-data; boundary=x",
                    "application/x-www-form-urlencoded", ";;;", "application/json\u0000")));
        }
        if (gen.chance(0.5)) {
            headers.add("Connection: close");
        }
        if (gen.chance(0.25)) {
            for (int i = gen.between(1, 2); i > 0; i--) {
                headers.add(headerWithFault(faults));
            }
        }

        byte[] body = new byte[0];
        if (hasBody || gen.chance(0.1)) {
            body = body(route, faults);
        }
        String framingHead = framing(headers, body.length, faults);
        byte[] framedBody = framedBody(body, framingHead);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        write(bytes, method + " " + target + (version.isEmpty() ? "" : " " + version) + eol);
        headers.forEach(header -> write(bytes, header + eol));
        write(bytes, eol);
        bytes.writeBytes(framedBody);
        String routed = PATH_PARAMETER.matcher(QUERY.matcher(target).replaceFirst("")).replaceAll("");
        boolean failsClosed = route.failsClosed() || routes.stream().anyMatch(other -> other.failsClosed()
                && other.port() == route.port() && other.path().equals(routed));
        return new Probe(route, method.equals("HEAD"), faults, bytes.toByteArray(), failsClosed);
    }

    private String pathWithFault(String path) {
        String fault = gen.oneOf(PATH_FAULTS);
        int at = gen.between(1, path.length());
        return switch (gen.random().nextInt(3)) {
            case 0 -> path.substring(0, at) + fault + path.substring(at);
            case 1 -> path + gen.oneOf(QUERIES);
            default -> path.substring(0, at) + fault + path.substring(at) + gen.oneOf(QUERIES);
        };
    }

    private String headerWithFault(List<String> faults) {
        int kind = gen.random().nextInt(13);
        faults.add("header " + kind);
        return switch (kind) {
            case 0 -> "Host: other.example";
            case 1 -> "Authorization: Bearer wrong";
            case 2 -> "X-Big: " + "b".repeat(gen.oneOf(List.of(4_000, 9_000, 100_000)));
            case 3 -> "X-Control: a" + gen.oneOf(List.of("\u0000", "\u0001", "\u007f", "\r", "\u001b[31m")) + "b";
            case 4 -> "NoColonHere";
            case 5 -> "Host : localhost";
            case 6 -> "X-Folded: a\r\n b";
            case 7 -> "X-Latin: caf\u00e9 \u00ff";
            case 8 -> ": empty name";
            case 9 -> "Expect: " + gen.oneOf(List.of("100-continue", "bogus", "100-Continue", ""));
            case 10 -> String.join("\r\n", java.util.Collections.nCopies(gen.between(50, 150), "X-Many: m"));
            case 11 -> "X-Forwarded-For: 127.0.0.1";
            default -> "Upgrade: " + gen.oneOf(List.of("h2c", "websocket", "TLS/1.2"));
        };
    }

    private byte[] body(Route route, List<String> faults) {
        String valid = route.validBody() == null ? "{}" : route.validBody();
        int kind = gen.random().nextInt(11);
        if (kind > 0) {
            faults.add("body " + kind);
        }
        return switch (kind) {
            case 0, 1 -> Gen.utf8(valid);
            case 2, 3 -> Gen.utf8(gen.nearJson(valid));
            case 4 -> gen.bytes(200);
            case 5 -> Gen.utf8(gen.deeplyNested(gen.oneOf(List.of(50, 499, 501, 1500)), gen.chance(0.8)));
            case 6 -> Gen.utf8("{\"a\": \"" + "x".repeat(gen.between(8_100, 20_000)) + "\"}");
            case 7 -> Gen.utf8(gen.oneOf(BODIES));
            case 8 -> Gen.utf8(gen.mutate(Gen.parse(valid)).toString());
            case 9 -> new HalfPairBodies(gen).next(valid).half();
            default -> Gen.utf8("{\"a\": " + "9".repeat(gen.between(990, 1010)) + ", \"" + "n".repeat(gen.between(10, 3000)) + "\": 1}");
        };
    }

    /**
     * Adds the framing headers and returns a marker for {@link #framedBody}: "length" with a right
     * Content-Length, "chunked" for a right chunked body, or which fault the frame has.
     */
    private String framing(List<String> headers, int length, List<String> faults) {
        int kind = gen.random().nextInt(20);
        if (kind >= 2) {
            faults.add("frame " + kind);
        }
        return switch (kind) {
            case 0, 1, 2, 3, 4, 5, 6, 7, 8 -> {
                headers.add("Content-Length: " + length);
                yield "length";
            }
            case 9, 10, 11 -> {
                headers.add("Transfer-Encoding: chunked");
                yield "chunked";
            }
            case 12 -> {
                headers.add("Content-Length: " + (length + gen.between(1, 100)));
                yield "length";
            }
            case 13 -> {
                headers.add("Content-Length: " + Math.max(0, length - gen.between(1, 20)));
                yield "length";
            }
            case 14 -> {
                headers.add("Content-Length: " + gen.oneOf(List.of("-1", "abc", length + ", " + length, "+" + length, "0x10",
                        "99999999999999999999", " ", length + " " + length)));
                yield "length";
            }
            case 15 -> {
                headers.add("Content-Length: " + length);
                headers.add("Transfer-Encoding: chunked");
                yield "chunked";
            }
            case 16 -> {
                headers.add("Transfer-Encoding: " + gen.oneOf(List.of("identity", "gzip", "gzip, chunked", "chunked, chunked",
                        "Chunked", " chunked", "chunked;q=1", "x-unknown")));
                yield "chunked";
            }
            case 17 -> {
                headers.add("Content-Length: " + length);
                headers.add("Content-Length: " + (gen.chance(0.5) ? length : length + 1));
                yield "length";
            }
            case 18 -> "none";
            default -> {
                headers.add("Transfer-Encoding: chunked");
                yield "bad chunks";
            }
        };
    }

    private byte[] framedBody(byte[] body, String framing) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (framing) {
            case "chunked" -> {
                int at = 0;
                while (at < body.length) {
                    int size = Math.min(body.length - at, gen.between(1, 4096));
                    write(out, Integer.toHexString(size) + "\r\n");
                    out.write(body, at, size);
                    write(out, "\r\n");
                    at += size;
                }
                write(out, "0\r\n\r\n");
            }
            case "bad chunks" -> {
                String size = Integer.toHexString(body.length);
                write(out, switch (gen.random().nextInt(8)) {
                    case 0 -> "zz\r\n";
                    case 1 -> size + ";ext=1;x\r\n";
                    case 2 -> Integer.toHexString(body.length + 50) + "\r\n";
                    case 3 -> "-1\r\n";
                    case 4 -> "ffffffffffffffff\r\n";
                    case 5 -> size + "\n";
                    case 6 -> " " + size + "\r\n";
                    default -> size + "\r\n";
                });
                out.writeBytes(body);
                write(out, gen.oneOf(List.of("\r\n0\r\n\r\n", "", "0\r\n\r\n", "\r\n0\r\nX-Trailer: t\r\n\r\n", "\r\n0\r\n",
                        "\r\n1\r\n", "\r\n0;a=b\r\n\r\n")));
            }
            default -> out.writeBytes(body);
        }
        return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, String text) {
        // Latin-1, so each char is one byte as written, and non-ASCII characters arrive as raw bytes.
        out.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** What {@link #fire} saw: how many requests went, the statuses, and the requests that got no answer at all. */
    record Outcome(int sent, Map<Integer, Integer> statuses, List<Probe> unanswered) {
    }

    /**
     * Sends up to {@code requests} probes (fewer if {@code budget} runs out), each on its own
     * connection to its route's port, and checks every answer with {@link #assertDocumented}.
     */
    Outcome fire(Map<Port, Integer> ports, int requests, Duration budget) {
        long started = System.nanoTime();
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<Probe> unanswered = new ArrayList<>();
        int sent = 0;
        for (; sent < requests && System.nanoTime() - started < budget.toNanos(); sent++) {
            Probe probe = next();
            List<Response> answers;
            try {
                answers = RawHttp.send(ports.get(probe.route().port()), probe.bytes(), probe.head());
            } catch (IllegalStateException unparsable) {
                throw new AssertionError("Not HTTP: the answer to " + probe, unparsable);
            }
            if (answers.isEmpty()) {
                unanswered.add(probe);
            }
            for (Response answer : answers) {
                statuses.merge(answer.status(), 1, Integer::sum);
                assertDocumented(probe, answer);
            }
        }
        return new Outcome(sent, statuses, unanswered);
    }

    /**
     * Every route of the policy API and the management port, each with a valid body where it takes
     * one: each callback that discovery lists, the discovery documents, {@code is_evil}, unknown
     * paths, the actuator, and the admin paths behind the admin guard with the admin token.
     *
     * @param failsClosed the callback paths where a module fails closed, so that 503 is the documented answer
     */
    static List<Route> routes(int policyPort, Predicate<String> failsClosed) {
        Map<String, String> samples = CallbackRequests.everyCallback()
                .collect(Collectors.toMap(arguments -> "/v1/" + arguments.get()[0], arguments -> (String) arguments.get()[1]));
        GatewayClient gateway = new GatewayClient(policyPort, TOKEN);
        List<Route> routes = new ArrayList<>();
        for (JsonNode callback : gateway.get("/v1/callbacks").json().get("callbacks").values()) {
            String path = "/v1/" + callback.get("category").asString() + "/" + callback.get("callback").asString();
            routes.add(new Route(Port.POLICY, path, samples.get(path), failsClosed.test(path)));
        }
        assertThat(routes).as("discovered callbacks").hasSizeGreaterThan(10);
        routes.add(new Route(Port.POLICY, "/v1/spam_checker/user_may_invite_not", "{}", false));
        routes.add(new Route(Port.POLICY, "/v1/third_party_rules/on_logged_out", samples.get("/v1/password_auth_provider/on_logged_out"), false));
        for (String path : List.of("/v1/callbacks", "/v1/password_auth_provider/auth_checkers",
                "/v1/modules/denylist/is_evil?user=@spammer:example.com", "/v1/modules/denylist/is_evil?user=@bob:example.com",
                "/v1/modules/answers/is_evil?user=@a:b", "/v1/modules/nothing/is_evil", "/v1/modules/denylist/is_evil",
                "/v1", "/", "/error", "/actuator/health")) {
            routes.add(new Route(Port.POLICY, path, null, false));
        }
        routes.add(new Route(Port.POLICY, "/v1/spam_checker/ping", "{\"id\": \"fuzz\"}", false));
        for (String path : List.of("/actuator", "/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness",
                "/actuator/info", "/actuator/prometheus", "/actuator/metrics", "/actuator/metrics/jvm.threads.live",
                "/actuator/metrics/jvm.threads.live?tag=nocolon", "/actuator/metrics/nothing", "/actuator/chains",
                "/actuator/nothing", "/error", "/", "/v1/callbacks")) {
            routes.add(new Route(Port.MANAGEMENT, path, null, false));
        }
        for (String path : List.of("/actuator/decisions", "/actuator/decisions?user=@spammer:example.com&limit=5",
                "/actuator/decisions?room=%23a:example.com&callback=user_may_invite&entry=denylist", "/actuator/decisions?limit=0",
                "/actuator/policylists", "/actuator/policylists/match?entity=@spammer:example.com", "/actuator/sources",
                "/actuator/explain", "/actuator/chainstats", "/console", "/console/", "/console/console.js", "/console/nothing")) {
            routes.add(new Route(Port.MANAGEMENT, path, null, false, true));
        }
        routes.add(new Route(Port.MANAGEMENT, "/actuator/reload", "{}", false, true));
        routes.add(new Route(Port.MANAGEMENT, "/actuator/explain/spam_checker/user_may_invite",
                samples.get("/v1/spam_checker/user_may_invite"), false, true));
        routes.add(new Route(Port.MANAGEMENT, "/actuator/explain/spam_checker/user_may_create_room",
                samples.get("/v1/spam_checker/user_may_create_room"), false, true));
        return routes;
    }

    /**
     * The promises of docs/api.md's Errors section: no 5xx but the 503 of a module that fails closed
     * and the 501/505 HTTP prescribes; an {@code Allow} header on every 405; no Server header; no Java class, library or server name in
     * the answer; every error JSON, with {@code errcode} and {@code error} on the policy and
     * federation ports (but the token's plain-text 401 on the policy port).
     */
    static void assertDocumented(Probe probe, Response answer) {
        String what = probe + "\n-> " + answer;
        int status = answer.status();
        if (status == RawHttp.HTTP_0_9) {
            // Tomcat still speaks HTTP/0.9 to a request line with no version ("POST  HTTP/1.1" reads as
            // target "HTTP/1.1"): no status line, no headers, the body alone.
            assertThat(INTERNALS.matcher(answer.body()).find()).as("no internals in the body: " + what).isFalse();
            // Whether it is an error shows only in the body: the token's refusal, or JSON with an errcode.
            // (The gateway's error JSON begins with its errcode.)
            if (answer.body().startsWith("{\"errcode\"")) {
                assertMatrixError(json(answer, what), what);
            }
            return;
        }
        assertThat(status < 500 || status == 501 || status == 505
                || status == 503 && probe.failsClosed()).as("a status docs/api.md documents: " + what).isTrue();
        assertThat(answer.header("Server")).as("no Server header: " + what).isEmpty();
        // What an admin path answers is for the operator: the console's HTML and script, a module's failure as
        // the decision log and explain report it (its exception's name included). Its refusals are checked as everyone's.
        boolean adminReport = status < 300 && probe.route().admin();
        assertThat(!adminReport && INTERNALS.matcher(answer.body()).find()).as("no internals in the body: " + what).isFalse();
        assertThat(INTERNALS.matcher(answer.headers().toString()).find()).as("no internals in the headers: " + what).isFalse();
        if (status == 405) {
            assertThat(answer.header("Allow")).as("a 405 names the methods it takes: " + what).isPresent();
        }
        if (status < 400 || answer.body().isEmpty() && probe.head()) {
            return;
        }
        if (status == 401 && probe.route().port() == Port.POLICY) {
            // The token's refusal is plain text on purpose (docs/api.md, Errors).
            assertThat(answer.body()).as(what).isEqualTo(TOKEN_REFUSED);
            return;
        }
        assertThat(answer.header("Content-Type")).as("JSON: " + what)
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
        JsonNode json = json(answer, what);
        if (probe.route().port() != Port.MANAGEMENT || json.has("errcode")) {
            assertMatrixError(json, what);
        }
    }

    private static void assertMatrixError(JsonNode json, String what) {
        assertThat(json.path("errcode").asString("")).as("errcode: " + what).startsWith("M_");
        assertThat(json.path("error").asString("")).as("error: " + what).isNotBlank();
    }

    private static JsonNode json(Response answer, String what) {
        try {
            return GatewayClient.json(answer.body());
        } catch (RuntimeException notJson) {
            throw new AssertionError("Not JSON: " + what, notJson);
        }
    }
}
