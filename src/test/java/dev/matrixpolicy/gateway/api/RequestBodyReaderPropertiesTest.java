package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.Gen;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Whatever bytes arrive, the body reader gives a JSON object or a Matrix error in the caller's
 * terms ({@code M_NOT_JSON} or {@code M_TOO_LARGE}), never another exception and never a word of
 * the parser's own vocabulary. Bodies come with a declared length and chunked (no length). Read
 * with its lists kept as bytes ({@link RequestBodyReader#readBody}), a body is the same object, or
 * the same error, as read whole.
 */
class RequestBodyReaderPropertiesTest {
    static final List<String> LIBRARY_WORDS = List.of("Jackson", "JsonToken", "DeserializationFeature", "StreamReadConstraints",
            "JsonReadFeature", "tools.jackson", "com.fasterxml", "java.", "Exception");
    private static final String VALID = """
            {"event": {"event_id": "$abc", "sender": "@alice:example.com", "room_id": "!r:example.com",
             "type": "m.room.message", "content": {"body": "héllo \\u00e9", "n": [1, -2.5e3, true, null]}}}""";
    private static final int TRIES = 1500;

    private final RequestBodyReader reader = new RequestBodyReader(JsonMapper.builder().build(), DataSize.ofKilobytes(8));

    @Test
    void arbitraryBytesAreAnObjectOrAMatrixErrorInTheCallersTerms() {
        Gen.forAll(1L, TRIES, gen -> gen.bytes(300), this::assertObjectOrMatrixError);
    }

    @Test
    void nearlyValidJsonIsAnObjectOrAMatrixErrorInTheCallersTerms() {
        Gen.forAll(2L, TRIES, gen -> Gen.utf8(gen.nearJson(VALID)), this::assertObjectOrMatrixError);
    }

    @Test
    void arbitraryStringsAreAnObjectOrAMatrixErrorInTheCallersTerms() {
        Gen.forAll(3L, TRIES, gen -> Gen.utf8(gen.chance(0.5) ? "{\"a\": \"" + gen.string(40) + "\"}" : gen.string(60)),
                this::assertObjectOrMatrixError);
    }

    @Test
    void deepNestingAndLongTokensAreAMatrixErrorNamingTheLimit() {
        Gen.forAll(4L, 200, gen -> switch (gen.random().nextInt(4)) {
            case 0 -> Gen.utf8(gen.deeplyNested(gen.between(1, 2000), gen.random().nextBoolean()));
            case 1 -> Gen.utf8("{\"a\": " + "9".repeat(gen.between(900, 1100)) + "}");
            case 2 -> Gen.utf8("{\"" + "n".repeat(gen.between(100, 9000)) + "\": 1}");
            default -> Gen.utf8("{\"a\": \"" + "s".repeat(gen.between(8000, 8300)) + "\"}");
        }, this::assertObjectOrMatrixError);
    }

    private void assertObjectOrMatrixError(byte[] body) {
        assertObjectOrMatrixError(body, true);
        assertObjectOrMatrixError(body, false);
    }

    private void assertObjectOrMatrixError(byte[] body, boolean declaredLength) {
        Object asTree = read(() -> reader.readObject(request(body, declaredLength)));
        Object keepingLists = read(() -> reader.readBody(request(body, declaredLength)).tree());

        assertThat(keepingLists).as("the body read with its lists kept as bytes").isEqualTo(asTree);
    }

    /** The object read, or the Matrix error in the caller's terms. */
    private static Object read(Supplier<ObjectNode> read) {
        try {
            return assertThat(read.get()).isNotNull().actual();
        } catch (MatrixApiException refused) {
            assertThat(refused.errcode()).isIn("M_NOT_JSON", "M_TOO_LARGE");
            assertThat(refused.getMessage()).isNotBlank();
            LIBRARY_WORDS.forEach(word -> assertThat(refused.getMessage()).doesNotContain(word));
            return List.of(refused.errcode(), refused.getMessage());
        }
    }

    private static MockHttpServletRequest request(byte[] body, boolean declaredLength) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/spam_checker/user_may_invite") {
            @Override
            public long getContentLengthLong() {
                return declaredLength ? super.getContentLengthLong() : -1;
            }
        };
        request.setContent(body);
        return request;
    }
}
