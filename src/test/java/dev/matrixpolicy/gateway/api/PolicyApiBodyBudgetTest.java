package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.callbacks.ArgsJson;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.replies.JsonTreeCost;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.nio.charset.StandardCharsets;
import java.util.Map;
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

    /** {@code check_event_allowed}'s body with a room's state of about 1 MB in realistic membership events. */
    static final String STATE = "{\"event\": " + REALISTIC_EVENT + ", \"state_events\": " + IntStream.range(0, 3_700)
            .mapToObj(n -> "{\"event_id\": \"$state" + n + ":example.com\", \"sender\": \"@alice:example.com\","
                    + " \"room_id\": \"!room:example.com\", \"type\": \"m.room.member\", \"state_key\": \"@member" + n + ":example.com\","
                    + " \"origin_server_ts\": 1700000000000, \"content\": {\"membership\": \"join\", \"displayname\": \"Member " + n + "\"}}")
            .collect(Collectors.joining(", ", "[", "]")) + "}";
    /** An event of 64 KB whose content is {@code [{},{},...]}, which any remote user can send. */
    static final String FLOOD = "{\"event\": {\"event_id\": \"$flood\", \"room_id\": \"!room:example.org\", \"type\": \"m.room.message\","
            + " \"sender\": \"@mallory:example.org\", \"content\": {\"a\": "
            + IntStream.range(0, 21_690).mapToObj(n -> "{}").collect(Collectors.joining(",", "[", "]")) + "}}}";

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
        assertThat(budget.held()).as("the body, the copy of its arguments a forwarding module sends, and its tree")
                .isEqualTo(2L * bytes.length + cost.tree() + cost.decoding());

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

        assertThat(budget.held()).isEqualTo(2L * length + JsonTreeCost.atMost(length));
    }

    /**
     * A realistic event of 2.1 KB is charged about 15 KB with its tree and the copy a forwarding module
     * sends, 500 of them at once about 7.3 MiB, a fifth of the default share of the image's heap
     * (37.7 MiB); a room's state of 1 MB in realistic membership events 9.1 MB, and 4 such at once fit.
     * Not 50: their trees, once built (5 times their size), would take 250 MB, the whole heap.
     */
    @Test
    void ordinaryLoadFitsTheDefaultShareOfTheImagesHeap() {
        long share = IMAGE_HEAP / RequestBodyReader.Budget.POLICY_API_SHARE;
        long event = held("{\"event\": " + REALISTIC_EVENT + "}");
        long room = held(STATE);
        assertThat(REALISTIC_EVENT.length()).isBetween(1_900, 2_200);
        assertThat(500 * event).isLessThan(share / 4);
        assertThat(STATE.length()).isBetween(950_000, 1_000_000);
        assertThat(share / room).isGreaterThanOrEqualTo(4);
    }

    /**
     * Bodies charged unread, the most their length can take (117 bytes a byte: 259 KB for a realistic
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
     * An event of 64 KB whose content is {@code [{},{},...]}, which any remote user can send: 6.5 MB held
     * by its estimate, 7.7 MB charged unread. In the default share the first two are charged unread
     * (half of it), three more by their estimates, and the sixth is refused: five at once.
     */
    @Test
    void aFloodOfEventsOfTheCostliestShapeIsRefusedAfterFiveInTheDefaultShare() {
        String body = FLOOD;
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

    /**
     * Besides its body and tree, a request holds until its answer the copy of its arguments that a
     * forwarding module (the http module) sends its service: what each body is charged covers it, for
     * a realistic event, a room's state of 1 MB and a 64 KB event of {@code [{},{},...]} alike.
     */
    @Test
    void whatABodyIsChargedCoversTheCopyOfItsArgumentsThatAForwardingModuleSends() {
        Map<String, CallbackType<?, ?, ?>> bodies = Map.of("{\"event\": " + REALISTIC_EVENT + "}", CheckEventForSpam.TYPE,
                STATE, CheckEventAllowed.TYPE, FLOOD, CheckEventForSpam.TYPE);
        bodies.forEach((body, callback) -> {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            JsonTreeCost tree = JsonTreeCost.of(bytes);
            byte[] forwarded = ArgsJson.bytes(callback.reader().apply(JsonArgs.of(reader(RequestBodyReader.Budget.NONE).readBody(request(body)))));

            assertThat(held(body) - bytes.length - tree.tree() - tree.decoding()).as("besides the body and its tree")
                    .isGreaterThanOrEqualTo(forwarded.length);
        });
    }

    /** What a body holds near the budget's end, where each is charged its own estimate: what decides how many fit. */
    private static long held(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        JsonTreeCost cost = JsonTreeCost.of(bytes);
        long estimate = 2L * bytes.length + cost.tree() + cost.decoding();
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
