package dev.matrixpolicy.gateway.modules.denylist;

import static dev.matrixpolicy.gateway.support.Fixtures.FEDERATED_INVITE_EVENT;
import static dev.matrixpolicy.gateway.support.GatewayClient.scrape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.module.UserListFile;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayEndToEnd;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@code user_denylist} over real HTTP: the callbacks, the {@code is_evil} resource, a list file and
 * its reloading, and the metrics (application-denylist.yml).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("denylist")
class UserDenylistEndToEndTest extends GatewayEndToEnd {
    /** The WARN line of each request sent here without the token, kept off the console. */
    @RegisterExtension
    final LoggedLines refusals = LoggedLines.of("dev.matrixpolicy.gateway.api.BearerTokenFilter", Level.DEBUG);

    /** The list file's read failures, provoked on purpose. */
    @RegisterExtension
    final LoggedLines fileReads = LoggedLines.of(UserListFile.class, Level.INFO);

    private static final Path USERS_FILE = createUsersFile();

    @DynamicPropertySource
    static void usersFile(DynamicPropertyRegistry registry) {
        registry.add("denylist-test.users-file", USERS_FILE::toString);
    }

    private static Path createUsersFile() {
        try {
            Path file = Files.createTempFile("denylist-test", ".txt");
            file.toFile().deleteOnExit();
            Files.writeString(file, "# written by UserDenylistEndToEndTest\n@filed:example.com\n*:file-listed.example  # a whole server\n");
            return file;
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    UserDenylistEndToEndTest() {
        super("denylist-token");
    }

    @Test
    void eventFromAListedSenderIsRejectedWithTheConfiguredMessage() {
        Answer answer = gateway.post("/v1/spam_checker/check_event_for_spam", event("@SPAMMER:example.com"));

        assertThat(answer.status()).isEqualTo(403);
        assertThat(answer.json()).isEqualTo(GatewayClient.json(
                "{\"errcode\": \"M_FORBIDDEN\", \"error\": \"You are on the denylist\"}"));
    }

    /** Synapse hands on IDs with empty or non-ASCII localparts, which exist in rooms: a denied server's are denied too. */
    @Test
    void nonCompliantSendersAreJudgedNotRefusedAsMalformed() {
        assertThat(gateway.post("/v1/spam_checker/check_event_for_spam", event("@évîe:evil.example")).status()).isEqualTo(403);
        assertThat(gateway.post("/v1/spam_checker/check_event_for_spam", event("@:evil.example")).status()).isEqualTo(403);
        assertThat(gateway.post("/v1/spam_checker/check_event_for_spam", event("@spammer:evil.example:0008448")).status())
                .as("a port padded with zeros, which Synapse reads as 8448").isEqualTo(403);

        Answer elsewhere = gateway.post("/v1/spam_checker/check_event_for_spam", event("@café au lait:example.org"));
        assertThat(elsewhere.status()).isEqualTo(200);
        assertThat(elsewhere.json()).isEqualTo(GatewayClient.json("{\"result\": \"NOT_SPAM\"}"));
    }

    /**
     * A hostile server picks its rooms' IDs before room version 12, and Synapse asks about them as they
     * are: a denied user stays out of such a room, rather than the question being refused as malformed
     * (a 400, which a homeserver module failing open takes as a yes).
     */
    @Test
    void denialsHoldInRoomsWhoseIdsAreNotPrintableAscii() {
        for (String room : new String[] {"!salle-\u00e9:evil.example", "!a b:evil.example", "!:evil.example"}) {
            assertThat(gateway.post("/v1/spam_checker/user_may_join_room",
                    "{\"user\": \"@anyone:evil.example\", \"room\": \"" + room + "\", \"is_invited\": true}").status())
                    .as(room).isEqualTo(403);
            assertThat(gateway.post("/v1/spam_checker/check_event_for_spam", event("@SPAMMER:example.com", room)).status())
                    .as(room).isEqualTo(403);
        }
    }

    /**
     * In room versions 1 and 2 a hostile server names its events as it likes: a denied sender's event
     * is denied, not refused as malformed (a 400, which a homeserver module failing open takes as a yes).
     */
    @Test
    void denialsHoldForEventsNamedOutsidePrintableAscii() {
        String event = event("@SPAMMER:example.com").replace("\"$event\"", "\"$\u00e9v\u00e9nement:evil.example\"");

        assertThat(gateway.post("/v1/spam_checker/check_event_for_spam", event).status()).isEqualTo(403);
    }

    /**
     * Synapse checks no localpart, room ID opaque part or v1/v2 event ID for control characters: a
     * hostile server's signed events carry them (canonical JSON escapes them), and a local user's
     * {@code /join/%21%01...} asks about such a room. A denied server's users are denied, rather than
     * the question being refused as malformed (a 400, which a module failing open takes as a yes).
     */
    @Test
    void denialsHoldForIdsWithControlCharacters() {
        // JSON escapes as the project's module writes C0 controls, and raw DEL, C1 and U+2028 as it writes them
        for (String control : new String[] {"\\u0000", "\\u0001", "\\n", "\\u001b", "\u007f", "\u0085", "\u009b", "\u2028"}) {
            String room = "!r" + control + ":evil.example";
            assertThat(gateway.post("/v1/spam_checker/user_may_join_room",
                    "{\"user\": \"@x" + control + ":evil.example\", \"room\": \"" + room + "\", \"is_invited\": false}").status())
                    .as(control).isEqualTo(403);
            assertThat(gateway.post("/v1/spam_checker/check_event_for_spam", event("@x" + control + ":evil.example", room)
                    .replace("\"$event\"", "\"$e" + control + ":evil.example\"")).status())
                    .as(control).isEqualTo(403);
            assertThat(gateway.post("/v1/spam_checker/check_event_for_spam", event("@SPAMMER:example.com", room)).status())
                    .as(control).isEqualTo(403);
        }
    }

    @Test
    void eventFromAnyoneElseIsNotSpam() {
        Answer answer = gateway.post("/v1/spam_checker/check_event_for_spam", event("@alice:example.com"));

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"result\": \"NOT_SPAM\"}"));
    }

