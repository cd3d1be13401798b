package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.RawHttp.Response;
import dev.matrixpolicy.gateway.support.RawHttp;
import dev.matrixpolicy.gateway.support.Warnings;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;

/**
 * What a broken or hostile client gets at the HTTP edge, on both ports: requests that Tomcat refuses
 * before any application code runs, a malformed query string, the error path, unknown paths. Every
 * answer is JSON in the Matrix error shape, never a server error for the client's mistake, never an
 * HTML page or a server name, and none of it writes a WARN line to the log.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("e2e")
class HttpEdgeEndToEndTest {
    /** The WARN line of each request sent here without the token, kept off the console. */
    @RegisterExtension
    final LoggedLines refusals = LoggedLines.of(BearerTokenFilter.class, Level.DEBUG);

    /** The WARN line of an admin path refused as another site's, likewise. */
    @RegisterExtension
    final LoggedLines adminRefusals = LoggedLines.of(AdminAccessFilter.class, Level.DEBUG);

    private static final String AUTHORIZED = "Authorization: Bearer e2e-secret-token\r\n";
    private static final Pattern NOT_FOUND_COUNT =
            Pattern.compile("(?m)^http_server_requests_seconds_count\\{[^}]*status=\"404\"[^}]*} (\\S+)$");

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @RegisterExtension
    final Warnings warnings = new Warnings();

    enum Server { POLICY, MANAGEMENT }

    private int portOf(Server server) {
        return server == Server.POLICY ? port : managementPort;
    }

    /** A Matrix error answer, on either port: JSON with errcode and error, and nothing that names the server. */
    static void assertMatrixError(Response answer, int status, String errcode) {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(status);
        assertThat(answer.header("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
        assertThat(answer.json().get("errcode").asString()).isEqualTo(errcode);
        assertThat(answer.json().get("error").asString()).isNotBlank();
        assertThat(answer.header("Server")).isEmpty();
        assertThat(answer.body()).doesNotContainIgnoringCase("tomcat").doesNotContainIgnoringCase("apache")
                .doesNotContain("<html").doesNotContain("Exception");
    }

    @Nested
    class RequestsTheContainerRefusesItself {

        static Stream<Arguments> malformedRequests() {
            String host = "Host: localhost\r\n";
            String close = "Connection: close\r\n\r\n";
            return Stream.of(
                    Arguments.of("an encoded slash in the path", "GET /v1/spam_checker%2Fuser_may_invite HTTP/1.1\r\n" + host + close, 400, "M_UNKNOWN"),
                    Arguments.of("an encoded NUL in the path", "GET /v1/%00 HTTP/1.1\r\n" + host + close, 400, "M_UNKNOWN"),
                    Arguments.of("a malformed escape in a path parameter", "GET /nothing;a=%zz HTTP/1.1\r\n" + host + close, 400, "M_UNKNOWN"),
                    Arguments.of("a multipart body that is none", "POST /nothing HTTP/1.1\r\n" + host
                            + "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 0\r\n" + close, 404, "M_UNRECOGNIZED"),
                    Arguments.of("a backslash in the path", "GET /v1\\callbacks HTTP/1.1\r\n" + host + close, 400, "M_UNKNOWN"),
                    Arguments.of("a Content-Length that is not a number", "POST /v1/callbacks HTTP/1.1\r\n" + host + "Content-Length: abc\r\n" + close, 400, "M_UNKNOWN"),
                    Arguments.of("a negative Content-Length", "POST /v1/callbacks HTTP/1.1\r\n" + host + "Content-Length: -1\r\n" + close, 400, "M_UNKNOWN"),
                    Arguments.of("two Content-Length headers", "POST /v1/callbacks HTTP/1.1\r\n" + host + "Content-Length: 2\r\nContent-Length: 3\r\n" + close + "{}", 400, "M_UNKNOWN"),
                    Arguments.of("Transfer-Encoding: identity", "POST /v1/callbacks HTTP/1.1\r\n" + host + "Transfer-Encoding: identity\r\n" + close, 501, "M_UNRECOGNIZED"),
                    Arguments.of("Transfer-Encoding: gzip, chunked", "POST /v1/callbacks HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n" + close + "0\r\n\r\n", 501, "M_UNRECOGNIZED"),
                    Arguments.of("CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n" + close, 501, "M_UNRECOGNIZED"),
                    Arguments.of("HTTP/9.9", "GET /v1/callbacks HTTP/9.9\r\n" + host + close, 505, "M_UNRECOGNIZED"),
                    // an h2c client with prior knowledge: the preface, then its SETTINGS frame (empty)
                    Arguments.of("HTTP/2's connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0", 505, "M_UNRECOGNIZED"),
                    Arguments.of("no Host header", "GET /v1/callbacks HTTP/1.1\r\n" + close, 400, "M_UNKNOWN"),
                    Arguments.of("Expect: bogus", "POST /v1/callbacks HTTP/1.1\r\n" + host + "Expect: bogus\r\nContent-Length: 2\r\n" + close + "{}", 417, "M_UNKNOWN"),
                    Arguments.of("OPTIONS * with a malformed header", "OPTIONS * HTTP/1.1\r\n" + host + "Bad Header: x\r\n" + close, 400, "M_UNKNOWN"),
                    Arguments.of("OPTIONS * without Host", "OPTIONS * HTTP/1.1\r\n" + close, 400, "M_UNKNOWN"),
                    Arguments.of("GET *", "GET * HTTP/1.1\r\n" + host + close, 400, "M_UNKNOWN"),
                    Arguments.of("a URL over 8 KB", "GET /v1/" + "a".repeat(9 * 1024) + " HTTP/1.1\r\n" + host + close, 414, "M_TOO_LARGE"),
                    Arguments.of("a 100 KB header", "GET /v1/callbacks HTTP/1.1\r\n" + host + "X-Padding: " + "b".repeat(100 * 1024) + "\r\n" + close, 431, "M_TOO_LARGE"),
                    Arguments.of("headers over 8 KB in all", "GET /v1/callbacks HTTP/1.1\r\n" + host
                            + ("X-Padding: " + "b".repeat(1000) + "\r\n").repeat(9) + close, 431, "M_TOO_LARGE"));
        }

        static Stream<Arguments> onBothPorts() {
            return Stream.of(Server.values()).flatMap(server -> malformedRequests().map(request -> {
                Object[] values = request.get();
                return Arguments.of(server, values[0], values[1], values[2], values[3]);
            }));
        }

        @ParameterizedTest(name = "{0} port, {1}: {3}")
        @MethodSource("onBothPorts")
        void isAnsweredWithMatrixErrorJsonAndTheStatusHttpPrescribes(Server server, String what, String request, int status, String errcode) {
            assertMatrixError(RawHttp.exchange(portOf(server), request), status, errcode);
        }

        @ParameterizedTest
        @EnumSource(Server.class)
        void aWellFormedOptionsAsteriskIsAnsweredWithTheMethodsSomePathTakesAndNoTrace(Server server) {
            Response answer = RawHttp.exchange(portOf(server), "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

            assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
            assertThat(answer.header("Allow")).hasValue("GET, HEAD, POST, OPTIONS");
            assertThat(answer.header("Content-Length")).hasValue("0");
            assertThat(answer.header("Server")).isEmpty();
        }

        /** Its answer is sent before the body it never reads, which may be broken: it used to be lost with the connection. */
        @ParameterizedTest
        @EnumSource(Server.class)
        void anOptionsAsteriskWithABrokenBodyIsStillAnswered(Server server) {
            Response answer = RawHttp.exchange(portOf(server), "OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n-1\r\n\r\n0\r\n\r\n");

            assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
            assertThat(answer.header("Allow")).hasValue("GET, HEAD, POST, OPTIONS");
        }

        @ParameterizedTest
        @EnumSource(Server.class)
        void aWellFormedOptionsAsteriskKeepsTheConnectionForTheNextRequest(Server server) {
            List<Response> answers = RawHttp.send(portOf(server), ("OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "GET /nothing/here HTTP/1.1\r\nHost: localhost\r\n" + AUTHORIZED + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII), false);

            assertThat(answers).extracting(Response::status).containsExactly(200, 404);
        }
    }

    /** TRACE is a method no path takes: refused as any other would be, naming what the path does answer. */
    @Nested
    class Trace {

        @ParameterizedTest(name = "{0} port, {1}")
        @CsvSource({"POLICY, /v1/spam_checker/user_may_invite, 'POST, OPTIONS'",
            "POLICY, /v1/modules/anyone/is_evil, 'GET, HEAD, OPTIONS'",
            "MANAGEMENT, /actuator/health, 'GET, HEAD, OPTIONS'",
            "MANAGEMENT, /actuator/explain, 'GET, HEAD, OPTIONS'",
            "MANAGEMENT, /actuator/explain/spam_checker/user_may_invite, 'POST, OPTIONS'",
            "MANAGEMENT, /actuator/reload, 'GET, HEAD, POST, OPTIONS'"})
        void isRefusedWithTheMethodsThePathAnswersAsAnyOtherWrongMethodIsAndOptionsListsThemAlike(Server server, String path, String allow) {
            Response trace = RawHttp.exchange(portOf(server), "TRACE " + path + " HTTP/1.1\r\nHost: localhost\r\n" + AUTHORIZED
                    + "X-Echo: secret\r\nConnection: close\r\n\r\n");
            Response delete = RawHttp.exchange(portOf(server), "DELETE " + path + " HTTP/1.1\r\nHost: localhost\r\n" + AUTHORIZED
                    + "Connection: close\r\n\r\n");

            Response options = RawHttp.exchange(portOf(server), "OPTIONS " + path + " HTTP/1.1\r\nHost: localhost\r\n" + AUTHORIZED
                    + "Connection: close\r\n\r\n");

            assertMatrixError(trace, 405, "M_UNRECOGNIZED");
            assertThat(trace.header("Allow")).hasValue(allow);
            assertThat(options.status()).as(options.toString()).isEqualTo(200);
            assertThat(options.header("Allow")).as("OPTIONS").hasValue(allow);
            assertThat(options.header("Accept-Patch")).as("Spring MVC's, empty").isEmpty();
            assertThat(delete.header("Allow")).as("a DELETE's 405").hasValue(allow);
            assertThat(trace.json().get("error").asString()).isEqualTo("Method TRACE is not supported here");
            assertThat(trace.body()).doesNotContain("secret");
            for (String header : List.of("Cache-Control", "X-Content-Type-Options")) { // an admin answer's, on admin paths
                assertThat(trace.header(header)).as(header).isEqualTo(delete.header(header));
            }
        }

        @Test
        void isMeasuredAsTheTraceItIsNotAsTheOptionsItsRefusalAsks() {
            RawHttp.exchange(port, "TRACE /v1/modules/anyone/is_evil HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

            assertThat(GatewayClient.scrape(managementPort))
                    .containsPattern("http_server_requests_seconds_count\\{[^}]*method=\"TRACE\"[^}]*status=\"405\"");
        }

        @ParameterizedTest
        @EnumSource(Server.class)
        void ofAnUnknownPathIsUnrecognizedAsAnyOtherMethodIs(Server server) {
            Response answer = RawHttp.exchange(portOf(server), "TRACE /nothing/here HTTP/1.1\r\nHost: localhost\r\n" + AUTHORIZED
                    + "Connection: close\r\n\r\n");

            assertMatrixError(answer, 404, "M_UNRECOGNIZED");
            assertThat(answer.header("Allow")).as("a path that takes nothing names no method").isEmpty();
        }

        @Test
        void withoutTheTokenIsRefusedAsAnyOtherMethodIs() {
            Response answer = RawHttp.exchange(port, "TRACE /v1/spam_checker/user_may_invite HTTP/1.1\r\nHost: localhost\r\n"
                    + "Connection: close\r\n\r\n");

            assertThat(answer.status()).as(answer.toString()).isEqualTo(401); // plain text, as BearerTokenFilter says why
        }
    }

    @Nested
    class ErrorPath {

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"GET", "POST", "PUT", "DELETE"})
        void isNoRouteOnThePolicyPort(String method) {
            Response answer = RawHttp.exchange(port, method + " /error HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

            assertMatrixError(answer, 404, "M_UNRECOGNIZED");
        }

        @Test
        void isNoRouteOnTheManagementPort() {
            assertMatrixError(RawHttp.exchange(managementPort, "GET /error HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
                    404, "M_UNRECOGNIZED");
        }
    }

    @Nested
    class MalformedQueryString {

        @ParameterizedTest(name = "user={0}")
        @ValueSource(strings = {"%zz", "%", "%ff%fe"})
        void isInvalidParamAndLogsNothing(String user) {
            Response answer = RawHttp.exchange(port, "GET /v1/modules/anyone/is_evil?user=" + user + " HTTP/1.1\r\nHost: localhost\r\n"
                    + AUTHORIZED + "Connection: close\r\n\r\n");

            assertMatrixError(answer, 400, "M_INVALID_PARAM");
            assertThat(answer.json().get("error").asString()).contains("query string");
            assertThat(warnings.lines()).isEmpty();
        }

        @Test
        void isInvalidParamOnTheManagementPortToo() {
            Response answer = RawHttp.exchange(managementPort, "GET /actuator/prometheus?includedNames=%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

            assertMatrixError(answer, 400, "M_INVALID_PARAM");
            assertThat(warnings.lines()).isEmpty();
        }
    }

    @Nested
    class ExpectContinue {
        private static final String BODY = "{\"user_id\": \"@alice:example.com\", \"room_id\": \"!room:example.com\"}";

        @Test
        void isAnsweredOnlyOnceTheTokenIsCheckedSoAnUnauthorizedClientIsNeverAskedForItsBody() throws IOException {
            try (Socket socket = expecting(port, "")) {
                assertThat(statusLine(socket)).isEqualTo("HTTP/1.1 401 ");
            }
        }

        @Test
        void anAuthorizedClientIsAskedForItsBodyAndAnswered() throws IOException {
            try (Socket socket = expecting(port, AUTHORIZED)) {
                assertThat(statusLine(socket)).isEqualTo("HTTP/1.1 100 ");
                socket.getOutputStream().write(BODY.getBytes(StandardCharsets.UTF_8));
                assertThat(statusLine(socket)).as("the chain's verdict (the e2e chain refuses publishing)").isEqualTo("HTTP/1.1 403 ");
            }
        }

        @Test
        void isAnsweredOnTheManagementPortOnlyOnceTheAdminAccessIsCheckedToo() throws IOException {
            try (Socket socket = expecting(managementPort, "/actuator/reload", "Sec-Fetch-Site: cross-site\r\n")) {
                assertThat(statusLine(socket)).as("refused as a page of another site's").isEqualTo("HTTP/1.1 403 ");
            }
            assertThat(adminRefusals.at(Level.WARN)).singleElement().asString().contains("a page of another site");
        }

        private static Socket expecting(int port, String authorization) throws IOException {
            return expecting(port, "/v1/spam_checker/user_may_publish_room", authorization);
        }

        private static Socket expecting(int port, String path, String headers) throws IOException {
            Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\n" + headers
                    + "Content-Type: application/json\r\nContent-Length: " + BODY.length() + "\r\nExpect: 100-continue\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            return socket;
        }

        /** The next answer's status line, up to its reason; its headers and body are read past. */
        private static String statusLine(Socket socket) throws IOException {
            InputStream in = socket.getInputStream();
            String line = readLine(in);
            String status = line.substring(0, Math.min(line.length(), 13));
            // the rest of the answer: headers to the blank line, then a body of Content-Length
            int contentLength = 0;
            for (String header = readLine(in); !header.isEmpty(); header = readLine(in)) {
                if (header.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                    contentLength = Integer.parseInt(header.substring(15).strip());
                }
            }
            in.readNBytes(contentLength);
            return status;
        }

        private static String readLine(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder();
            for (int c = in.read(); c != '\n' && c >= 0; c = in.read()) {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }
    }

    @Nested
    class NumbersNoTreeCanHold {

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"/v1/spam_checker/user_may_publish_room", "/actuator/explain/spam_checker/user_may_publish_room"})
        void deepInsideABodyAreNotJsonAndLogNothing(String path) {
            String body = "{\"user_id\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", \"x\": [[1e9999999999]]}";
            Response answer = RawHttp.exchange(path.startsWith("/actuator") ? managementPort : port, "POST " + path
                    + " HTTP/1.1\r\nHost: localhost\r\n" + AUTHORIZED + "Content-Type: application/json\r\nContent-Length: "
                    + body.length() + "\r\nConnection: close\r\n\r\n" + body);

            // explain answers 200 with what the policy API would answer
            JsonNode answered = path.startsWith("/actuator") ? answer.json().get("answer") : answer.json();
            assertThat(path.startsWith("/actuator") ? answer.json().get("status").asInt() : answer.status()).isEqualTo(400);
            assertThat(answered.get("errcode").asString()).isEqualTo("M_NOT_JSON");
            assertThat(answered.get("error").asString()).startsWith("Content not JSON: a number out of range");
            assertThat(warnings.lines()).isEmpty();
        }
    }

    @Nested
    class ManagementEndpoints {

        @Test
        void inputAnEndpointRejectsIsAClientErrorWithItsReason() {
            Response answer = RawHttp.exchange(managementPort, "GET /actuator/metrics/jvm.threads.live?tag=nocolon HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

            assertMatrixError(answer, 400, "M_INVALID_PARAM");
            assertThat(answer.json().get("error").asString()).contains("key:value");
            assertThat(warnings.lines()).isEmpty();
        }

        @Test
        void explainsListIsReadAndEachCallbackPostedAnyOtherMethodIs405WithWhatIsAllowed() {
            Response posted = RawHttp.exchange(managementPort, "POST /actuator/explain HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
            assertMatrixError(posted, 405, "M_UNRECOGNIZED");
            assertThat(posted.header("Allow")).hasValue("GET, HEAD, OPTIONS");

            Response read = RawHttp.exchange(managementPort, "GET /actuator/explain/spam_checker/user_may_invite HTTP/1.1\r\n"
                    + "Host: localhost\r\nConnection: close\r\n\r\n");
            assertMatrixError(read, 405, "M_UNRECOGNIZED");
            assertThat(read.header("Allow")).hasValue("POST, OPTIONS");

            List<Response> head = RawHttp.send(managementPort, ("HEAD /actuator/explain HTTP/1.1\r\nHost: localhost\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1), true);
            assertThat(head).singleElement().satisfies(answer -> {
                assertThat(answer.status()).isEqualTo(200);
                assertThat(answer.body()).isEmpty();
            });

            // a HEAD's error answer declares its length and sends no body: nothing follows it on the connection
            List<Response> headOfCallback = RawHttp.send(managementPort, ("HEAD /actuator/explain/spam_checker/user_may_invite HTTP/1.1\r\n"
                    + "Host: localhost\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1), true);
            assertThat(headOfCallback).singleElement().satisfies(answer -> {
                assertThat(answer.status()).isEqualTo(405);
                assertThat(answer.header("Allow")).hasValue("POST, OPTIONS");
                assertThat(answer.header("Content-Type")).hasValue("application/json");
                assertThat(answer.header("Content-Length")).hasValueSatisfying(length -> assertThat(Integer.parseInt(length)).isPositive());
                assertThat(answer.body()).isEmpty();
            });
        }

        @Test
        void explainAnswersOptionsWithTheMethodsEachOfItsPathsTakesAsTheOtherManagementPathsDo() {
            for (String[] pathAndAllow : new String[][] {{"/actuator/explain", "GET, HEAD, OPTIONS"},
                    {"/actuator/explain/spam_checker/user_may_invite", "POST, OPTIONS"}}) {
                Response options = RawHttp.exchange(managementPort, "OPTIONS " + pathAndAllow[0] + " HTTP/1.1\r\n"
                        + "Host: localhost\r\nConnection: close\r\n\r\n");

                assertThat(options.status()).as(pathAndAllow[0] + ": " + options.body()).isEqualTo(200);
                assertThat(options.header("Allow")).as(pathAndAllow[0]).hasValue(pathAndAllow[1]);
            }
        }

        @Test
        void anActuatorOperationAskedWithAnotherMethodIs405WithWhatIsAllowed() {
            Response answer = RawHttp.exchange(managementPort, "DELETE /actuator/health HTTP/1.1\r\nHost: localhost\r\n"
                    + "Connection: close\r\n\r\n");

            assertMatrixError(answer, 405, "M_UNRECOGNIZED");
            assertThat(answer.header("Allow")).as("what OPTIONS lists").hasValue("GET, HEAD, OPTIONS");
        }

        @Test
        void anActuatorBodyOfAnotherShapeSaysSoAsThePolicyApiWould() {
            Response array = reloadWith("[]");
            Response nested = reloadWith("{\"a\": {\"b\": 1}}");

            assertMatrixError(array, 400, "M_NOT_JSON");
            assertThat(array.json().get("error").asString()).isEqualTo("Content not JSON object");
            assertMatrixError(nested, 400, "M_BAD_JSON");
            assertThat(nested.json().get("error").asString()).isEqualTo("'a' is not of the type this endpoint reads");
        }

        @Test
        void anActuatorBodyThatIsNotWellFormedUtf8IsNotJson() {
            byte[] head = ("POST /actuator/reload HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 11\r\nConnection: close\r\n\r\n{\"a\": \"").getBytes(StandardCharsets.ISO_8859_1);
            byte[] request = Arrays.copyOf(head, head.length + 4);
            request[head.length] = (byte) 0xC0; // an overlong ':'
            request[head.length + 1] = (byte) 0xBA;
            request[head.length + 2] = '"';
            request[head.length + 3] = '}';

            List<Response> answers = RawHttp.send(managementPort, request, false);

            assertThat(answers).hasSize(1);
            assertMatrixError(answers.getFirst(), 400, "M_NOT_JSON");
            assertThat(answers.getFirst().json().get("error").asString()).isEqualTo("Content not JSON: invalid UTF-8, at byte offset 7");
        }

        /** As deep as its 4 KB allow (the parser takes what an event can hold): the wrong shape, not a failure. */
        @Test
        void anActuatorBodyNestedAsDeepAsItsCapAllowsIsTheWrongShape() {
            int depth = (ManagementBodyCap.MOST_BYTES - 16) / 2;
            Response answer = reloadWith("{\"a\": " + "[".repeat(depth) + "]".repeat(depth) + "}");

            assertMatrixError(answer, 400, "M_BAD_JSON");
        }

        private Response reloadWith(String body) {
            return RawHttp.exchange(managementPort, "POST /actuator/reload HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
        }

        /**
         * A charset no Java charset can be named broke Spring's writing of its own answer: a WARN line with a
         * stack trace for each request, to an open path and an unknown one too, and an error that said nothing.
         */
        @ParameterizedTest(name = "{0} {1}")
        @CsvSource(delimiter = '|', value = {
                "GET /actuator/health|application/json; charset=\"a b\"|415|M_NOT_JSON",
                "GET /actuator/decisions|application/json; charset=|415|M_NOT_JSON",
                "POST /actuator/reload|application/json; charset=%%|415|M_NOT_JSON",
                "GET /nothing|text/plain; charset=\"a b\"|404|M_UNRECOGNIZED"})
        void aContentTypeWhoseCharsetHasNoValidNameIsAClientErrorThatLogsNothing(String request, String contentType, int status,
                                                                                   String errcode) {
            Response answer = RawHttp.exchange(managementPort, request + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                    + contentType + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

            assertMatrixError(answer, status, errcode);
            assertThat(warnings.lines()).isEmpty();
        }

        /** The actuator answers an unknown metric with a 404 and no body of its own. */
        @Test
        void anErrorWithoutABodyIsMatrixErrorJson() {
            Response answer = RawHttp.exchange(managementPort, "GET /actuator/metrics/nothing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

            assertMatrixError(answer, 404, "M_UNRECOGNIZED");
        }

        /** Spring Boot's actuator answers a null result 204 to any method but GET, HEAD included: HEAD must say what GET says. */
        @ParameterizedTest
        @ValueSource(strings = {"/actuator/metrics/nothing", "/actuator/metrics/jvm.threads.live?tag=no:such"})
        void aHeadOfWhatGetFindsNothingAtIsNotFoundAsTheGetIs(String path) {
            List<Response> head = RawHttp.send(managementPort, ("HEAD " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1), true);

            assertThat(head).singleElement().satisfies(answer -> {
                assertThat(answer.status()).as(answer.toString()).isEqualTo(404);
                assertThat(answer.header("Content-Type")).hasValue("application/json");
                assertThat(answer.body()).isEmpty();
            });
        }

        /**
         * The actuator reads an optional JSON body on every operation, GET included. A body cut short
         * is then answered by Tomcat's error report (JSON, 400 M_UNKNOWN): the connection has failed
         * under the request, and what the handler wrote is discarded.
         */
        @ParameterizedTest(name = "{0}")
        @CsvSource({"cut short, M_UNKNOWN", "not JSON, M_NOT_JSON"})
        void aBodyThatCannotBeReadIsAClientErrorAndLogsNothing(String body, String errcode) {
            String request = "GET /actuator/health HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    + (body.equals("cut short") ? "Content-Length: 50\r\n\r\n{\"a\"" : "Content-Length: 5\r\n\r\n{\"a\"}");

            List<Response> answers = RawHttp.send(managementPort, request.getBytes(StandardCharsets.ISO_8859_1), false);

            assertThat(answers).hasSize(1);
            assertMatrixError(answers.getFirst(), 400, errcode);
            assertThat(warnings.lines()).isEmpty();
        }
    }

    @Nested
    class ManagementBodies {
        private static final int LIMIT = 8 * 1024; // max-body-size of the e2e profile

        @Test
        void anActuatorBodyOverFourKilobytesIsTooLarge() {
            String body = "{\"a\": \"" + "x".repeat(ManagementBodyCap.MOST_BYTES) + "\"}";
            String request = "GET /actuator/health HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body;

            assertMatrixError(RawHttp.exchange(managementPort, request), 413, "M_TOO_LARGE");
        }

        @Test
        void aChunkedActuatorBodyIsCountedAsItComesAndRefusedPastFourKilobytes() {
            StringBuilder request = new StringBuilder("GET /actuator/health HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
            String chunk = "{\"k\": \"" + "x".repeat(1000) + "\", ";
            for (int i = 0; i < 20; i++) { // 20 KB: more than the limit, a chunk at a time
                request.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
            }
            request.append("0\r\n\r\n");

            assertMatrixError(RawHttp.exchange(managementPort, request.toString()), 413, "M_TOO_LARGE");
        }

        @Test
        void explainStillAnswersATooLargeBodyAsThePolicyApiWould() {
            String body = "{\"inviter\": \"" + "x".repeat(LIMIT) + "\"}";
            Response answer = RawHttp.exchange(managementPort, "POST /actuator/explain/spam_checker/user_may_invite HTTP/1.1\r\n"
                    + "Host: localhost\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                    + "\r\nConnection: close\r\n\r\n" + body);

            assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
            assertThat(answer.json().get("status").asInt()).isEqualTo(413);
            assertThat(answer.json().at("/answer/errcode").asString()).isEqualTo("M_TOO_LARGE");
        }

        @Test
        void aSmallBodyIsReadOnceAndTheEndpointStillGetsIt() {
            String request = "GET /actuator/health HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    + "Content-Length: 2\r\n\r\n{}";

            Response answer = RawHttp.exchange(managementPort, request);
            assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
            assertThat(answer.json().get("status").asString()).isEqualTo("UP");
        }
    }

    /**
     * A media range where a Content-Type belongs: Spring Framework adds the charset a request is read in
     * to its Content-Type and refuses a range that way (spring-framework#27957), so every actuator
     * operation, which reads an optional body, and every unknown path was a 500 and an ERROR line with a
     * stack trace, body or not. It is a type no endpoint reads, as {@code text/plain} is: ignored where
     * no body is read, 415 where one is.
     */
    @Nested
    class MediaRangeContentTypes {

        @ParameterizedTest(name = "{0} port, {1} {2}, body {3}")
        @CsvSource(delimiter = '|', value = {
                "MANAGEMENT|GET /actuator/health|*/*|''|200|",
                "MANAGEMENT|GET /actuator/health|text/*|{}|200|",
                "MANAGEMENT|GET /actuator/chains|application/*|{}|200|",
                "MANAGEMENT|POST /actuator/reload|*/*|''|415|M_NOT_JSON",
                "MANAGEMENT|POST /actuator/reload|text/*|{}|415|M_NOT_JSON",
                "MANAGEMENT|GET /nothing|*/*|''|404|M_UNRECOGNIZED",
                "POLICY|GET /nothing|*/*|''|404|M_UNRECOGNIZED",
                "POLICY|POST /|text/*|{}|404|M_UNRECOGNIZED",
                "POLICY|HEAD /error|application/*|''|404|"})
        void isATypeNoEndpointReads(Server server, String request, String contentType, String body, int status, String errcode) {
            String sent = request + " HTTP/1.1\r\nHost: localhost\r\n" + AUTHORIZED + "Content-Type: " + contentType
                    + "\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body;
            Response answer = RawHttp.send(portOf(server), sent.getBytes(StandardCharsets.ISO_8859_1), request.startsWith("HEAD")).getFirst();

            if (errcode == null) {
                assertThat(answer.status()).as(answer.toString()).isEqualTo(status);
            } else {
                assertMatrixError(answer, status, errcode);
            }
            if (status == 415) {
                assertThat(answer.json().get("error").asString()).startsWith("A body of type " + contentType + " is not read here");
            }
            assertThat(warnings.lines()).isEmpty();
        }
    }

    @Nested
    class UnknownPaths {

        @ParameterizedTest(name = "{0}")
        @ValueSource(strings = {"/nothing/here", "/v1/nothing/here", "/.env"})
        void areUnrecognizedWithoutAWarningPerRequestButCounted(String path) {
            double countedBefore = notFoundAnswers();

            Response answer = RawHttp.exchange(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + AUTHORIZED + "Connection: close\r\n\r\n");

            assertMatrixError(answer, 404, "M_UNRECOGNIZED");
            assertThat(warnings.lines()).isEmpty();
            assertThat(notFoundAnswers()).isEqualTo(countedBefore + 1);
        }

        /** Spring Boot's welcome page mapping, asked about "/", warned of every Accept header it could not parse. */
        @ParameterizedTest(name = "Accept: {0}")
        @ValueSource(strings = {"foo", "text/html;q=x", "/"})
        void theRootAskedWithAnAcceptNoOneCanParseIsUnrecognizedWithoutAWarning(String accept) {
            Response answer = RawHttp.exchange(port, "GET / HTTP/1.1\r\nHost: localhost\r\nAccept: " + accept + "\r\n" + AUTHORIZED
                    + "Connection: close\r\n\r\n");

            assertMatrixError(answer, 404, "M_UNRECOGNIZED");
            assertThat(warnings.lines()).isEmpty();
        }

        /** The 404 answers in {@code http.server.requests}, over all its series. */
        private double notFoundAnswers() {
            return NOT_FOUND_COUNT.matcher(GatewayClient.scrape(managementPort)).results()
                    .mapToDouble(count -> Double.parseDouble(count.group(1))).sum();
        }
    }
}
