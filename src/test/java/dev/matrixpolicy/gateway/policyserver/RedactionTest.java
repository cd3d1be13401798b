package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The redaction rules per room version. Versions 1–10 are also checked against Synapse 1.67's
 * {@code prune_event_dict} in the end-to-end suite ({@code e2e/test_9_policy_server_signing.py});
 * Synapse 1.67 knows no v11 or v12, so those are checked only here, against current Synapse's
 * Rust {@code events::utils::redact} (element-hq/synapse a58ad44) and the MSCs the v11 and v12
 * pages of the spec name; the spec pages themselves were not re-read line by line for this test.
 */
class RedactionTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static JsonNode json(String text) {
        return JSON.readTree(text.replace('\'', '"'));
    }

    private static JsonNode event(String type, String content) {
        return json("{'type': '" + type + "', 'room_id': '!r:hs', 'sender': '@u:hs', 'state_key': '', 'origin': 'hs',"
                + " 'origin_server_ts': 1, 'membership': 'join', 'prev_state': [], 'depth': 3, 'prev_events': [],"
                + " 'auth_events': [], 'hashes': {'sha256': 'h'}, 'signatures': {'hs': {'ed25519:a': 's'}},"
                + " 'redacts': '$x', 'extra': 1, 'unsigned': {'age_ts': 5, 'replaces_state': '$p', 'age': 9},"
                + " 'content': " + content + "}");
    }

    private static JsonNode content(String roomVersion, String type, String content) {
        return Redaction.redact(roomVersion, event(type, content)).get("content");
    }

    @Test
    void knowsRoomVersionsOneToTwelve() {
        assertThat(Redaction.KNOWN_ROOM_VERSIONS).containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "13", "org.matrix.msc2176", "org.matrix.hydra.11", ""})
    void refusesAnUnknownRoomVersion(String version) {
        assertThatThrownBy(() -> Redaction.redact(version, event("m.room.message", "{}")))
                .isInstanceOf(UnknownRoomVersionException.class).hasMessageContaining("\"" + version + "\"");
    }

    @Test
    void refusesWhatIsNotAnEvent() {
        assertThatThrownBy(() -> Redaction.redact("10", json("{'content': {}}"))).isInstanceOf(BadJsonException.class);
        assertThatThrownBy(() -> Redaction.redact("10", json("{'type': 'm.room.message'}"))).isInstanceOf(BadJsonException.class);
        assertThatThrownBy(() -> Redaction.redact("10", json("{'type': 1, 'content': {}}"))).isInstanceOf(BadJsonException.class);
        assertThatThrownBy(() -> Redaction.redact("10", json("[]"))).isInstanceOf(BadJsonException.class);
    }

    @Test
    void upToVersionTenKeepsOriginMembershipAndPrevStateAtTheTopLevel() {
        assertThat(fieldNames(Redaction.redact("10", event("m.room.message", "{'body': 'hi'}")))).containsExactlyInAnyOrder(
                "type", "room_id", "sender", "state_key", "origin", "origin_server_ts", "membership", "prev_state", "depth",
                "prev_events", "auth_events", "hashes", "signatures", "unsigned", "content");
    }

    @Test
    void fromVersionElevenTheTopLevelDropsOriginMembershipAndPrevState() {
        assertThat(fieldNames(Redaction.redact("11", event("m.room.message", "{'body': 'hi'}")))).containsExactlyInAnyOrder(
                "type", "room_id", "sender", "state_key", "origin_server_ts", "depth", "prev_events", "auth_events", "hashes",
                "signatures", "unsigned", "content");
    }

    @Test
    void keepsOnlyAgeTsAndReplacesStateOfUnsigned() {
        assertThat(Redaction.redact("1", event("m.room.message", "{}")).get("unsigned"))
                .isEqualTo(json("{'age_ts': 5, 'replaces_state': '$p'}"));
        assertThat(Redaction.redact("12", json("{'type': 'm.room.message', 'content': {}}")).has("unsigned")).isFalse();
    }

    @Test
    void leavesTheEventAsItWas() {
        JsonNode event = event("m.room.message", "{'body': 'hi'}");
        JsonNode before = event.deepCopy();
        Redaction.redact("11", event).put("type", "changed");
        assertThat(event).isEqualTo(before);
    }

    @Test
    void aliasesKeepTheirListUpToVersionFiveOnly() {
        assertThat(content("5", "m.room.aliases", "{'aliases': ['#a:hs']}")).isEqualTo(json("{'aliases': ['#a:hs']}"));
        for (String version : List.of("6", "10", "11", "12")) {
            assertThat(content(version, "m.room.aliases", "{'aliases': ['#a:hs']}")).isEqualTo(json("{}"));
        }
    }

    @Test
    void joinRulesKeepAllowFromVersionEight() {
        String joinRules = "{'join_rule': 'restricted', 'allow': [{'type': 'm.room_membership'}], 'x': 1}";
        assertThat(content("7", "m.room.join_rules", joinRules)).isEqualTo(json("{'join_rule': 'restricted'}"));
        assertThat(content("8", "m.room.join_rules", joinRules))
                .isEqualTo(json("{'join_rule': 'restricted', 'allow': [{'type': 'm.room_membership'}]}"));
    }

    @Test
    void membersKeepTheAuthorisingServerFromVersionNineAndTheSignedThirdPartyInviteFromEleven() {
        String member = "{'membership': 'join', 'join_authorised_via_users_server': '@a:hs', 'displayname': 'A',"
                + " 'third_party_invite': {'display_name': 'x', 'signed': {'token': 't'}}}";
        assertThat(content("8", "m.room.member", member)).isEqualTo(json("{'membership': 'join'}"));
        assertThat(content("10", "m.room.member", member))
                .isEqualTo(json("{'membership': 'join', 'join_authorised_via_users_server': '@a:hs'}"));
        assertThat(content("11", "m.room.member", member)).isEqualTo(json("{'membership': 'join',"
                + " 'join_authorised_via_users_server': '@a:hs', 'third_party_invite': {'signed': {'token': 't'}}}"));
        // as current Synapse: an object third_party_invite without signed stays, empty
        assertThat(content("12", "m.room.member", "{'membership': 'invite', 'third_party_invite': {'display_name': 'x'}}"))
                .isEqualTo(json("{'membership': 'invite', 'third_party_invite': {}}"));
        assertThat(content("12", "m.room.member", "{'membership': 'invite', 'third_party_invite': 'odd'}"))
                .isEqualTo(json("{'membership': 'invite'}"));
    }

    @Test
    void createKeepsCreatorUpToVersionTenAndAllItsContentFromEleven() {
        String create = "{'creator': '@u:hs', 'room_version': '10', 'm.federate': false, 'predecessor': {'room_id': '!o:hs'}}";
        assertThat(content("10", "m.room.create", create)).isEqualTo(json("{'creator': '@u:hs'}"));
        assertThat(content("11", "m.room.create", create)).isEqualTo(json(create));
    }

    @Test
    void powerLevelsKeepInviteFromVersionEleven() {
        String levels = "{'users': {'@u:hs': 100}, 'users_default': 0, 'events': {}, 'events_default': 0, 'state_default': 50,"
                + " 'ban': 50, 'kick': 50, 'redact': 50, 'invite': 0, 'notifications': {'room': 50}}";
        JsonNode v10 = content("10", "m.room.power_levels", levels);
        assertThat(fieldNames(v10)).containsExactlyInAnyOrder("users", "users_default", "events", "events_default",
                "state_default", "ban", "kick", "redact");
        assertThat(fieldNames(content("11", "m.room.power_levels", levels))).containsAll(fieldNames(v10)).contains("invite")
                .doesNotContain("notifications");
    }

    @Test
    void redactionsKeepRedactsInContentFromVersionEleven() {
        assertThat(content("10", "m.room.redaction", "{'redacts': '$x', 'reason': 'r'}")).isEqualTo(json("{}"));
        assertThat(content("11", "m.room.redaction", "{'redacts': '$x', 'reason': 'r'}")).isEqualTo(json("{'redacts': '$x'}"));
        assertThat(Redaction.redact("11", event("m.room.redaction", "{}")).has("redacts")).isFalse();
    }

    @Test
    void historyVisibilityIsKeptInEveryVersion() {
        for (String version : Redaction.KNOWN_ROOM_VERSIONS) {
            assertThat(content(version, "m.room.history_visibility", "{'history_visibility': 'shared', 'x': 1}"))
                    .isEqualTo(json("{'history_visibility': 'shared'}"));
        }
    }

    @Test
    void inVersionTwelveTheCreateEventAloneHasNoRoomId() {
        assertThat(Redaction.redact("11", event("m.room.create", "{}")).has("room_id")).isTrue();
        assertThat(Redaction.redact("12", event("m.room.create", "{}")).has("room_id")).isFalse();
        assertThat(Redaction.redact("12", event("m.room.member", "{}")).has("room_id")).isTrue();
    }

    @Test
    void otherEventTypesKeepNoContent() {
        for (String version : Redaction.KNOWN_ROOM_VERSIONS) {
            assertThat(content(version, "m.room.message", "{'body': 'hi', 'm.relates_to': {'rel_type': 'm.thread'}}"))
                    .isEqualTo(json("{}"));
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        return node.propertyNames().stream().toList();
    }
}
