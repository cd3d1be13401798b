package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.matrix.EventJson;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;

class CanonicalJsonTest {
    private static final JsonMapper JSON = EventJson.MAPPER;

    private static String canonical(String json) {
        return new String(CanonicalJson.encode(JSON.readTree(json)), StandardCharsets.UTF_8);
    }

    /** The examples of the spec's appendix "Canonical JSON" (all but the float one, below). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "{}                                 | {}",
            "`{\"one\": 1, \"two\": \"Two\"}`   | `{\"one\":1,\"two\":\"Two\"}`",
            "`{\"b\": \"2\", \"a\": \"1\"}`     | `{\"a\":\"1\",\"b\":\"2\"}`",
            "`{\"b\":\"2\",\"a\":\"1\"}`        | `{\"a\":\"1\",\"b\":\"2\"}`",
            "`{\"auth\": {\"success\": true, \"mxid\": \"@john.doe:example.com\", \"profile\": {\"display_name\": \"John Doe\", \"three_pids\": [{\"medium\": \"email\", \"address\": \"john.doe@example.org\"}, {\"medium\": \"msisdn\", \"address\": \"123456789\"}]}}}`"
                    + " | `{\"auth\":{\"mxid\":\"@john.doe:example.com\",\"profile\":{\"display_name\":\"John Doe\",\"three_pids\":[{\"address\":\"john.doe@example.org\",\"medium\":\"email\"},{\"address\":\"123456789\",\"medium\":\"msisdn\"}]},\"success\":true}}`",
            "`{\"a\": \"日本語\"}`              | `{\"a\":\"日本語\"}`",
            "`{\"本\": 2, \"日\": 1}`           | `{\"日\":1,\"本\":2}`",
            "`{\"a\": \"\\u65E5\"}`             | `{\"a\":\"日\"}`",
            "`{\"a\": null}`                    | `{\"a\":null}`",
            "`{\"a\": -0}`                      | `{\"a\":0}`",
    })
    void encodesTheSpecsExamples(String input, String expected) {
        assertThat(canonical(input)).isEqualTo(expected);
    }

    /** Content as deep as an event of 64 KiB can hold, on a thread of a request's stack: no recursion. */
    @Test
    void encodesContentNestedAsDeepAsAnEventCanHold() throws InterruptedException {
        String deep = "{\"z\": 1, \"a\": " + "[{\"y\": 2, \"b\": ".repeat(15_000) + "3" + "}]".repeat(15_000) + "}";
        String expected = "{\"a\":" + "[{\"b\":".repeat(15_000) + "3" + ",\"y\":2}]".repeat(15_000) + ",\"z\":1}";
        String[] encoded = new String[1];

        Thread.ofVirtual().start(() -> encoded[0] = canonical(deep)).join();

        assertThat(encoded[0]).isEqualTo(expected);
    }

    /** The spec's example also writes {@code 1e10}; Synapse refuses floats, and so do we. */
    @Test
    void refusesFloatsEvenIntegralOnes() {
        assertThatThrownBy(() -> canonical("{\"b\": 1e10}")).isInstanceOf(BadJsonException.class).hasMessageContaining("float");
        assertThatThrownBy(() -> canonical("[1.5]")).isInstanceOf(BadJsonException.class);
    }

    @Test
    void acceptsIntegersAtTheBoundsAndRefusesOneBeyond() {
        assertThat(canonical("[9007199254740991,-9007199254740991]")).isEqualTo("[9007199254740991,-9007199254740991]");
        assertThatThrownBy(() -> canonical("[9007199254740992]")).isInstanceOf(BadJsonException.class)
                .hasMessageContaining("9007199254740992");
        assertThatThrownBy(() -> canonical("[-9007199254740992]")).isInstanceOf(BadJsonException.class);
        assertThatThrownBy(() -> canonical("[123456789012345678901234567890]")).isInstanceOf(BadJsonException.class);
    }

    @Test
    void aRefusedNumberIsQuotedCutNotInFull() {
        assertThatThrownBy(() -> canonical("[" + "1".repeat(999) + "]")).isInstanceOf(BadJsonException.class)
                .message().hasSizeLessThan(320).contains("outside the canonical JSON range");
        assertThatThrownBy(() -> canonical("[1." + "0".repeat(999) + "]")).isInstanceOf(BadJsonException.class)
                .message().hasSizeLessThan(280).startsWith("Canonical JSON has no floats: ");
    }

    @Test
    void escapesOnlyWhatJsonRequires() {
        assertThat(canonical("[\"\\\" \\\\ \\b \\f \\n \\r \\t \\u0001 \\u001f / \\u007f \\u2028 é 😀\"]"))
                .isEqualTo("[\"\\\" \\\\ \\b \\f \\n \\r \\t \\u0001 \\u001f / \u007f \u2028 é 😀\"]");
    }

    @Test
    void sortsKeysByCodePointNotByUtf16Unit() {
        // U+FF61 sorts before U+1F600 by code point, after its surrogate pair by UTF-16 unit
        assertThat(canonical("{\"😀\": 1, \"｡\": 2}")).isEqualTo("{\"｡\":2,\"😀\":1}");
    }

    @Test
    void refusesALoneSurrogate() {
        JsonNode lone = JsonNodeFactory.instance.stringNode("a\uD800b");
        assertThatThrownBy(() -> CanonicalJson.encode(lone)).isInstanceOf(BadJsonException.class)
                .hasMessageContaining("U+D800");
    }
}
