package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.replies.JsonTreeCost;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.util.unit.DataSize;

/**
 * What the policy API's request bodies hold of their budget: their bytes and the tree that may be
 * built of them, until the request is answered; and that ordinary load stays far inside the default
 * share of the image's heap.
 */
class PolicyApiBodyBudgetTest {
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("503 M_LIMIT_EXCEEDED");
    @RegisterExtension
    final LoggedLines log = LoggedLines.of(RequestBodyReader.class, Level.DEBUG);

    /** What the image's JVM reports as its maximum heap in its default 512 MiB container. */
    private static final long IMAGE_HEAP = (long) (301.6 * 1024 * 1024);

    /**
     * A realistic event of about 2 KB, as Synapse hands {@code check_event_for_spam} one from
     * federation: hashes, signatures, the events it follows and a message of some length.
     */
    static final String REALISTIC_EVENT = """
            {"event_id": "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "room_id": "!OGEhHVWSdvArJzumhm:matrix.org",
             "sender": "@someone:example.org", "type": "m.room.message", "origin_server_ts": 1700000000000, "depth": 123456,
             "auth_events": ["$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                             "$ccccccccccccccccccccccccccccccccccccccccccc"],
             "prev_events": ["$ddddddddddddddddddddddddddddddddddddddddddd"],
             "hashes": {"sha256": "Fn1w7TGX1bU2kK6mB9kIzG2t3qf8j0nF0d3mXbqB+5U"},
             "signatures": {"example.org": {"ed25519:a_abcd": "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}},
             "unsigned": {"age": 1234, "age_ts": 1700000001234},
             "content": {"msgtype": "m.text", "format": "org.matrix.custom.html",
                         "body": "%s",
                         "formatted_body": "<p>%s</p>",
                         "m.mentions": {"user_ids": ["@alice:example.com"]}}}""".formatted("word ".repeat(120), "word ".repeat(120));

    @Test
    void aBodyCountsWithItsTreeSoAListOfEmptyObjectsIsRefusedWhereItsBytesWouldFit() {
        RequestBodyReader.Budget budget = RequestBodyReader.Budget.withTrees(20_000);
        RequestBodyReader reader = reader(budget);
        String emptyObjects = "{\"state_events\": " + IntStream.range(0, 600).mapToObj(n -> "{}").collect(Collectors.joining(",", "[", "]")) + "}";
        assertThat(emptyObjects.length()).as("its bytes alone fit").isLessThan(2_000);

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader.readBody(request(emptyObjects)));

        assertThat(refused.status().value()).isEqualTo(503);
        assertThat(refused.errcode()).isEqualTo("M_LIMIT_EXCEEDED");
        assertThat(refused.getMessage()).contains("this one's body and its tree").contains("0.0 MiB");
        assertThat(budget.held()).as("a refused body holds nothing").isZero();