    @Test
    void globsRejectJoinsAndRoomCreation() {
        assertThat(gateway.post("/v1/spam_checker/user_may_join_room",
                "{\"user\": \"@anyone:evil.example\", \"room\": \"!room:example.com\", \"is_invited\": false}").status())
                .isEqualTo(403);
        assertThat(gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@bot-42:example.com\"}").status())
                .isEqualTo(403);
        assertThat(gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@bot-420:example.com\"}").status())
                .isEqualTo(200);
    }

    @Test
    void byDefaultStateEventsAndFederatedInvitesFromListedUsersAreRejected() {
        Answer state = gateway.post("/v1/spam_checker/user_may_send_state_event",
                "{\"user_id\": \"@spammer:example.com\", \"room_id\": \"!room:example.com\", \"event_type\": \"m.room.topic\","
                        + " \"state_key\": \"\", \"content\": {\"topic\": \"Buy now\"}}");
        Answer invite = gateway.post("/v1/spam_checker/federated_user_may_invite", "{\"event\": " + FEDERATED_INVITE_EVENT
                .replace("@mallory:example.org", "@mallory:evil.example") + "}");
        Answer unlistedInviter = gateway.post("/v1/spam_checker/federated_user_may_invite", "{\"event\": " + FEDERATED_INVITE_EVENT + "}");

        assertThat(state.status()).isEqualTo(403);
        assertThat(state.json().get("errcode").asString()).isEqualTo("M_FORBIDDEN");
        assertThat(invite.status()).isEqualTo(403);
        assertThat(unlistedInviter.json()).isEqualTo(GatewayClient.json("{\"result\": \"NOT_SPAM\"}"));
    }

    @Test
    void secondInstanceAnswersOnlyItsConfiguredCallbackWithItsErrcode() {
        Answer invite = gateway.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"@inviter7:example.org\", \"invitee\": \"@alice:example.com\", \"room_id\": \"!room:example.com\"}");
        Answer create = gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@inviter7:example.org\"}");

        assertThat(invite.status()).isEqualTo(403);
        assertThat(invite.json().get("errcode").asString()).isEqualTo("M_LIMIT_EXCEEDED");
        assertThat(create.status()).isEqualTo(200);
    }

    @Test
    void isEvilAnswersWhetherTheNamedInstanceListsTheUser() {
        assertThat(gateway.get("/v1/modules/denylist/is_evil?user=@spammer:example.com").json())
                .isEqualTo(GatewayClient.json("{\"evil\": true}"));
        assertThat(gateway.get("/v1/modules/denylist/is_evil?user=%40someone%3Aevil.example").json())
                .isEqualTo(GatewayClient.json("{\"evil\": true}"));
        assertThat(gateway.get("/v1/modules/denylist/is_evil?user=@alice:example.com").json())
                .isEqualTo(GatewayClient.json("{\"evil\": false}"));
        assertThat(gateway.get("/v1/modules/inviters/is_evil?user=@spammer:example.com").json())
                .isEqualTo(GatewayClient.json("{\"evil\": false}"));
    }

    /** Only '/' and '\' are refused in instance names (ModuleConfigurationTest): every other character can be sent encoded. */
    @Test
    void isEvilReachesAnInstanceWhoseNameHoldsSpacesSemicolonsAndPercentSignsWhenTheyAreEncoded() {
        assertThat(gateway.get("/v1/modules/moderators'%20list%3B%2050%25%20%232/is_evil?user=@named:example.com").json())
                .isEqualTo(GatewayClient.json("{\"evil\": true}"));
    }

    @Test
    void isEvilForAnUnknownInstanceOrOneOfAnotherTypeIs404Unrecognized() {
        for (String name : new String[] {"nobody", "not-a-denylist"}) {
            Answer answer = gateway.get("/v1/modules/" + name + "/is_evil?user=@spammer:example.com");

            assertThat(answer.status()).isEqualTo(404);
            assertThat(answer.json().get("errcode").asString()).isEqualTo("M_UNRECOGNIZED");
        }
    }

    @Test
    void isEvilWithoutAUserIs400MissingParam() {
        Answer answer = gateway.get("/v1/modules/denylist/is_evil");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_MISSING_PARAM");
    }

    @Test
    void isEvilWithSomethingThatIsNotAUserIdIs400InvalidParam() {
        Answer answer = gateway.get("/v1/modules/denylist/is_evil?user=spammer");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_INVALID_PARAM");
    }

    @Test
    void isEvilWithARepeatedUserIs400InvalidParamNotTheirValuesJoined() {
        Answer answer = gateway.get("/v1/modules/denylist/is_evil?user=@spammer&user=example.com");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_INVALID_PARAM");
    }

    @Test
    void isEvilWithAnEmptyUserBesideAnotherIs400InvalidParamNotMissing() {
        Answer answer = gateway.get("/v1/modules/denylist/is_evil?user=&user=@spammer:example.com");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errcode").asString()).isEqualTo("M_INVALID_PARAM");
        assertThat(answer.json().get("error").asString()).contains("more than once");
    }

    @Test
    void isEvilNeedsTheBearerToken() {
        Answer answer = new GatewayClient(port, "wrong-token").get("/v1/modules/denylist/is_evil?user=@spammer:example.com");

        assertThat(answer.status()).isEqualTo(401);
        assertThat(answer.body()).doesNotContain("evil\"");
    }

    @Test
    void entryCountsAndRejectionsAppearInPrometheus() {
        gateway.post("/v1/spam_checker/check_event_for_spam", event("@spammer:example.com"));

        String metrics = scrape(managementPort);

        assertThat(metrics)
                .containsPattern("policy_module_denylist_entries\\{[^}]*kind=\"exact\"[^}]*module=\"denylist\"[^}]*} 1\\.0")
                .containsPattern("policy_module_denylist_entries\\{[^}]*kind=\"glob\"[^}]*module=\"denylist\"[^}]*} 2\\.0")
                .containsPattern("policy_decisions_total\\{[^}]*callback=\"check_event_for_spam\"[^}]*module=\"denylist\"[^}]*outcome=\"deny\"[^}]*} [1-9]");
    }

    @Test
    void usersOfTheListFileAndOfTheInlineListAreBothRefused() {
        for (String user : new String[] {"@filed:example.com", "@Anyone:FILE-LISTED.example", "@inline:example.com"}) {
            Answer answer = createRoom(user);

            assertThat(answer.status()).as(user).isEqualTo(403);
            assertThat(answer.json()).isEqualTo(GatewayClient.json("{\"errcode\": \"M_FORBIDDEN\", \"error\": \"Listed in the file\"}"));
        }
        assertThat(createRoom("@alice:example.com").status()).isEqualTo(200);
    }

    @Test
    void userAddedToTheListFileIsRefusedOnceItReloads() throws Exception {
        String before = Files.readString(USERS_FILE);
        try {
            Files.writeString(USERS_FILE, before + "@latecomer:example.com\n");
            Files.setLastModifiedTime(USERS_FILE, FileTime.from(Instant.now().plusSeconds(60)));

            Instant giveUp = Instant.now().plus(Duration.ofSeconds(10));
            while (createRoom("@latecomer:example.com").status() == 200 && Instant.now().isBefore(giveUp)) {
                Thread.sleep(50);
            }

            assertThat(createRoom("@latecomer:example.com").status()).isEqualTo(403);
            assertThat(createRoom("@filed:example.com").status()).isEqualTo(403);
        } finally {
            Files.writeString(USERS_FILE, before);
            Files.setLastModifiedTime(USERS_FILE, FileTime.from(Instant.now().plusSeconds(120)));
        }
    }

    @Test
    void aListFileThatCannotBeReadShowsInPrometheusAsFailingUntilItReadsAgain() throws IOException {
        String before = Files.readString(USERS_FILE);
        String entries = "policy_module_source_entries\\{[^}]*module=\"from-file\"[^}]*} 3\\.0";
        awaitScrape(managementPort, entries); // the file as this test found it, read: the two entries in it, and the inline one
        try {
            Files.delete(USERS_FILE);
            awaitScrape(managementPort, "policy_module_source_failing\\{[^}]*module=\"from-file\"[^}]*source=\"users-file\"[^}]*} 1\\.0");

            String metrics = scrape(managementPort);
            assertThat(metrics).containsPattern("policy_module_source_failures_total\\{[^}]*kind=\"file\"[^}]*module=\"from-file\"[^}]*} [1-9]");
            assertThat(metrics).as("the entries read before still in force").containsPattern(entries);
            assertThat(metrics).containsPattern("policy_module_source_staleness_seconds\\{[^}]*module=\"from-file\"[^}]*} [0-9.E]+\n");
            assertThat(createRoom("@filed:example.com").status()).as("the list read before still applies").isEqualTo(403);
            // the list records the failure (what the scrape shows), then logs it
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(fileReads.at(Level.WARN))
                    .anySatisfy(line -> assertThat(line).contains(USERS_FILE + " does not exist")));
        } finally {
            Files.writeString(USERS_FILE, before);
            Files.setLastModifiedTime(USERS_FILE, FileTime.from(Instant.now().plusSeconds(180)));
        }
        awaitScrape(managementPort, "policy_module_source_failing\\{[^}]*module=\"from-file\"[^}]*source=\"users-file\"[^}]*} 0\\.0");
    }

    private static void awaitScrape(int managementPort, String pattern) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(scrape(managementPort)).containsPattern(pattern));
    }

    private Answer createRoom(String user) {
        return gateway.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"" + user + "\"}");
    }

    private static String event(String sender) {
        return event(sender, "!room:example.com");
    }

    private static String event(String sender, String room) {
        return "{\"event\": {\"event_id\": \"$event\", \"room_id\": \"" + room + "\", \"type\": \"m.room.message\","
                + " \"sender\": \"" + sender + "\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"hello\"}}}";
    }
}
