package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class EventSignerTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final PolicyServerKey KEY = PolicyServerKey.fromSeed(
            HexFormat.of().parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    private static final EventSigner SIGNER = new EventSigner(KEY);

    private static JsonNode json(String text) {
        return JSON.readTree(text.replace('\'', '"'));
    }

    @Test
    void signsTheRedactedEventWithoutSignaturesAndUnsignedInCanonicalJson() {
        JsonNode event = json("{'type': 'm.room.message', 'room_id': '!r:hs', 'sender': '@u:hs', 'content': {'body': 'hi'},"
                + " 'hashes': {'sha256': 'h'}, 'signatures': {'hs': {'ed25519:a': 's'}}, 'unsigned': {'age_ts': 1}}");
        String signed = new String(EventSigner.signedBytes("10", event), StandardCharsets.UTF_8);
        assertThat(signed).isEqualTo("{\"content\":{},\"hashes\":{\"sha256\":\"h\"},\"room_id\":\"!r:hs\",\"sender\":\"@u:hs\","
                + "\"type\":\"m.room.message\"}");
        assertThat(SIGNER.sign("10", event)).isEqualTo(KEY.sign(signed.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void whatRedactionRemovesDoesNotChangeTheSignature() {
        String base = "{'type': 'm.room.message', 'room_id': '!r:hs', 'sender': '@u:hs', 'hashes': {'sha256': 'h'}, ";
        assertThat(SIGNER.sign("11", json(base + "'content': {'body': 'one'}}")))
                .isEqualTo(SIGNER.sign("11", json(base + "'content': {'body': 'two'}, 'signatures': {'x': {}}, 'unsigned': {}}")));
    }

    @Test
    void refusesAFloatThatRedactionKeepsButSignsOneThatRedactionRemoves() {
        String member = "{'type': 'm.room.power_levels', 'state_key': '', 'content': {'ban': 50.5}}";
        assertThatThrownBy(() -> SIGNER.sign("10", json(member))).isInstanceOf(BadJsonException.class);
        assertThat(SIGNER.sign("10", json("{'type': 'm.room.message', 'content': {'weight': 1.5}}"))).isNotBlank();
    }
}
