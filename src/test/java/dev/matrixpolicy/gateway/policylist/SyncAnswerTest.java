package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;

/** What a {@code /sync} answer says of the one room a source reads, taken from the stream. */
class SyncAnswerTest {
    private static final String ROOM = "!policies:test";

    private static SyncAnswer read(String json) {
        try (JsonParser parser = EventJson.MAPPER.createParser(json.getBytes(StandardCharsets.UTF_8))) { // bytes, as from the wire
            return SyncAnswer.read(parser, ROOM);
        }
    }

    private static String rule(int n) {
        return "{\"type\":\"m.policy.rule.user\",\"state_key\":\"rule:" + n + "\",\"sender\":\"@mod:test\",\"event_id\":\"$e" + n
                + "\",\"content\":{\"entity\":\"@spammer" + n + ":evil.example\",\"recommendation\":\"m.ban\"}}";
    }

    private static String events(int from, int to) {
        StringBuilder events = new StringBuilder("[");
        for (int n = from; n < to; n++) {
            events.append(n == from ? "" : ",").append(rule(n));
        }
        return events.append(']').toString();
    }

    @Test
    void anEventLargerThanAnEventCanBeIsNotBuiltAndMakesItsSectionAGapToReadInFull() {
        String zeros = "0,".repeat(40_000) + "0";
        String huge = "{\"type\":\"m.policy.rule.user\",\"state_key\":\"huge\",\"content\":{\"x\":[[" + zeros + "],[" + zeros
                + "]],\"entity\":\"@x:test\"}}";
        SyncAnswer answer = read("""
                {"next_batch":"s8","rooms":{"join":{"%s":{"timeline":{"events":[%s,%s,"not an event",%s],"limited":false}}}}}
                """.formatted(ROOM, rule(1), huge, rule(2)));

        SyncAnswer.Room room = answer.joined().orElseThrow();
        assertThat(room.gap()).as("the full read streams an event of any size").isTrue();
        assertThat(room.timeline()).isEmpty();
        assertThat(answer.nextBatch()).as("the answer read on past it").isEqualTo("s8");
    }

    @Test
    void ofEachEventOnlyWhatTheSourceReadsIsKeptSoAMembersRedactionsCannotFillTheHeap() {
        // Any member may send a redaction, with any content up to an event's size: 64 KiB of {} made a tree of
        // 2 MiB, and a hundred of them, a 6 MB sync, 200 MiB of heap. What the source reads is kept as it was.
        String junk = "[" + "{},".repeat(6_000) + "{}]"; // 18 KB; twice or thrice in an event, within its 64 KiB
        String redaction = "{\"type\":\"m.room.redaction\",\"sender\":\"@raider:evil.example\",\"event_id\":\"$r\",\"junk\":" + junk
                + ",\"content\":{\"redacts\":\"$e1\",\"a\":" + junk + ",\"b\":1,\"c\":{\"d\":2}}}";
        String rule = "{\"type\":\"m.policy.rule.user\",\"state_key\":\"h\",\"sender\":\"@mod:test\",\"event_id\":\"$h\","
                + "\"content\":{\"recommendation\":\"m.ban\",\"entity\":{\"x\":" + junk + "},\"org.matrix.msc4205.hashes\":"
                + "{\"sha256\":\"abc\",\"sha512\":" + junk + "},\"reason\":[1,2],\"tags\":[\"x\"]}}";
        String tombstone = "{\"type\":\"m.room.tombstone\",\"state_key\":\"\",\"sender\":\"@mod:test\",\"event_id\":\"$t\","
                + "\"content\":{\"replacement_room\":\"!new:test\",\"org.matrix.msc4321.policy_room_upgrade_type\":\"move\",\"body\":\"x\"}}";

        SyncAnswer.Room room = read("""
                {"next_batch":"s9","rooms":{"join":{"%s":{"timeline":{"events":[%s,%s,%s]}}}}}""".formatted(ROOM, redaction, rule, tombstone))
                .joined().orElseThrow();

        assertThat(room.gap()).isFalse();
        assertThat(room.timeline()).extracting(Object::toString).containsExactly(
                "{\"type\":\"m.room.redaction\",\"sender\":\"@raider:evil.example\",\"event_id\":\"$r\",\"content\":{\"redacts\":\"$e1\",\"a\":null}}",
                "{\"type\":\"m.policy.rule.user\",\"state_key\":\"h\",\"sender\":\"@mod:test\",\"event_id\":\"$h\",\"content\":{"
                        + "\"recommendation\":\"m.ban\",\"entity\":{},\"org.matrix.msc4205.hashes\":{\"sha256\":\"abc\"},\"reason\":[],\"tags\":null}}",
                "{\"type\":\"m.room.tombstone\",\"state_key\":\"\",\"sender\":\"@mod:test\",\"event_id\":\"$t\",\"content\":{"
                        + "\"replacement_room\":\"!new:test\",\"org.matrix.msc4321.policy_room_upgrade_type\":\"move\",\"body\":null}}");
        assertThat(PolicyEvents.redacts(room.timeline().getFirst())).hasValue("$e1");
    }

