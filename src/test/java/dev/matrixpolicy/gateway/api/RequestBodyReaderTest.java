package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.matrixpolicy.gateway.callbacks.ArgsJson;
import dev.matrixpolicy.gateway.callbacks.BadArgumentException;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.JsonBody;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.support.CallbackRequests;
import dev.matrixpolicy.gateway.support.Gen;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.SocketTimeoutException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.catalina.connector.ClientAbortException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a caller is told about a body that is not a JSON object: what is wrong, where (the byte
 * offset), and the limit it broke, in the caller's terms. The parser's own class, option and
 * constraint names mean nothing to a homeserver admin and never appear.
 */
class RequestBodyReaderTest {
    /** Spring's mapper as the gateway configures it: the limits of what an event can hold. */
    private static final JsonMapper JSON = EventJson.MAPPER;
    private final RequestBodyReader reader = new RequestBodyReader(JSON, DataSize.ofMegabytes(1));

    @Test
    void dataAfterTheObjectIsNamedWithWhereItStarts() {
        assertThat(notJson("{}{}")).isEqualTo("Content not JSON: unexpected data after the JSON object, at byte offset 2");
    }

    @Test
    void nestingDeeperThanTheLimitNamesTheLimit() {
        String message = notJson("{\"a\": " + "[".repeat(70_000) + "]".repeat(70_000) + "}");

        assertThat(message).startsWith("Content not JSON: ").contains("nesting depth").contains("(65536)").contains("at byte offset");
    }

    @Test
    void numberLongerThanTheLimitNamesTheLimit() {
        String message = notJson("{\"a\": " + "1".repeat(70_000) + "}");

        assertThat(message).contains("Number value length (70000)").contains("(65536)").contains("at byte offset");
    }

    @Test
    void fieldNameLongerThanTheLimitNamesTheLimit() {
        String message = notJson("{\"" + "a".repeat(70_000) + "\": 1}");

        assertThat(message).contains("Name length (70000)").contains("(65536)").contains("at byte offset");
    }

    @Test
    void nanIsNamedAsTheTokenJsonDoesNotHave() {
        assertThat(notJson("{\"a\": NaN}")).isEqualTo("Content not JSON: Non-standard token 'NaN', at byte offset 9");
    }

    /** The parser of bytes tells such a token at the last byte of its first character, in the middle of it. */
    @ParameterizedTest
    @ValueSource(strings = {"é", "€", "😀", "éx", "\u0080"})
    void aTokenBeginningWithACharacterOfSeveralBytesIsToldAtItsFirstByte(String token) {
        assertThat(notJson("{\"a\": " + token + "}")).endsWith(", at byte offset 6");
        assertThat(notJson("{\"a\": 1}" + token)).endsWith(", at byte offset 8");
        assertThat(notJson("\uFEFF{\"\\udc00\": 1}" + token)).endsWith(", at byte offset 16");
    }

    @Test
    void bodyEndingEarlySaysSoAndWhere() {
        assertThat(notJson("{\"a\": 1")).isEqualTo("Content not JSON: the body ends before the JSON object is complete, at byte offset 7");
    }