        catchThrowableOfType(MatrixApiException.class, () -> reader.readBody(request(emptyObjects)));
        assertThat(log.at(Level.WARN)).as("one WARN line a while, for admins to see").singleElement().asString()
                .startsWith("Policy API request refused, 503 M_LIMIT_EXCEEDED").contains("0.0 MiB").contains("on_failure");
        assertThat(log.at(Level.DEBUG)).hasSize(1);
    }

    @Test
    void aBodyPastTheBudgetAsItComesIsRefusedAsTheTreeIsWithTheErrcodeOurSynapseModuleTellsFromAFailClosed503() {
        RequestBodyReader.Budget budget = RequestBodyReader.Budget.withTrees(1_000);
        String body = "{\"event\": {\"content\": {\"body\": \"" + "x".repeat(2_000) + "\"}}}";

        MatrixApiException refused = catchThrowableOfType(MatrixApiException.class, () -> reader(budget).readBody(request(body)));

        assertThat(refused.status().value()).isEqualTo(503);
        assertThat(refused.errcode()).isEqualTo("M_LIMIT_EXCEEDED");
        assertThat(budget.held()).isZero();
    }

    @Test
    void aBodyAndItsEstimatedTreeAreHeldUntilItsRequestIsReleased() {
        RequestBodyReader.Budget budget = RequestBodyReader.Budget.withTrees(100_000);
        RequestBodyReader reader = reader(budget);
        String body = "{\"event\": " + REALISTIC_EVENT + "}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        JsonTreeCost cost = JsonTreeCost.of(bytes);
        MockHttpServletRequest request = request(body);

        reader.readBody(request);
        assertThat(budget.held()).isEqualTo(bytes.length + cost.tree() + cost.decoding());

        reader.release(request);
        assertThat(budget.held()).isZero();
    }

    /** Far from the budget's end a body is charged the most any body of its length can take, without a pass over it. */
    @Test
    void withRoomInTheBudgetABodyIsChargedTheMostItsLengthCanTakeUnread() {
        RequestBodyReader.Budget budget = RequestBodyReader.Budget.withTrees(100_000_000);
        String body = "{\"event\": " + REALISTIC_EVENT + "}";
        int length = body.getBytes(StandardCharsets.UTF_8).length;
        MockHttpServletRequest request = request(body);

        reader(budget).readBody(request);

        assertThat(budget.held()).isEqualTo(length + JsonTreeCost.atMost(length));
    }

    /**
     * A realistic event of 2.1 KB holds 13.2 KB with its tree, 500 of them at once 6.3 MiB, a sixth of
     * the default share of the image's heap (37.7 MiB); a room's state of 1 MB in realistic membership
     * events holds 8.1 MB, and 4 such at once fit. Not 50: their trees, once built (5.9 times their
     * size), would take 295 MB, the whole heap.
     */
    @Test
    void ordinaryLoadFitsTheDefaultShareOfTheImagesHeap() {
        long share = IMAGE_HEAP / RequestBodyReader.Budget.POLICY_API_SHARE;
        long event = held("{\"event\": " + REALISTIC_EVENT + "}");
        String members = IntStream.range(0, 3_700).mapToObj(n -> "{\"event_id\": \"$state" + n + ":example.com\", \"sender\": \"@alice:example.com\","
                        + " \"room_id\": \"!room:example.com\", \"type\": \"m.room.member\", \"state_key\": \"@member" + n + ":example.com\","
                        + " \"origin_server_ts\": 1700000000000, \"content\": {\"membership\": \"join\", \"displayname\": \"Member " + n + "\"}}")
                .collect(Collectors.joining(", ", "[", "]"));
        String state = "{\"event\": " + REALISTIC_EVENT + ", \"state_events\": " + members + "}";
        long room = held(state);
        assertThat(REALISTIC_EVENT.length()).isBetween(1_900, 2_200);
        assertThat(500 * event).isLessThan(share / 4);
        assertThat(state.length()).isBetween(950_000, 1_000_000);
        assertThat(share / room).isGreaterThanOrEqualTo(4);
    }

    /**
     * Bodies charged unread, the most their length can take (116 bytes a byte: 257 KB for a realistic
     * event of 2.2 KB), must leave room for the rest: 500 realistic events held at once in the default
     * share are all let in, as {@link #ordinaryLoadFitsTheDefaultShareOfTheImagesHeap} counts them.
     */
    @Test
    void fiveHundredRealisticEventsHeldAtOnceAreAllLetInTheDefaultShare() {
        RequestBodyReader.Budget budget = RequestBodyReader.Budget.withTrees(IMAGE_HEAP / RequestBodyReader.Budget.POLICY_API_SHARE);
        RequestBodyReader reader = reader(budget);
        String body = "{\"event\": " + REALISTIC_EVENT + "}";

        for (int held = 0; held < 500; held++) {
            reader.readBody(request(body)); // none released: 500 requests being answered at once
        }

        assertThat(budget.held()).isLessThan(budget.bytes());
    }

    /**
     * An event of 64 KB whose content is {@code [{},{},...]}, which any remote user can send: 6.4 MB held
     * by its estimate, 7.6 MB charged unread. In the default share the first two are charged unread
     * (half of it), three more by their estimates, and the sixth is refused: five at once.
     */
    @Test
    void aFloodOfEventsOfTheCostliestShapeIsRefusedAfterFiveInTheDefaultShare() {
        String content = IntStream.range(0, 21_700).mapToObj(n -> "{}").collect(Collectors.joining(",", "[", "]"));
        String body = "{\"event\": {\"type\": \"m.room.message\", \"sender\": \"@mallory:example.org\", \"content\": {\"a\": " + content + "}}}";
        assertThat(body.length()).isBetween(65_000, 65_536);
        assertThat(held(body)).isBetween(6_300_000L, 6_500_000L);
        RequestBodyReader.Budget budget = RequestBodyReader.Budget.withTrees(IMAGE_HEAP / RequestBodyReader.Budget.POLICY_API_SHARE);
        RequestBodyReader reader = reader(budget);

        int letIn = 0;
        while (catchThrowableOfType(MatrixApiException.class, () -> reader.readBody(request(body))) == null) {
            letIn++; // none released: all being answered at once
        }

        assertThat(letIn).isEqualTo(5);
    }

    /** What a body holds near the budget's end, where each is charged its own estimate: what decides how many fit. */
    private static long held(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        JsonTreeCost cost = JsonTreeCost.of(bytes);
        long estimate = bytes.length + cost.tree() + cost.decoding();
        RequestBodyReader.Budget budget = RequestBodyReader.Budget.withTrees(estimate); // no room for the most a body of its length can take
        reader(budget).readBody(request(body));
        assertThat(budget.held()).isEqualTo(estimate);
        return estimate;
    }

    private static RequestBodyReader reader(RequestBodyReader.Budget budget) {
        return new RequestBodyReader(EventJson.MAPPER, DataSize.ofMegabytes(1), budget, RequestBodyReader.HalfPairNames.READ);
    }

    private static MockHttpServletRequest request(String body) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/v1/spam_checker/check_event_for_spam");
        request.setContent(body.getBytes(StandardCharsets.UTF_8));
        return request;
    }
}