    @Test
    void aRuleReplacingALargeOneIsKeptThoughItsUnsignedHoldsTheWholeOldContent() {
        String reason = "R".repeat(40_000);
        String replacing = "{\"type\":\"m.policy.rule.user\",\"state_key\":\"big\",\"sender\":\"@mod:test\",\"event_id\":\"$new\","
                + "\"content\":{\"entity\":\"@c2:spam.example\",\"recommendation\":\"m.ban\",\"reason\":\"" + "S".repeat(40_000) + "\"},"
                + "\"unsigned\":{\"replaces_state\":\"$old\",\"prev_content\":{\"entity\":\"@c1:spam.example\","
                + "\"recommendation\":\"m.ban\",\"reason\":\"" + reason + "\"},\"prev_sender\":\"@mod:test\"}}";
        SyncAnswer answer = read("""
                {"next_batch":"s9","rooms":{"join":{"%s":{"timeline":{"events":[%s,%s],"limited":false}}}}}
                """.formatted(ROOM, rule(1), replacing));

        SyncAnswer.Room room = answer.joined().orElseThrow();
        assertThat(room.gap()).isFalse();
        assertThat(room.timeline()).extracting(event -> event.at("/content/entity").asString())
                .containsExactly("@spammer1:evil.example", "@c2:spam.example");
        assertThat(room.timeline().get(1).has("unsigned")).as("the homeserver's addition is not kept").isFalse();
    }

    @Test
    void keepsTheRoomsStateAndTimelineEventsInOrderAndSkipsEverythingElse() {
        SyncAnswer answer = read("""
                {"account_data":{"events":[{"type":"x"}]},"next_batch":"s7","presence":{},
                 "rooms":{"invite":{"%1$s":{}},
                          "join":{"!other:test":{"timeline":{"events":%2$s}},
                                  "%1$s":{"state":{"events":%3$s},"ephemeral":{"events":[]},
                                          "timeline":{"events":%4$s,"limited":false,"prev_batch":"p1"}}}},
                 "device_lists":{"changed":[]}}
                """.formatted(ROOM, events(90, 92), events(0, 2), events(2, 5)));

        assertThat(answer.nextBatch()).isEqualTo("s7");
        assertThat(answer.left()).isEmpty();
        SyncAnswer.Room room = answer.joined().orElseThrow();
        assertThat(room.gap()).isFalse();
        assertThat(room.state()).extracting(event -> event.path("state_key").asString()).containsExactly("rule:0", "rule:1");
        assertThat(room.timeline()).extracting(event -> event.path("state_key").asString())
                .containsExactly("rule:2", "rule:3", "rule:4");
    }

