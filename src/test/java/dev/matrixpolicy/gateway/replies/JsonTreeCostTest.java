package dev.matrixpolicy.gateway.replies;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.json.JsonMapper;

class JsonTreeCostTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    static Stream<String> shapes() {
        return Stream.of("{}", "[]", "[[],[],[]]", "{\"a\":{\"b\":[1,2.5,true,null,\"x\"]}}", "[{\"a\":1},{\"b\":2}]",
                "\"a string\"", "12345", "[\"with \\\" , : { [ inside\", {\"k\\\\\":\"v\"}]", " { \"a\" : [ 1 , 2 ] } ",
                "[[[[[[[[[[0]]]]]]]]]]", "{\"a\":{\"a\":{\"a\":{}}}}");
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void countsNoFewerTokensThanTheParserReads(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        long read = 0;
        try (JsonParser parser = JSON.createParser(bytes)) {
            while (parser.nextToken() != null) {
                read++;
            }
        }

        assertThat(JsonTreeCost.of(bytes).tokens()).isGreaterThanOrEqualTo(read);
    }

    /** The densest shapes, repeated, and every shape above, wide strings and a lone object included. */
    static Stream<String> densest() {
        return Stream.concat(shapes(), Stream.of("[" + "{},".repeat(10_000) + "{}]", "[" + "[],".repeat(10_000) + "[]]",
                "[" + "[".repeat(5_000) + "]".repeat(5_000) + "]", "{\"" + "Ā".repeat(1_000) + "\":\"" + "é".repeat(1_000) + "\"}",
                "[" + "1,".repeat(10_000) + "1]", "\"" + "x".repeat(10_000) + "\"", "{\"\":{}}", "[{}]"));
    }

    @ParameterizedTest
    @MethodSource("densest")
    void noTextOfAGivenLengthCostsMoreThanTheMostForThatLength(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        JsonTreeCost cost = JsonTreeCost.of(bytes);

        assertThat(JsonTreeCost.atMost(bytes.length)).isGreaterThanOrEqualTo(cost.tree() + cost.decoding());
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void aTreeCostsItsTokensAndItsLength(String json) {
        JsonTreeCost cost = JsonTreeCost.of(json.getBytes(StandardCharsets.UTF_8));

        assertThat(cost.tree()).isEqualTo(cost.tokens() * JsonTreeCost.BYTES_PER_TOKEN + json.length()); // no string here past U+00FF
    }

    @ParameterizedTest
    @MethodSource("wideStrings")
    void aStringJavaKeepsInUtf16CountsTwoBytesForEachOfItsCharacters(String string) {
        // one character past U+00FF and Java keeps the whole string in UTF-16: its x's take two bytes each, not one
        String json = "[\"" + string + "\", \"plain\", \"\u00e9t\u00e9\"]";
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        String read = JSON.readTree(bytes).get(0).asString();

        assertThat(JsonTreeCost.of(bytes).tree()).isGreaterThanOrEqualTo(2L * read.length() + JsonTreeCost.BYTES_PER_TOKEN);
    }

    @ParameterizedTest
    @ValueSource(ints = {0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xF8, 0xFF})
    void aByteNotOfUtf8CountsAsTheReplacementCharacterAParserOfCharactersMakesOfIt(int notUtf8) {
        // backend replies are read as characters, which turns a byte starting no UTF-8 character into U+FFFD,
        // and the string it is in into UTF-16
        byte[] x = "[\"".concat("x".repeat(1000)).getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = Arrays.copyOf(x, x.length + 3);
        bytes[x.length] = (byte) notUtf8;
        bytes[x.length + 1] = '"';
        bytes[x.length + 2] = ']';
        String read = new String(bytes, StandardCharsets.UTF_8);

        assertThat(read).contains("\uFFFD");
        assertThat(JsonTreeCost.of(bytes).tree()).isGreaterThanOrEqualTo(2L * (read.length() - 4) + JsonTreeCost.BYTES_PER_TOKEN);
    }

    static Stream<String> wideStrings() {
        return Stream.of("x".repeat(1000) + "\u0100", "\u4e2d" + "x".repeat(1000), "x".repeat(1000) + "\\u0100",
                "x".repeat(1000) + "\\uD83D\\uDE00", "x".repeat(1000) + "\uD83D\uDE00");
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void readingHoldsItsLongestStringOrNumberSeveralTimesOver(String json) {
        JsonTreeCost cost = JsonTreeCost.of(json.getBytes(StandardCharsets.UTF_8));

        assertThat(cost.decoding()).isEqualTo(cost.longest() * JsonTreeCost.DECODING_PER_BYTE);
    }

    @Test
    void theLongestStringCountsItsEscapesAsWrittenAndTheLongestNumberItsDigits() {
        assertThat(JsonTreeCost.of("[\"ab\\\"c\", 1234567, \"xyz\"]".getBytes(StandardCharsets.UTF_8)).longest()).isEqualTo(7);
        assertThat(JsonTreeCost.of("{\"k\":\"0123456789\\u0041\"}".getBytes(StandardCharsets.UTF_8)).longest()).isEqualTo(16);
    }
}
