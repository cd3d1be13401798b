package dev.matrixpolicy.gateway.modules.threepidchecker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;

/** The decision rule of the synapse-3pid-checker README, row by row, and which replies are unusable. */
class ThreepidReplyTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParameterizedTest(name = "{0} -> allowed: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            {"hs": "example.com"}                                                 | true
            {"hs": "example.com", "requires_invite": false}                       | true
            {"hs": "example.com", "requires_invite": true, "invited": true}       | true
            {"hs": "example.com", "invited": false}                               | true
            {"hs": "example.com", "requires_invite": null}                        | true
            {"hs": "example.com", "extra": [1, 2], "requires_invite": false}      | true
            {"hs": "matrix.org"}                                                  | false
            {"hs": "EXAMPLE.COM"}                                                 | false
            {"hs": ""}                                                            | false
            {}                                                                    | false
            {"hs": null}                                                          | false
            {"requires_invite": false, "invited": true}                           | false
            {"hs": "example.com", "requires_invite": true}                        | false
            {"hs": "example.com", "requires_invite": true, "invited": false}      | false
            {"hs": "example.com", "requires_invite": true, "invited": null}       | false
            {"hs": "matrix.org", "requires_invite": true, "invited": true}        | false
            """)
    void replyIsAllowedOnlyForOurServerAndWithAnInviteWhenOneIsRequired(String reply, boolean allowed) {
        assertThat(ThreepidReply.parse(JSON.readTree(reply)).allows("example.com")).isEqualTo(allowed);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "[\"example.com\"]", "\"example.com\"", "true", "42", "null",
            "{\"hs\": 42}", "{\"hs\": [\"example.com\"]}", "{\"hs\": {\"name\": \"example.com\"}}",
            "{\"hs\": \"example.com\", \"requires_invite\": \"true\"}",
            "{\"hs\": \"example.com\", \"requires_invite\": 1}",
            "{\"hs\": \"example.com\", \"requires_invite\": true, \"invited\": \"yes\"}",
    })
    void nonObjectOrWronglyTypedReplyIsUnusableRatherThanADenial(String reply) {
        assertThatIllegalArgumentException().isThrownBy(() -> ThreepidReply.parse(JSON.readTree(reply)));
    }
}