    @Test
    void anAnswerWithoutTheRoomHasNothingOfItAndOneThatReportsItLeftSaysSo() {
        assertThat(read("{\"next_batch\":\"s1\",\"rooms\":{\"join\":{\"!other:test\":{}}}}").joined()).isEmpty();
        assertThat(read("{\"next_batch\":\"s1\"}").joined()).isEmpty();

        SyncAnswer kicked = read("{\"next_batch\":\"s2\",\"rooms\":{\"leave\":{\"%s\":{\"timeline\":{\"events\":%s}}}}}"
                .formatted(ROOM, events(0, 3)));
        assertThat(kicked.left()).isPresent();
        assertThat(kicked.joined()).isEmpty();
        assertThat(read("{\"next_batch\":\"s2\",\"rooms\":{\"leave\":{\"!other:test\":{}}}}").left()).isEmpty();
    }

    @Test
    void aLimitedTimelineIsAGapWhereverItsFlagComesAndKeepsItsEvents() {
        SyncAnswer flagLast = read("{\"next_batch\":\"s3\",\"rooms\":{\"join\":{\"%s\":{\"state\":{\"events\":%s},\"timeline\":{\"events\":%s,\"limited\":true}}}}}"
                .formatted(ROOM, events(0, 10), events(10, 11)));
        SyncAnswer flagFirst = read("{\"next_batch\":\"s3\",\"rooms\":{\"join\":{\"%s\":{\"timeline\":{\"limited\":true,\"events\":%s}}}}}"
                .formatted(ROOM, events(10, 11)));

        for (SyncAnswer answer : new SyncAnswer[] {flagLast, flagFirst}) {
            SyncAnswer.Room room = answer.joined().orElseThrow();
            assertThat(room.gap()).isTrue();
            assertThat(room.cut()).isFalse();
            assertThat(room.timeline()).hasSize(1);
        }
        assertThat(flagLast.joined().orElseThrow().state()).hasSize(10);
    }

    @Test
    void anUnlimitedAnswerWhoseStateAndTimelineHoldOneSlotIsAGapForTheyCannotBeAppliedInOrder() {
        // a forked history: the timeline's [R1, R0] for one slot, the state section R1, which state resolution kept
        String kept = rule(1);
        String lost = rule(1).replace("\"$e1\"", "\"$e0\"").replace("@spammer1:", "@withdrawn:");
        SyncAnswer forked = read("{\"next_batch\":\"s4\",\"rooms\":{\"join\":{\"%s\":{\"state\":{\"events\":[%s]},\"timeline\":{\"events\":[%s,%s],\"limited\":false}}}}}"
                .formatted(ROOM, kept, kept, lost));
        SyncAnswer apart = read("{\"next_batch\":\"s4\",\"rooms\":{\"join\":{\"%s\":{\"state\":{\"events\":%s},\"timeline\":{\"events\":%s}}}}}"
                .formatted(ROOM, events(0, 2), events(2, 4)));

        assertThat(forked.joined().orElseThrow().gap()).isTrue();
        assertThat(forked.joined().orElseThrow().timeline()).hasSize(2);
        assertThat(apart.joined().orElseThrow().gap()).isFalse();
    }

    @Test
    void aSectionOfMoreEventsThanTheTimelineLimitIsAGapEvenUnflagged() {
        int limit = SyncAnswer.MAX_EVENTS;

        assertThat(read("{\"next_batch\":\"s4\",\"rooms\":{\"join\":{\"%s\":{\"state\":{\"events\":%s}}}}}"
                .formatted(ROOM, events(0, limit))).joined().orElseThrow().state()).hasSize(limit);
        assertThat(read("{\"next_batch\":\"s4\",\"rooms\":{\"join\":{\"%s\":{\"state\":{\"events\":%s}}}}}"
                .formatted(ROOM, events(0, limit + 1))).joined().orElseThrow().gap()).isTrue();
        SyncAnswer.Room tooLong = read("{\"next_batch\":\"s4\",\"rooms\":{\"join\":{\"%s\":{\"state\":{\"events\":%s},\"timeline\":{\"events\":%s,\"limited\":false}}}}}"
                .formatted(ROOM, events(0, 3), events(3, limit + 4))).joined().orElseThrow();
        assertThat(tooLong.gap()).isTrue();
        assertThat(tooLong.cut()).isTrue();
        assertThat(tooLong.state()).as("no section of a cut answer is kept").isEmpty();
        assertThat(tooLong.timeline()).isEmpty();
    }

