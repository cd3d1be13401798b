package dev.matrixpolicy.gateway.modules.eventcensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.module.BackendFailure;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

/** The censor's reply format, read strictly. */
class CensorReplyTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void contentReplacesTheEventContent() {
        assertThat(read("{\"content\": {\"body\": \"****\"}}"))
                .isEqualTo(new CensorReply.Replace(JSON.createObjectNode().put("body", "****")));
    }

    @Test
    void allowedFalseDeniesAndADenialWinsOverContent() {
        assertThat(read("{\"allowed\": false}")).isEqualTo(CensorReply.DENY);
        assertThat(read("{\"allowed\": false, \"content\": {\"body\": \"x\"}}")).isEqualTo(CensorReply.DENY);
    }

    @Test
    void emptyObjectNullContentOrAllowedTrueKeepTheEvent() {
        assertThat(read("{}")).isEqualTo(CensorReply.KEEP);
        assertThat(read("{\"content\": null}")).isEqualTo(CensorReply.KEEP);
        assertThat(read("{\"allowed\": true, \"reason\": \"fine\"}")).isEqualTo(CensorReply.KEEP);
    }

    @Test
    void otherShapesAreUnusable() {
        for (String wrong : new String[] {"[]", "\"ok\"", "null", "true", "{\"allowed\": \"no\"}", "{\"content\": \"****\"}",
                "{\"content\": [\"body\"]}"}) {
            assertThatThrownBy(() -> read(wrong)).as(wrong).isInstanceOf(BackendFailure.class);
        }
        assertThatThrownBy(() -> CensorReply.read(MissingNode.getInstance())).hasMessageContaining("an empty body");
    }

    @Test
    void contentHoldingALoneSurrogateIsUnusableBecauseSynapseCouldNotStoreIt() {
        for (String wrong : new String[] {"{\"content\": {\"body\": \"\\ud83d darn\"}}", "{\"content\": {\"\\udc00\": \"x\"}}",
                "{\"content\": {\"m.new_content\": {\"body\": [\"x\\ud800\"]}}}"}) {
            assertThatThrownBy(() -> read(wrong)).as(wrong).isInstanceOf(BackendFailure.class).hasMessageContaining("lone surrogate");
        }
        assertThat(read("{\"content\": {\"body\": \"\\ud83d\\ude00 ****\"}}")).isInstanceOf(CensorReply.Replace.class);
    }

    private static CensorReply read(String json) {
        JsonNode reply = JSON.readTree(json);
        return CensorReply.read(reply);
    }
}
