package dev.matrixpolicy.gateway.modules.policylist;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import dev.matrixpolicy.gateway.policylist.Entity;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A {@code policy_list} over real HTTP (application-policylist.yml): a local file of rules above a
 * community list served by a real HTTP server as a policy room's state, with an allow list above both.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("policylist")
// Closed with the class: its sources would otherwise poll the stopped server's port for the rest of
// the run, and warn whenever it fails, or another test's server answers there.
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PolicyListEndToEndTest {
    private static final WireMockServer community = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    private static final Path file = tempFile();
    private static final String COMMUNITY = """
            [{"type": "m.policy.rule.user", "state_key": "rule:spammer", "event_id": "$ban1", "sender": "@mod:example.org",
              "content": {"entity": "@spammer:example.org", "recommendation": "m.ban", "reason": "invite spam"}},
             {"type": "m.policy.rule.user", "state_key": "rule:hashed", "event_id": "$ban2", "sender": "@mod:example.org",
              "content": {"hashes": {"sha256": "%s="}, "recommendation": "m.takedown"}},
             {"type": "m.policy.rule.room", "state_key": "rule:room", "event_id": "$ban3", "sender": "@mod:example.org",
              "content": {"entity": "!csam:example.org", "recommendation": "m.ban", "reason": "abuse"}},
             {"type": "m.policy.rule.room", "state_key": "rule:alias", "event_id": "$ban5", "sender": "@mod:example.org",
              "content": {"entity": "#scam-*:example.com", "recommendation": "m.ban", "reason": "scam rooms"}},
             {"type": "m.policy.rule.server", "state_key": "rule:evil", "event_id": "$ban4", "sender": "@mod:example.org",
              "content": {"entity": "evil.example", "recommendation": "org.matrix.mjolnir.ban"}},
             {"type": "m.policy.rule.user", "state_key": "rule:muted", "event_id": "$odd", "sender": "@mod:example.org",
              "content": {"entity": "@muted:example.org", "recommendation": "org.example.mute"}},
             {"type": "m.room.member", "state_key": "@mod:example.org", "content": {"membership": "join"}}]"""
            .formatted(Entity.hashOf("@yarrgh:example.org"));
    /** The "strict" instance's list: a URL that answers 304 to If-Modified-Since, having sent no ETag. */
    private static final String STRICT = """
            ban user @refused:example.org spam everywhere
            takedown user @taken-down:example.org
            ban room !strict-room:example.org off limits
            ban user @hash-allowed:example.org
            """;
    private static final String STRICT_LAST_MODIFIED = "Wed, 02 Dec 2026 07:00:00 GMT";
    /** A curator's reason of 2,000 characters: a user sees its first 500. */
    private static final String LONG_REASON = "spam ".repeat(399) + "end!";

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    GatewayClient gateway;

    @DynamicPropertySource
    static void sources(DynamicPropertyRegistry registry) {
        community.start();
        community.stubFor(get("/bans.json").willReturn(okJson(COMMUNITY).withHeader("ETag", "\"v1\"")));
        community.stubFor(get("/strict.txt").willReturn(aResponse().withBody(STRICT).withHeader("Last-Modified", STRICT_LAST_MODIFIED)));
        community.stubFor(get("/strict.txt").withHeader("If-Modified-Since", equalTo(STRICT_LAST_MODIFIED))
                .willReturn(aResponse().withStatus(304)));
        write("# our own list\nban user @local-spammer:example.com posted scams\nban user @verbose:example.com " + LONG_REASON + "\n");
        registry.add("policylist-test.file", file::toString);
        registry.add("policylist-test.url", () -> community.baseUrl() + "/bans.json");
        registry.add("policylist-test.strict-url", () -> community.baseUrl() + "/strict.txt");
        registry.add("policylist-test.allowed-hash", () -> Entity.hashOf("@hash-allowed:example.org"));
    }

    @AfterAll
    static void stop() {
        community.stop();
    }

    @BeforeEach
    void connect() {
        gateway = new GatewayClient(port, "policylist-token");
        await().atMost(Duration.ofSeconds(10)).until(() -> invite("@spammer:example.org", "@bob:example.com").status() == 403
                && invite("@refused:example.org", "@bob:example.com").status() == 403);
    }

    @Test
    @Order(1)
    void aBannedInviterIsRefusedWithTheRulesReasonWhenTheAdminOptsIn() {
        Answer answer = invite("@spammer:example.org", "@bob:example.com");

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_FORBIDDEN");
        assertThat(answer.json().get("error").asString()).endsWith(": invite spam");
        assertThat(invite("@carol:example.org", "@bob:example.com").status()).isEqualTo(200);
    }

    @Test
    @Order(1)
    void aLongReasonIsCutForTheUserAndKeptWholeForTheAdmin() {
        Answer answer = invite("@verbose:example.com", "@bob:example.com");

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json().get("error").asString()).isEqualTo("Forbidden by policy: " + LONG_REASON.substring(0, 500) + "…");
        assertThat(management("/actuator/policylists/match?entity=@verbose:example.com").at("/bans/verdicts/0/decision/reason").asString())
                .isEqualTo(LONG_REASON);
    }

    @Test
    @Order(1)
    void hashedRoomServerAndLocalRulesAllRefuse() {
        assertThat(invite("@yarrgh:example.org", "@bob:example.com").status()).as("hashed takedown").isEqualTo(403);
        assertThat(invite("@yarrgh:EXAMPLE.org", "@bob:example.com").status()).as("hashed, the server in another case").isEqualTo(403);
        assertThat(invite("@YARRGH:example.org", "@bob:example.com").status()).as("localparts compare exactly").isEqualTo(200);
        assertThat(join("!csam:example.org").status())
                .as("room ban").isEqualTo(403);
        assertThat(invite("@anyone:evil.example", "@bob:example.com").status()).as("server ban").isEqualTo(403);
        assertThat(join("!made-there:evil.example").status()).as("a room ID's server is where it was made: no server ban")
                .isEqualTo(200);
        assertThat(invite("@anyone:Evil.Example:8448", "@bob:example.com").status()).as("server ban, any case, a port").isEqualTo(403);
        assertThat(invite("@anyone:evil.example.", "@bob:example.com").status()).as("server ban, a fully qualified name").isEqualTo(403);
        assertThat(invite("@local-spammer:example.com", "@bob:example.com").status()).as("local file").isEqualTo(403);
        assertThat(invite("@bob:example.com", "@spammer:example.org").status()).as("check-invitee").isEqualTo(403);
    }

    @Test
    @Order(1)
    void aRoomRuleNamingAnAliasRefusesThatAliasWhereACallbackCarriesOne() {
        assertThat(createAlias("#scam-deals:example.com").status())
                .as("user_may_create_room_alias").isEqualTo(403);
        assertThat(createAlias("#lobby:example.com").status()).isEqualTo(200);
        assertThat(createRoom("scam-deals").status())
                .as("user_may_create_room's room_alias_name, on server-name").isEqualTo(403);
        assertThat(createRoom("lobby").status()).isEqualTo(200);
        assertThat(createAlias("#lobby:evil.example").status())
                .as("an alias on a banned server").isEqualTo(403);
    }

    /** Synapse asks about any alias {@code RoomAlias.is_valid} takes, of at most 255 characters: not only compliant ones. */
    @Test
    @Order(1)
    void aliasesSynapseCreatesAreJudgedNotRefusedAsMalformed() {
        assertThat(createAlias("#:evil.example").status()).as("an empty localpart, on a banned server").isEqualTo(403);
        assertThat(createAlias("#:example.com").status()).isEqualTo(200);
        assertThat(createRoom("").status()).as("room_alias_name \"\" makes #:example.com").isEqualTo(200);
        String cjk = "\u65e5".repeat(100);
        assertThat(createAlias("#" + cjk + ":evil.example").status())
                .as("104 characters, 310 bytes of UTF-8: Synapse counts characters").isEqualTo(403);
        assertThat(createAlias("#scam-" + cjk + ":example.com").status()).isEqualTo(403);
        assertThat(createAlias("#" + "a".repeat(243) + ":example.com").status()).as("256 characters").isEqualTo(400);
    }

    /**
     * Synapse checks no localpart, opaque part or v1/v2 event ID for control characters, and a hostile
     * server signs events that carry them: its ban holds for them all, rather than each question being
     * refused as malformed (a 400, which a module failing open takes as a yes).
     */
    @Test
    @Order(1)
    void aServerBanHoldsForIdsWithControlCharacters() {
        for (String control : new String[] {"\\u0000", "\\u0001", "\\t", "\u007f", "\u0085", "\u2028"}) {
            String event = """
                    {"event": {"event_id": "$i%1$s:evil.example", "type": "m.room.member", "sender": "@x%1$s:evil.example",
                     "room_id": "!r%1$s:evil.example", "state_key": "@bob:example.com", "content": {"membership": "invite"}}}"""
                    .formatted(control);
            assertThat(gateway.post("/v1/spam_checker/federated_user_may_invite", event).status()).as(control).isEqualTo(403);
            assertThat(result("/v1/spam_checker/should_drop_federated_event", event).booleanValue()).as(control).isTrue();
            assertThat(invite("@bob:example.com", "@x" + control + ":evil.example").status()).as(control).isEqualTo(403);
            assertThat(createAlias("#a" + control + ":evil.example").status()).as(control).isEqualTo(403);
        }
    }

    @Test
    @Order(1)
    void anAliasOrUsernameNoIdCanHaveIsLeftForTheHomeserverToRefuse() {
        assertThat(createRoom("scam-deals:evil.example").status())
                .as("#scam-deals:evil.example:example.com is no alias, though the glob #scam-*:example.com would match its text")
                .isEqualTo(200);
        assertThat(createRoom("scam-\\ud800forged").status()).as("half a character, which Synapse can neither look up nor store")
                .isEqualTo(200);
        assertThat(result("/v1/spam_checker/check_registration_for_spam",
                "{\"email_threepid\": null, \"username\": \"local-spammer\\n2026-12-03 INFO forged\", \"request_info\": [], \"auth_provider_id\": null}")
                .asString()).isEqualTo("ALLOW");
    }

    @Test
    @Order(1)
    void theAllowListBeatsABanOfTheUsersServer() {
        assertThat(invite("@trusted:evil.example", "@bob:example.com").status()).isEqualTo(200);
    }

    @Test
    @Order(1)
    void theAllowListKeepsAnAllowedUsersFederatedEventsFromBeingDroppedWithTheirServers() {
        String allowed = """
                {"event": {"event_id": "$m1", "type": "m.room.message", "sender": "@trusted:evil.example",
                 "room_id": "!r:example.com", "content": {"body": "hi"}}}""";
        String other = allowed.replace("@trusted:evil.example", "@mallory:evil.example");
        assertThat(result("/v1/spam_checker/should_drop_federated_event", allowed).booleanValue()).isFalse();
        assertThat(result("/v1/spam_checker/should_drop_federated_event", other).booleanValue()).isTrue();
    }

    @Test
    @Order(1)
    void serverRulesApplyToFederationAndBannedUsersVanishFromTheDirectory() {
        String event = """
                {"event_id": "$invite", "type": "m.room.member", "sender": "@mallory:evil.example", "room_id": "!r:evil.example",
                 "state_key": "@bob:example.com", "content": {"membership": "invite"}}""";
        assertThat(gateway.post("/v1/spam_checker/federated_user_may_invite", "{\"event\": " + event + "}").status()).isEqualTo(403);
        assertThat(result("/v1/spam_checker/should_drop_federated_event", "{\"event\": " + event + "}").booleanValue()).isTrue();
        assertThat(result("/v1/spam_checker/check_username_for_spam",
                "{\"user_profile\": {\"user_id\": \"@spammer:example.org\", \"display_name\": null, \"avatar_url\": null}}")
                .booleanValue()).isTrue();
        assertThat(result("/v1/spam_checker/check_registration_for_spam",
                "{\"email_threepid\": null, \"username\": \"Local-Spammer\", \"request_info\": [], \"auth_provider_id\": null}")
                .asString()).isEqualTo("DENY");
    }

    @Test
    @Order(1)
    void anUnknownRecommendationIsIgnoredAndCounted() {
        assertThat(invite("@muted:example.org", "@bob:example.com").status()).isEqualTo(200);
        assertThat(scrape(managementPort)).containsPattern(
                "policy_module_policy_list_skipped\\{[^}]*reason=\"unknown_recommendation\"[^}]*source=\"community\"[^}]*} 1");
    }

    @Test
    @Order(1)
    void explainNamesTheDecidingRuleAndTheAllowThatOverridesABan() {
        JsonNode spammer = management("/actuator/policylists/match?entity=@spammer:example.org").get("bans");
        assertThat(spammer.at("/verdicts/0/decision/origin/event_id").asString()).isEqualTo("$ban1");
        assertThat(spammer.at("/verdicts/0/decision/reason").asString()).isEqualTo("invite spam");

        assertThat(spammer.at("/decision/origin/event_id").asString()).isEqualTo("$ban1");

        JsonNode trusted = management("/actuator/policylists/match?entity=@trusted:evil.example").get("bans");
        assertThat(trusted.at("/decision/recommendation").asString()).isEqualTo("ALLOW");
        assertThat(trusted.at("/verdicts/0/decision/recommendation").asString()).isEqualTo("ALLOW");
        assertThat(trusted.at("/verdicts/1/decision/origin/source").asString()).isEqualTo("community");
    }

    @Test
    @Order(1)
    void explainingACallbackShowsTheRefusalButCountsNoMatch() {
        invite("@spammer:example.org", "@bob:example.com");
        double before = spammerInviteMatches();

        Answer explained = new GatewayClient(managementPort, null).post("/actuator/explain/spam_checker/user_may_invite",
                "{\"inviter\": \"@spammer:example.org\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!room:example.com\"}");

        assertThat(explained.status()).as(explained.body()).isEqualTo(200);
        assertThat(explained.body()).contains("M_FORBIDDEN");
        assertThat(spammerInviteMatches()).as("an explanation is no refusal").isEqualTo(before);
        invite("@spammer:example.org", "@bob:example.com");
        assertThat(spammerInviteMatches()).as("a refusal is").isEqualTo(before + 1);
    }

    /** {@code policy_module_policy_list_matches_total} for the community source's user rules on user_may_invite. */
    private double spammerInviteMatches() {
        return scrape(managementPort).lines()
                .filter(line -> line.startsWith("policy_module_policy_list_matches_total{") && line.contains("callback=\"user_may_invite\"")
                        && line.contains("source=\"community\"") && line.contains("kind=\"user\"") && line.contains("module=\"bans\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    @Order(1)
    void explainRefusesAnEntityThatIsNoIdAndARepeatedOneAsJsonErrors() {
        GatewayClient admin = new GatewayClient(managementPort, null);
        for (String query : List.of("entity=%24event%3Aexample.org", "entity=http%3A%2F%2Fx%2F", "entity=%40a%00", // no ":", so no user ID even as Synapse takes one
                "entity=@spammer:example.org&entity=@nobody:example.org",
                "entity=@spammer&entity=example.org")) { // joined by a comma, the two would be a valid user ID
            Answer answer = admin.get("/actuator/policylists/match?" + query);
            assertThat(answer.status()).as(query).isEqualTo(400);
            assertThat(answer.contentType()).as(query).startsWith("application/json");
            assertThat(answer.json().get("errcode").asString()).as(query).isEqualTo("M_INVALID_PARAM");
        }
        Answer missing = admin.get("/actuator/policylists/match");
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.contentType()).startsWith("application/json");
        assertThat(admin.get("/actuator/policylists/nope").contentType()).startsWith("application/json");
    }

    @Test
    @Order(1)
    void explainOfAServerWithAPortDecidesItAsTheCallbacksDo() {
        // should_drop_federated_event drops @x:evil.example:8448's events by the ban of evil.example
        JsonNode server = management("/actuator/policylists/match?entity=evil.example:8448").get("bans");
        assertThat(server.at("/decision/origin/event_id").asString()).isEqualTo("$ban4");
        assertThat(server.at("/verdicts/0/id").asString()).isEqualTo("evil.example:8448");
        assertThat(server.at("/verdicts/1/id").asString()).isEqualTo("evil.example");
        String event = """
                {"event": {"event_id": "$m2", "type": "m.room.message", "sender": "@x:evil.example:8448",
                 "room_id": "!r:example.com", "content": {}}}""";
        assertThat(result("/v1/spam_checker/should_drop_federated_event", event).booleanValue()).isTrue();
        JsonNode ipv6 = management("/actuator/policylists/match?entity=%5B::1%5D:8448").get("bans");
        assertThat(ipv6.at("/verdicts/1/id").asString()).isEqualTo("[::1]");
    }

    @Test
    @Order(1)
    void sourcesAreListedWithTheirCountsAndMetrics() {
        JsonNode sources = management("/actuator/policylists").at("/bans/sources");
        assertThat(sources.get(0).get("name").asString()).isEqualTo("allow");
        assertThat(sources.get(2).get("name").asString()).isEqualTo("community");
        assertThat(sources.get(2).at("/rules/USER/BAN").intValue()).isEqualTo(1);
        assertThat(sources.get(2).at("/rules/USER/TAKEDOWN").intValue()).isEqualTo(1);
        assertThat(scrape(managementPort)).containsPattern(
                "policy_module_policy_list_rules\\{[^}]*kind=\"user\"[^}]*source=\"community\"[^}]*} 2");
    }

    @Test
    @Order(1)
    void everyCallbackAboutABannedUserRefusesWithTheConfiguredErrcodeAndWithoutTheReason() {
        String user = "@refused:example.org";
        Map<String, String> calls = Map.of(
                "check_event_for_spam", "{\"event\": {\"event_id\": \"$e\", \"room_id\": \"!room:example.com\", "
                        + "\"type\": \"m.room.message\", \"sender\": \"" + user + "\", \"content\": {\"body\": \"hi\"}}}",
                "user_may_create_room", "{\"user_id\": \"" + user + "\"}",
                "user_may_send_state_event", "{\"user_id\": \"" + user + "\", \"room_id\": \"!room:example.com\", "
                        + "\"event_type\": \"m.room.topic\", \"state_key\": \"\", \"content\": {\"topic\": \"Buy now\"}}",
                "user_may_publish_room", "{\"user_id\": \"" + user + "\", \"room_id\": \"!room:example.com\"}",
                "check_login_for_spam", "{\"user_id\": \"" + user + "\", \"device_id\": null, \"initial_display_name\": null, "
                        + "\"request_info\": [], \"auth_provider_id\": null}",
                "user_may_invite", "{\"inviter\": \"" + user + "\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!room:example.com\"}");

        calls.forEach((callback, body) -> {
            Answer answer = gateway.post("/v1/spam_checker/" + callback, body);
            assertThat(answer.status()).as(callback).isEqualTo(403);
            assertThat(answer.json().get("errcode").asString()).as(callback).isEqualTo("M_BANNED_BY_LIST");
            assertThat(answer.body()).as(callback + ": the reason stays in the logs").doesNotContain("spam everywhere");
        });
        assertThat(management("/actuator/policylists/match?entity=" + user).at("/strict/verdicts/0/decision/reason").asString())
                .isEqualTo("spam everywhere");
    }

    @Test
    @Order(1)
    void takedownsAreIgnoredWhenConfiguredSoAndASourceGivesOnlyTheKindsItIsScopedTo() {
        assertThat(invite("@taken-down:example.org", "@bob:example.com").status()).as("takedown: ignore").isEqualTo(200);
        assertThat(join("!strict-room:example.org").status())
                .as("a room rule of a source with kinds: [user]").isEqualTo(200);
        assertThat(management("/actuator/policylists").at("/strict/sources/1/rules").toString())
                .isEqualTo("{\"USER\":{\"BAN\":2}}");
    }

    @Test
    @Order(1)
    void aHashInTheAllowListOverridesABan() {
        assertThat(invite("@hash-allowed:example.org", "@bob:example.com").status()).isEqualTo(200);
        assertThat(management("/actuator/policylists/match?entity=@hash-allowed:example.org")
                .at("/strict/verdicts/0/decision/recommendation").asString()).isEqualTo("ALLOW");
    }

    @Test
    @Order(1)
    void anUnchangedListAnswers304ToIfModifiedSinceAndKeepsItsRules() {
        await().atMost(Duration.ofSeconds(5)).until(() -> !community.findAll(getRequestedFor(urlEqualTo("/strict.txt"))
                .withHeader("If-Modified-Since", equalTo(STRICT_LAST_MODIFIED))).isEmpty());

        assertThat(community.findAll(getRequestedFor(urlEqualTo("/strict.txt")).withHeader("If-None-Match", matching(".*")))).isEmpty();
        assertThat(invite("@refused:example.org", "@bob:example.com").status()).isEqualTo(403);
        JsonNode lastError = management("/actuator/policylists").at("/strict/sources/1/status/last_error");
        assertThat(lastError.isMissingNode() || lastError.isNull()).as("a 304 is a good read: %s", lastError).isTrue();
    }

    @Test
    @Order(2)
    void aChangedFileAppliesWithoutARestart() {
        write("ban user @local-spammer:example.com posted scams\nban user @newcomer:example.com\n");

        await().atMost(Duration.ofSeconds(5)).until(() -> invite("@newcomer:example.com", "@bob:example.com").status() == 403);
    }

    @Test
    @Order(3)
    void aFailingSourceKeepsItsLastGoodRulesAndSaysSoInHealth() {
        community.stubFor(get("/bans.json").willReturn(aResponse().withStatus(502)));

        await().atMost(Duration.ofSeconds(5)).until(() -> management("/actuator/policylists").toString().contains("HTTP 502"));
        assertThat(invite("@spammer:example.org", "@bob:example.com").status()).isEqualTo(403);
        assertThat(management("/actuator/policylists").at("/bans/sources/2/status/last_error").asString()).isEqualTo("HTTP 502");
        String name = management("/actuator/policylists").at("/bans/sources/2/name").asString();
        assertThat(management("/actuator/health").at("/components/policyLists/details/bans/" + name).asString())
                .startsWith("failing, serving its rules of ").endsWith(" ago (HTTP 502)");
        assertThat(readiness().status()).as("failing, not stale: still ready").isEqualTo(200);
    }

    @Test
    @Order(4)
    void aStaleSourceMakesTheGatewayUnreadyWithReadinessFreshUntilItReadsAgain() {
        await().atMost(Duration.ofSeconds(10)).until(() -> readiness().status() == 200);

        StubMapping failing = community.stubFor(get("/strict.txt").atPriority(1).willReturn(aResponse().withStatus(502)));
        await().atMost(Duration.ofSeconds(10)).until(() -> readiness().status() == 503);
        assertThat(management("/actuator/health").at("/components/policyLists/details/strict/strict-list").asString())
                .startsWith("stale: no good read for").contains("HTTP 502");
        assertThat(invite("@refused:example.org", "@bob:example.com").status()).as("the last good rules").isEqualTo(403);

        community.removeStub(failing);
        await().atMost(Duration.ofSeconds(10)).until(() -> readiness().status() == 200);
    }

    private Answer readiness() {
        return new GatewayClient(managementPort, null).get("/actuator/health/readiness");
    }

    private Answer invite(String inviter, String invitee) {
        return gateway.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"" + inviter + "\", \"invitee\": \"" + invitee + "\", \"room_id\": \"!room:example.com\"}");
    }

    private Answer join(String room) {
        return gateway.post("/v1/spam_checker/user_may_join_room",
                "{\"user\": \"@bob:example.com\", \"room\": \"" + room + "\", \"is_invited\": false}");
    }

    private Answer createAlias(String alias) {
        return gateway.post("/v1/spam_checker/user_may_create_room_alias",
                "{\"user_id\": \"@alice:example.com\", \"room_alias\": \"" + alias + "\"}");
    }

    private Answer createRoom(String aliasName) {
        return gateway.post("/v1/spam_checker/user_may_create_room",
                "{\"user_id\": \"@alice:example.com\", \"room_config\": {\"room_alias_name\": \"" + aliasName + "\"}}");
    }

    private JsonNode result(String path, String body) {
        Answer answer = gateway.post(path, body);
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        return answer.json().get("result");
    }

    private JsonNode management(String path) {
        Answer answer = new GatewayClient(managementPort, null).get(path);
        return answer.json();
    }

    private static Path tempFile() {
        try {
            return Files.createTempFile("policy-list", ".txt");
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }
    }

    private static void write(String text) {
        try {
            Path next = Files.createTempFile(file.getParent(), "policy-list", ".tmp");
            Files.writeString(next, text);
            Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException unwritable) {
            throw new UncheckedIOException(unwritable);
        }
    }
}
