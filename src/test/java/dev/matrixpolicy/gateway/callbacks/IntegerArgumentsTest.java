package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.matrixpolicy.gateway.callbacks.media_repository.IsUserAllowedToUploadMediaOfSize;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** An integer argument is refused saying what is wrong with it: its kind, or its size. */
class IntegerArgumentsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            1.5                  | must be an integer
            "5"                  | must be an integer
            99999999999999999999 | must be an integer from -9223372036854775808 to 9223372036854775807
            -1                   | must be 0 or more
            """)
    void anIntegerArgumentOfTheWrongKindOrSizeIsRefusedSayingWhich(String size, String problem) {
        ObjectNode body = (ObjectNode) JSON.readTree("{\"user_id\": \"@alice:example.com\", \"size\": " + size + "}");

        assertThatExceptionOfType(BadArgumentException.class)
                .isThrownBy(() -> IsUserAllowedToUploadMediaOfSize.TYPE.reader().apply(JsonArgs.of(body)))
                .withMessageContaining("size").withMessageContaining(problem);
    }
}
