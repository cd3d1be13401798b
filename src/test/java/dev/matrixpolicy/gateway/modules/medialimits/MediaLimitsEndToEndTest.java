package dev.matrixpolicy.gateway.modules.medialimits;

import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;

/**
 * The four media repository callbacks over real HTTP, through {@code media_limits} followed by a
 * {@code static} fallback (application-media.yml): staff, a quarantine group and everyone on the server.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("media")
class MediaLimitsEndToEndTest extends GatewayEndToEnd {
    private static final long MIB = 1024 * 1024;

    MediaLimitsEndToEndTest() {
        super("media-token");
    }

    @Test
    void eachUserIsToldTheLargestUploadOfTheirGroup() {
        assertThat(call("get_media_config_for_user", "@alice-staff:example.com").get("m.upload.size").asLong())
                .isEqualTo(2048 * MIB);
        assertThat(call("get_media_config_for_user", "@new-bob:example.com"))
                .isEqualTo(GatewayClient.json("{\"m.upload.size\": " + MIB + "}"));
        assertThat(call("get_media_config_for_user", "@carol:example.com"))
                .isEqualTo(GatewayClient.json("{\"m.upload.size\": " + 100 * MIB + "}"));
    }

    @Test
    void groupsMediaConfigCarriesItsFurtherKeysBesideTheLargestUpload() {
        assertThat(call("get_media_config_for_user", "@alice-staff:example.com")).isEqualTo(GatewayClient.json("""
                {"m.upload.size": %d, "com.example.upload_policy": "staff", "com.example.max_files": 20}""".formatted(2048 * MIB)));
    }

    @Test
    void userNoGroupListsKeepsSynapsesOwnMediaConfig() {
        assertThat(call("get_media_config_for_user", "@dave:elsewhere.example").isNull()).isTrue();
    }

    @Test
    void uploadsAboveTheGroupsLargestAreRefusedAndTheLargestItselfIsAllowed() {
        assertThat(sizeAllowed("@carol:example.com", 100 * MIB)).isTrue();
        assertThat(sizeAllowed("@carol:example.com", 100 * MIB + 1)).isFalse();
        assertThat(sizeAllowed("@mallory:spammy.example", MIB + 1)).isFalse();
        assertThat(sizeAllowed("@dave:elsewhere.example", 100 * 1024 * MIB)).isTrue();
    }

    @Test
    void windowedLimitsComeFromTheFirstGroupThatListsTheUser() {
        assertThat(call("get_media_upload_limits_for_user", "@carol:example.com")).isEqualTo(GatewayClient.json("""
                [{"max_bytes": 524288000, "time_period_ms": 3600000}, {"max_bytes": 2147483648, "time_period_ms": 86400000}]"""));
        // staff are listed again under "everyone", but the first group wins
        assertThat(call("get_media_upload_limits_for_user", "@admin:example.com")).isEqualTo(GatewayClient.json("[]"));
        assertThat(call("get_media_upload_limits_for_user", "@new-bob:example.com"))
                .isEqualTo(GatewayClient.json("[{\"max_bytes\": 10485760, \"time_period_ms\": 86400000}]"));
    }

    @Test
    void userNoGroupListsFallsThroughToTheNextModule() {
        assertThat(call("get_media_upload_limits_for_user", "@dave:elsewhere.example"))
                .isEqualTo(GatewayClient.json("[{\"max_bytes\": 1048576, \"time_period_ms\": 60000}]"));
    }

    @Test
    void exceededLimitsAreCountedByGroup() {
        Answer answer = gateway.post("/v1/media_repository/on_media_upload_limit_exceeded", """
                {"user_id": "@new-erin:example.com", "limit": {"max_bytes": 10485760, "time_period_ms": 86400000},
                 "sent_bytes": 10000000, "attempted_bytes": 1048576}""");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
        assertThat(scrape(managementPort)).containsPattern(
                "policy_module_media_limits_exceeded_total\\{[^}]*group=\"quarantine\"[^}]*module=\"media\"[^}]*} [1-9]");
    }

    @Test
    void exceededLimitOfAZeroPeriodAsSynapsesConfigurationAllowsIsCountedToo() {
        // homeserver.yaml: media_upload_limits: [{time_period: 0s, max_size: 10M}]
        Answer answer = gateway.post("/v1/media_repository/on_media_upload_limit_exceeded", """
                {"user_id": "@dave:elsewhere.example", "limit": {"max_bytes": 10485760, "time_period_ms": 0},
                 "sent_bytes": 0, "attempted_bytes": 20971520}""");

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": null}"));
    }

    @Test
    void negativeSizeIsTheClientsMistake() {
        Answer answer = gateway.post("/v1/media_repository/is_user_allowed_to_upload_media_of_size",
                "{\"user_id\": \"@carol:example.com\", \"size\": -1}");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_INVALID_PARAM");
    }

    private boolean sizeAllowed(String user, long size) {
        return result(gateway.post("/v1/media_repository/is_user_allowed_to_upload_media_of_size",
                "{\"user_id\": \"" + user + "\", \"size\": " + size + "}")).booleanValue();
    }

    private JsonNode call(String callback, String user) {
        return result(gateway.post("/v1/media_repository/" + callback, "{\"user_id\": \"" + user + "\"}"));
    }

    private static JsonNode result(Answer answer) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        return answer.json().get("result");
    }
}