    @ParameterizedTest
    @ValueSource(strings = {"UTF-16LE", "UTF-16BE", "UTF-16", "UTF-32LE", "UTF-32BE"})
    void aBodyInUtf16OrUtf32IsNotJsonWhichIsUtf8(String charset) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/spam_checker/check_login_for_spam");
        request.setContent("{\"user_id\": \"@a:example.com\", \"request_info\": [[\"ua\", \"1.2.3.4\"]]}".getBytes(Charset.forName(charset)));

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readBody(request));
        assertThat(refused.errcode()).isEqualTo("M_NOT_JSON");
        assertThat(refused.getMessage()).isEqualTo("Content not JSON: the body must be UTF-8, not UTF-16 or UTF-32");
    }

    @Test
    void anOverlongUtf8FormIsNotReadAsTheCharacterItMimics() {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/spam_checker/user_may_join_room");
        byte[] before = "{\"user\": \"@bot".getBytes(StandardCharsets.UTF_8);
        byte[] after = "spam.example\", \"room\": \"!r:example.com\", \"is_invited\": false}".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[before.length + 2 + after.length];
        System.arraycopy(before, 0, body, 0, before.length);
        body[before.length] = (byte) 0xC0; // ':' in two bytes, which UTF-8 forbids
        body[before.length + 1] = (byte) 0xBA;
        System.arraycopy(after, 0, body, before.length + 2, after.length);
        request.setContent(body);

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readBody(request));
        assertThat(refused.errcode()).isEqualTo("M_NOT_JSON");
        assertThat(refused.getMessage()).isEqualTo("Content not JSON: invalid UTF-8, at byte offset " + before.length);
    }

    /** Spring's own mapper keeps every name it reads for its life; the reader keeps them only for the next MiB of bodies. */
    @Test
    void theNamesOfABodyAreNotKeptPastTheNextMebibyteOfBodiesWhateverTheMapperItIsGiven() {
        RequestBodyReader fromJacksons = new RequestBodyReader(JsonMapper.builder().build(), DataSize.ofMegabytes(1));
        String name = "n".repeat(1000);
        String body = "{\"a\": {\"" + name + "\": 1}, \"b\": {\"" + name + "\": 2}}";
        String filler = "{\"filler\": \"" + "x".repeat(600_000) + "\"}";

        ObjectNode first = fromJacksons.readObject(declaring(-1, body));
        fromJacksons.readObject(declaring(-1, filler));
        fromJacksons.readObject(declaring(-1, filler));
        ObjectNode later = fromJacksons.readObject(declaring(-1, body));

        String firstName = first.path("a").propertyNames().iterator().next();
        assertThat(firstName).isEqualTo(name).isSameAs(first.path("b").propertyNames().iterator().next());
        assertThat(later.path("a").propertyNames().iterator().next()).isEqualTo(name).isNotSameAs(firstName);
    }

    @Test
    void aBodyWithAUtf8ByteOrderMarkIsRead() {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/spam_checker/user_may_invite");
        request.setContent("\uFEFF{\"a\": [1, 2]}".getBytes(StandardCharsets.UTF_8));

        assertThat(reader.readObject(request).path("a").size()).isEqualTo(2);
    }

    /** A mark and nothing else is as empty as no byte at all (the parser reads a lone mark as a character). */
    @ParameterizedTest
    @ValueSource(strings = {"", "\uFEFF", "\uFEFF ", " \n"})
    void aBodyOfNothingButAByteOrderMarkOrWhiteSpaceIsToldToBeEmpty(String body) {
        assertThat(notJson(body)).isEqualTo("Content not JSON: the body is empty");
    }

    /**
     * Names holding half a surrogate pair, each way the parser of bytes refuses one: a low half alone,
     * a high half before the name's end, before another character, before an escape that is no low half.
     */
    private static final String[] NAMES_OF_HALF_A_PAIR = {"\\udc00", "\\ud800", "a\\ud800b", "\\ud800\\u0041", "\\uDBFF\\uD800"};

    @ParameterizedTest
    @MethodSource("namesOfHalfAPair")
    void aNameHoldingHalfASurrogatePairIsReadAsSynapseReadsIt(String name) {
        // as Python's JSON reads it: the escape as the one UTF-16 unit, as it is read in a string
        String read = EventJson.MAPPER.readTree("\"" + name + "\"").stringValue();
        String body = "\uFEFF{\"é\": 1, \"" + name + "\": \"x\", \"request_content\": {\"" + name + "\": {\"" + name + "\": []}},"
                + " \"state_events\": [{\"content\": {\"" + name + "\": 2}}]}";

        JsonBody asBody = reader.readBody(declaring(-1, body));
        JsonNode asTree = reader.readObject(declaring(-1, body));

        for (JsonNode tree : List.of(asBody.tree(), asTree)) {
            assertThat(tree.path(read).stringValue()).isEqualTo("x");
            assertThat(tree.path("request_content").path(read).has(read)).isTrue();
            assertThat(tree.path("state_events").path(0).path("content").path(read).intValue()).isEqualTo(2);
        }
        assertThat(JsonArgs.of(asBody).object("request_content").path(read).path(read).isArray()).isTrue();
        assertThat(JsonArgs.of(asBody).array("state_events").get(0).path("content").path(read).intValue()).isEqualTo(2);
    }

    @ParameterizedTest
    @MethodSource("namesOfHalfAPair")
    void anAnswerEchoingANameOfHalfASurrogatePairWritesItAsTheEscapeItCameAs(String name) {
        String sent = "{\"" + name + "\": {\"k\": [\"" + name + "\"]}}";
        JsonBody body = reader.readBody(declaring(-1, "{\"request_content\": " + sent + "}"));

        // on_create_room answers with the request as read, written as UTF-8, which half a pair has no form in:
        // its escape is written (as Jackson writes it in a string), so that Synapse reads back what it sent
        String written = new String(JSON.writeValueAsBytes(JsonArgs.of(body).object("request_content")), StandardCharsets.UTF_8);
        assertThat(written).doesNotContain("\uFFFD").containsPattern("\\\\u[dD][89a-fA-F]");
        assertThat(EventJson.MAPPER.readTree(written)).isEqualTo(EventJson.MAPPER.readTree(sent));
    }

    @ParameterizedTest
    @MethodSource("namesOfHalfAPair")
    void aReaderThatRefusesNamesOfHalfASurrogatePairSaysWhy(String name) {
        RequestBodyReader strict = new RequestBodyReader(JSON, DataSize.ofMegabytes(1), RequestBodyReader.Budget.NONE,
                RequestBodyReader.HalfPairNames.REFUSED);
        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class,
                () -> strict.readObject(declaring(-1, "{\"" + name + "\": 1}")));

        // the words the policy API's reader knows this refusal by, to read such a body again as text
        assertThat(refused.getMessage()).contains("surrogate").contains("in property name").contains("at byte offset");
    }

    @Test
    void whatIsWrongInABodyReadAgainAsTextIsToldAtItsByteOffset() {
        // the same body, with a name of half a pair or of six letters: the same place (the parsers word it apart)
        String asText = "\uFEFF{\"é\": \"€😀\", \"\\ud800\": [1,]}";
        String asBytes = "\uFEFF{\"é\": \"€😀\", \"aaaaaa\": [1,]}";

        assertThat(notJson(asText)).startsWith("Content not JSON: Unexpected character (']'").endsWith(", at byte offset 34");
        assertThat(notJson(asBytes)).endsWith(", at byte offset 34");
    }

    /**
     * What is wrong in a body read again as text is told as the parser of bytes tells it of the same
     * body with an ordinary name: the parser of characters counts a name's length in characters (it
     * read a name of 40,000 'é', 80,000 bytes, past the limit of 65,536 that the parser of bytes
     * counts in bytes) and tells a number's bad exponent or fraction a character early.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\"a\": 1700er", "\"a\": 17.x", "\"a\": [1e+]", "\"é\": -01", "\"éééé\": 1, \"NAME\": 1"})
    void whatIsWrongInABodyReadAgainAsTextIsToldAsInTheSameBodyWithAnOrdinaryName(String fault) {
        String body = "{\"é€😀\": 1, \"\\udc00\": {\"k\": 2}, " + fault.replace("NAME", "é".repeat(40_000)) + "}";

        assertThat(notJson(body)).isEqualTo(notJson(body.replace("\\udc00", "\\u0041")));
    }

    /**
     * Seeded bodies with names of half a surrogate pair at every depth, faults and all
     * ({@link HalfPairBodies}), read as their twins are, whose names the parser of bytes reads: the same
     * tree, outline and arguments, names aside; or the same refusal at the same byte offset (the two
     * parsers word some apart). {@code -Dfuzz.seed=N} and {@code -Dfuzz.tries=N} hunt further.
     */
    @Test
    void bodiesWithNamesOfHalfASurrogatePairAreReadAsTheirTwinsWithOrdinaryNames() {
        List<Arguments> callbacks = CallbackRequests.everyCallback().toList();
        Gen gen = Gen.seeded(MalformedHttp.SEED);
        HalfPairBodies bodies = new HalfPairBodies(gen);
        List<String> unlike = new ArrayList<>();
        for (int i = 0; i < Integer.getInteger("fuzz.tries", 1000); i++) {
            Object[] callback = gen.oneOf(callbacks).get();
            CallbackType<?, ?, ?> type = Callbacks.ALL.stream().filter(t -> t.path().equals(callback[0])).findFirst().orElseThrow();
            HalfPairBodies.Twins twins = bodies.next((String) callback[1]);

            List<Object> read = readAll(twins.half(), type);
            List<Object> asTwin = readAll(twins.twin(), type);
            if (!read.equals(asTwin)) {
                unlike.add("try " + i + " of " + type.path() + ": " + twins + "\n  read " + read + "\n  twin " + asTwin);
            }
        }
        assertThat(unlike).as("bodies not read as their twins").isEmpty();
    }

    /**
     * What each way of reading makes of a body: the tree, the {@link JsonBody}'s tree, outline and the
     * callback's arguments, or the refusal's errcode and byte offset; each half of a pair as 'A'.
     */
    private List<Object> readAll(byte[] bytes, CallbackType<?, ?, ?> type) {
        return List.of(read(() -> JSON.writeValueAsString(reader.parseObject(bytes))),
                read(() -> {
                    reader.checkObject(bytes);
                    return "checked";
                }),
                read(() -> JSON.writeValueAsString(reader.readBody(declaring(-1, bytes)).tree())),
                // its fields in no particular order: a tree, whose equality is of its fields'
                read(() -> JSON.writeValueAsString(reader.readBody(declaring(-1, bytes)).outline()))
                        .transform(outline -> outline.startsWith("{") ? JSON.readTree(outline) : outline),
                read(() -> {
                    try {
                        return JSON.writeValueAsString(ArgsJson.write(new Args(type.reader().apply(JsonArgs.of(reader.readBody(declaring(-1, bytes)))))));
                    } catch (BadArgumentException bad) {
                        return bad.kind() + " " + bad.field() + " " + bad.getMessage();
                    }
                }));
    }

    private record Args(Object args) {
    }

    private static final Pattern BYTE_OFFSET = Pattern.compile(".*(at byte offset \\d+)$", Pattern.DOTALL);
    private static final Pattern SURROGATE = Pattern.compile("[\\ud800-\\udfff]");

    private static String read(Supplier<String> read) {
        String outcome;
        try {
            outcome = read.get();
        } catch (MatrixApiException refused) {
            Matcher offset = BYTE_OFFSET.matcher(refused.getMessage());
            outcome = refused.errcode() + " " + (offset.matches() ? offset.group(1) : refused.getMessage());
        }
        return SURROGATE.matcher(outcome).replaceAll("A");
    }

    static String[] namesOfHalfAPair() {
        return NAMES_OF_HALF_A_PAIR;
    }

    @ParameterizedTest
    @ValueSource(strings = {"1e400", "-1e400", "1e-400", "0.1000", "9.99999999999999999999999999999e307"})
    void decimalsAreReadAsWrittenSoAnAnswerEchoingThemKeepsTheirValue(String number) {
        JsonBody body = reader.readBody(declaring(-1, "{\"request_content\": {\"power\": " + number + "}, \"list\": [" + number + "]}"));

        JsonNode inObject = JsonArgs.of(body).object("request_content").get("power");
        JsonNode inList = JsonArgs.of(body).array("list").get(0);

        // on_create_room answers with the request as read: a double would make 1e400 "Infinity"
        assertThat(new BigDecimal(JSON.writeValueAsString(inObject))).isEqualByComparingTo(new BigDecimal(number));
        assertThat(new BigDecimal(JSON.writeValueAsString(inList))).isEqualByComparingTo(new BigDecimal(number));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1e99999999999", "1e2147483648", "-1E-2147483649"})
    void aNumberWhoseExponentNoDecimalCanHoldIsNotJsonNotAServerError(String number) {
        String json = "{\"a\": " + number + "}";

        for (ThrowingCallable read : List.<ThrowingCallable>of(() -> reader.readObject(declaring(-1, json)),
                () -> reader.checkObject(json.getBytes(StandardCharsets.UTF_8)))) {
            MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, read);
            assertThat(refused).as(number).isNotNull();
            assertThat(refused.errcode()).isEqualTo("M_NOT_JSON");
            assertThat(refused.getMessage()).startsWith("Content not JSON: a number out of range");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"x\": [[1e99999999999]]}", "{\"room_config\": {\"a\": {\"b\": 1e99999999999}}}",
        "{\"state_events\": [{\"content\": {\"n\": -1E-2147483649}}]}"})
    void aNumberNoDecimalCanHoldDeepInsideIsNotJsonWhenTheBodyIsRead(String json) {
        // such a value is kept as bytes until a module asks for its tree: it must be refused before that
        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readBody(declaring(-1, json)));

        assertThat(refused).as(json).isNotNull();
        assertThat(refused.errcode()).isEqualTo("M_NOT_JSON");
        assertThat(refused.getMessage()).startsWith("Content not JSON: a number out of range");
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "deflate", "br, gzip"})
    void aCompressedBodyIsRefusedForItsEncodingNotForWhatItsBytesLookLike(String coding) {
        MockHttpServletRequest request = declaring(-1, "{\"a\": 1}");
        request.addHeader("Content-Encoding", coding);

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readBody(request));

        assertThat(refused.errcode()).isEqualTo("M_NOT_JSON");
        assertThat(refused.getMessage()).isEqualTo(
                "Content not JSON: a body with a Content-Encoding (compressed) is not read here: send the JSON as it is");
    }

    @Test
    void aCompressedBodyIsRefusedWhateverHeaderOfSeveralSaysSo() {
        MockHttpServletRequest request = declaring(-1, "{\"a\": 1}");
        request.addHeader("Content-Encoding", "identity");
        request.addHeader("Content-Encoding", "gzip");

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readBody(request));

        assertThat(refused.getMessage()).contains("Content-Encoding");
    }

    @Test
    void anIdentityContentEncodingIsReadAsNone() {
        MockHttpServletRequest request = declaring(-1, "{\"a\": 1}");
        request.addHeader("Content-Encoding", "identity");

        assertThat(reader.readObject(request).get("a").asInt()).isEqualTo(1);
    }

    @Test
    void aBodyShorterThanItsDeclaredLengthEndedEarly() {
        MockHttpServletRequest request = declaring(12, "{\"a\": 1}");

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readObject(request));
        assertThat(refused.errcode()).as("not sent whole, which says nothing of its JSON").isEqualTo("M_UNKNOWN");
        assertThat(refused.getMessage()).isEqualTo("Request body ended early: the connection was closed before all of it came");
    }

    @Test
    void aBodyOfNoDeclaredLengthIsReadToItsEnd() {
        assertThat(reader.readObject(declaring(-1, "{\"a\": [1, 2]}")).path("a").size()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}{}", "{\"a\": NaN}", "{\"a\": Infinity}", "{\"a\": +1}", "{\"a\": 1 /* note */}", "{\"a\": 1",
            "{\"a\" 1}", "{'a': 1}", "{\"a\": tru}", "{\"a\": \"\u0001\"}", "{\"a\": 01}", "{\"a\": [1,]}", "[1, 2]", "\"text\"", ""})
    void noMessageNamesTheParsersInternals(String body) {
        assertThat(notJson(body)).doesNotContain("`").doesNotContainIgnoringCase("jackson").doesNotContain("Feature")
                .doesNotContain("StreamReadConstraints").doesNotContain("JsonToken").doesNotContain("REDACTED").doesNotContain("#");
    }

    @Test
    void aBodyDrippedInPastItsDeadlineIsRefusedAt408() {
        RequestBodyReader patient = new RequestBodyReader(JsonMapper.builder().build(), DataSize.ofMegabytes(1), Duration.ofMillis(300));
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/_matrix/policy/v1/sign") {
            @Override
            public ServletInputStream getInputStream() {
                return new BlockingInput() { // a byte every 100 ms, for ever, as a socket gives what has come
                    @Override
                    public int read() {
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException stopped) {
                            Thread.currentThread().interrupt();
                        }
                        return ' ';
                    }

                    @Override
                    public int read(byte[] buffer, int offset, int length) {
                        buffer[offset] = (byte) read();
                        return 1;
                    }

                    @Override
                    public boolean isFinished() {
                        return false;
                    }
                };
            }
        };

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> patient.readObject(request));
        assertThat(refused.status().value()).isEqualTo(408);
        assertThat(refused.getMessage()).isEqualTo("Request body not received within 300 ms");
    }

    @Test
    void aBodyThatStoppedComingIsRefusedAt408NotAsNoJson() {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/_matrix/policy/v1/sign") {
            @Override
            public ServletInputStream getInputStream() {
                return new BlockingInput() { // as Tomcat's stream fails once no byte came within the connection timeout
                    @Override
                    public int read() throws IOException {
                        throw new ClientAbortException(new SocketTimeoutException());
                    }

                    @Override
                    public boolean isFinished() {
                        return false;
                    }
                };
            }
        };

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readObject(request));
        assertThat(refused.status().value()).isEqualTo(408);
        assertThat(refused.errcode()).isEqualTo("M_UNKNOWN");
        assertThat(refused.getMessage()).isEqualTo("Request body not received: it stopped coming");
    }

    @Test
    void bodiesBeyondTheBudgetOfThoseBeingReadAtOnceAreRefusedAt503AndTheBudgetComesBack() throws Exception {
        RequestBodyReader budgeted = new RequestBodyReader(JSON, DataSize.ofBytes(800), new RequestBodyReader.Budget(1000, false),
                RequestBodyReader.HalfPairNames.REFUSED);
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        MockHttpServletRequest waiting = new MockHttpServletRequest("POST", "/_matrix/policy/v1/sign") {
            @Override
            public ServletInputStream getInputStream() { // most of a body, then a client that waits
                return new BlockingInput() {
                    private final byte[] body = ("{\"a\": \"" + "x".repeat(690) + "\"}").getBytes(StandardCharsets.UTF_8);
                    private int at;

                    @Override
                    public int read() {
                        byte[] one = new byte[1];
                        return read(one, 0, 1) < 0 ? -1 : one[0];
                    }

                    @Override
                    public int read(byte[] buffer, int offset, int length) { // what has come, as a socket gives it
                        if (at == body.length - 1) {
                            reading.countDown();
                            try {
                                release.await();
                            } catch (InterruptedException stopped) {
                                Thread.currentThread().interrupt();
                            }
                        }
                        if (at == body.length) {
                            return -1;
                        }
                        int end = at < body.length - 1 ? body.length - 1 : body.length;
                        int n = Math.min(length, end - at);
                        System.arraycopy(body, at, buffer, offset, n);
                        at += n;
                        return n;
                    }

                    @Override
                    public boolean isFinished() {
                        return at == body.length;
                    }
                };
            }
        };
        waiting.addHeader("Content-Length", "700");
        Thread slowClient = Thread.ofVirtual().start(() -> budgeted.readObject(waiting));
        reading.await();

        String larger = "{\"b\": \"" + "y".repeat(391) + "\"}"; // 400 bytes: with the 699 held, past 1,000
        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class,
                () -> budgeted.readObject(declaring(larger.length(), larger)));
        assertThat(refused.status().value()).isEqualTo(503);
        assertThat(refused.getMessage()).isEqualTo("Too many request bodies are being read at once; try again shortly");
        assertThat(budgeted.readObject(declaring(8, "{\"b\": 1}")).get("b").asInt()).as("a body that fits").isEqualTo(1);
        assertThat(catchThrowableOfType(MatrixApiException.class, () -> budgeted.readObject(declaring(800, "{\"b\": 2}"))).status().value())
                .as("a length announced takes nothing of the budget, only the bytes that came: cut short, not refused").isEqualTo(400);

        release.countDown();
        slowClient.join();
        assertThat(budgeted.readObject(declaring(larger.length(), larger)).has("b")).isTrue();
    }

    @Test
    void aBudgetHeldUntilTheAnswerCountsABodyReadUntilItsRequestIsReleased() {
        RequestBodyReader budgeted = new RequestBodyReader(JSON, DataSize.ofBytes(800), new RequestBodyReader.Budget(1000, true),
                RequestBodyReader.HalfPairNames.REFUSED);
        String body = "{\"a\": \"" + "x".repeat(591) + "\"}"; // 600 bytes
        MockHttpServletRequest waitingForKeys = declaring(body.length(), body);
        budgeted.readObject(waitingForKeys);

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class,
                () -> budgeted.readObject(declaring(body.length(), body)));
        assertThat(refused.status().value()).as("the first body is read, but its request not answered yet").isEqualTo(503);

        budgeted.release(waitingForKeys);
        budgeted.release(waitingForKeys); // once only
        MockHttpServletRequest next = declaring(body.length(), body);
        assertThat(budgeted.readObject(next).has("a")).isTrue();
        assertThat(catchThrowableOfType(MatrixApiException.class, () -> budgeted.readObject(declaring(body.length(), body)))
                .status().value()).as("released once, not twice").isEqualTo(503);
    }

    /** A body read as a blocking socket gives it, which is how the container reads for the reader. */
    private abstract static class BlockingInput extends ServletInputStream {
        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
            throw new UnsupportedOperationException();
        }
    }

    /** A request whose Content-Length says {@code declared} (-1: none, as a chunked body), whatever it holds. */
    private static MockHttpServletRequest declaring(long declared, String body) {
        return declaring(declared, body.getBytes(StandardCharsets.UTF_8));
    }

    private static MockHttpServletRequest declaring(long declared, byte[] body) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/spam_checker/user_may_invite") {
            @Override
            public long getContentLengthLong() {
                return declared;
            }
        };
        request.setContent(body);
        return request;
    }

    private String notJson(String body) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/spam_checker/user_may_invite");
        request.setContent(body.getBytes(StandardCharsets.UTF_8));
        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readObject(request));
        assertThat(refused).as("refused: " + body).isNotNull();
        assertThat(refused.errcode()).isEqualTo("M_NOT_JSON");
        return refused.getMessage();
    }
}