    /**
     * A state delta of 300,000 rule events (about 45 MB), made as it is read: one tree of it would
     * take several times that; read as a stream, the answer keeps none of its events, and its token
     * after them is read.
     */
    @Test
    void aHugeStateDeltaIsReadAsAStreamAndKeptAsAGap() {
        int count = 300_000;
        InputStream answer = new SequenceInputStream(new Enumeration<>() {
            private int part = -1;

            @Override
            public boolean hasMoreElements() {
                return part <= count;
            }

            @Override
            public InputStream nextElement() {
                if (!hasMoreElements()) {
                    throw new NoSuchElementException();
                }
                String text = part == -1 ? "{\"rooms\":{\"join\":{\"" + ROOM + "\":{\"state\":{\"events\":["
                        : part == count ? "]},\"timeline\":{\"events\":[],\"limited\":false}}}},\"next_batch\":\"s5\"}"
                        : (part == 0 ? "" : ",") + rule(part);
                part++;
                return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
            }
        });

        SyncAnswer read;
        try (JsonParser parser = EventJson.MAPPER.createParser(answer)) {
            read = SyncAnswer.read(parser, ROOM);
        }

        assertThat(read.nextBatch()).isEqualTo("s5");
        assertThat(read.joined().orElseThrow().gap()).isTrue();
    }

    @Test
    void fieldsOfAnUnexpectedTypeAreReadAsAbsent() {
        assertThat(read("{\"next_batch\":\"s6\",\"rooms\":[]}").joined()).isEmpty();
        assertThat(read("{\"next_batch\":\"s6\",\"rooms\":{\"join\":\"" + ROOM + "\",\"leave\":[\"" + ROOM + "\"]}}").joined()).isEmpty();
        SyncAnswer.Room odd = read("{\"next_batch\":\"s6\",\"rooms\":{\"join\":{\"%s\":{\"state\":5,\"timeline\":{\"events\":{},\"limited\":\"yes\"}}}}}"
                .formatted(ROOM)).joined().orElseThrow();
        assertThat(odd.gap()).isFalse();
        assertThat(odd.state()).isEmpty();
        assertThat(odd.timeline()).isEmpty();
        for (String limited : new String[] {"{}", "[true]", "{\"a\":[1]}"}) {
            SyncAnswer.Room room = read("{\"next_batch\":\"s6\",\"rooms\":{\"join\":{\"%s\":{\"timeline\":{\"limited\":%s,\"events\":%s}}}}}"
                    .formatted(ROOM, limited, events(0, 2))).joined().orElseThrow();
            assertThat(room.gap()).as(limited).isFalse();
            assertThat(room.timeline()).as("the events after limited: %s", limited).hasSize(2);
        }
        // an event that is no object is passed over
        assertThat(read("{\"next_batch\":\"s6\",\"rooms\":{\"join\":{\"%s\":{\"timeline\":{\"events\":[1,null,\"x\"]}}}}}"
                .formatted(ROOM)).joined().orElseThrow().timeline()).isEmpty();
    }

    @Test
    void anAnswerThatIsNoObjectOrHasNoTokenIsRefusedAndBrokenJsonIsJacksons() {
        assertThatIllegalArgumentException().isThrownBy(() -> read("[]")).withMessage("not a JSON object");
        assertThatIllegalArgumentException().isThrownBy(() -> read("{\"rooms\":{}}")).withMessage("no next_batch");
        assertThatIllegalArgumentException().isThrownBy(() -> read("{\"next_batch\":\"\"}")).withMessage("no next_batch");
        assertThatIllegalArgumentException().isThrownBy(() -> read("{\"next_batch\":7}")).withMessage("no next_batch");
        assertThatIllegalArgumentException().isThrownBy(() -> read("{\"next_batch\":\"s8\"} {\"next_batch\":\"s9\"}"))
                .withMessage("more content after the answer");
        assertThatThrownBy(() -> read("{\"next_batch\":\"s8\",\"rooms\":{\"join\":{\"" + ROOM + "\":{\"state\":{\"events\":[{}"))
                .isInstanceOf(JacksonException.class);
    }
}
