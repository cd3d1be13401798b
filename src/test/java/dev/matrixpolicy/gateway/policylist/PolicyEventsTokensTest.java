package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.Gen;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Files and URLs are read off the parser's tokens, a policy room's timeline from trees: both must read
 * every event alike, however odd, or a list would mean one thing in a file and another in a room.
 */
class PolicyEventsTokensTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final List<String> TYPES = List.of("m.policy.rule.user", "m.policy.rule.room", "m.policy.rule.server",
            "m.room.rule.user", "org.matrix.mjolnir.rule.server", "m.room.member", "");
    private static final List<String> RECOMMENDATIONS = List.of("m.ban", "m.takedown", "org.matrix.mjolnir.ban",
            "org.matrix.msc4204.takedown", "m.allow", "org.example.mute", "");
    private static final List<String> ENTITIES = List.of("@spammer:example.org", "*:evil.example", "!room:example.org",
            "evil.example", "@a?c:*", "");

    @Test
    void tokensAndTreesReadEveryEventAlike() {
        Gen.forAll(13L, 5_000, PolicyEventsTokensTest::event, event -> {
            String json = event.toString();
            Optional<PolicyEvents.Change> fromTree = PolicyEvents.read(JSON.readTree(json), "community");
            try (JsonParser parser = JSON.createParser(json)) {
                parser.nextToken();
                assertThat(PolicyEvents.read(parser, "community")).isEqualTo(fromTree);
                assertThat(parser.nextToken()).as("the parser is left on the event's last token").isNull();
            }
        });
    }

    @Test
    void aRepeatedFieldCountsLastAsInATree() {
        String json = """
                {"type": "m.policy.rule.user", "state_key": "a", "content": {"entity": "@a:x", "recommendation": "m.ban"},
                 "content": {"entity": "@b:x", "recommendation": "m.ban", "entity": 7}}""";
        try (JsonParser parser = JSON.createParser(json)) {
            parser.nextToken();
            assertThat(PolicyEvents.read(parser, "community")).isEqualTo(PolicyEvents.read(JSON.readTree(json), "community"))
                    .hasValueSatisfying(change -> assertThat(change).isInstanceOf(PolicyEvents.Cleared.class));
        }
    }

    /** A rule event, more often than not with something wrong, missing, repeated or out of place. */
    private static ObjectNode event(Gen gen) {
        ObjectNode event = NODES.objectNode();
        for (int field = gen.between(0, 7); field > 0; field--) {
            switch (gen.between(0, 6)) {
                case 0 -> event.set("type", gen.chance(0.8) ? NODES.stringNode(gen.oneOf(TYPES)) : oddValue(gen));
                case 1 -> event.set("state_key", gen.chance(0.8) ? NODES.stringNode(gen.string(6)) : oddValue(gen));
                case 2 -> event.set("event_id", gen.chance(0.8) ? NODES.stringNode("$" + gen.string(8)) : oddValue(gen));
                case 3 -> event.set("sender", gen.chance(0.8) ? NODES.stringNode(gen.userId()) : oddValue(gen));
                case 4, 5 -> event.set("content", gen.chance(0.85) ? content(gen) : oddValue(gen));
                default -> event.set(gen.string(5), oddValue(gen));
            }
        }
        return event;
    }

    private static ObjectNode content(Gen gen) {
        ObjectNode content = NODES.objectNode();
        for (int field = gen.between(0, 5); field > 0; field--) {
            switch (gen.between(0, 5)) {
                case 0 -> content.set("recommendation", gen.chance(0.8) ? NODES.stringNode(gen.oneOf(RECOMMENDATIONS)) : oddValue(gen));
                case 1 -> content.set("entity", gen.chance(0.8) ? NODES.stringNode(gen.oneOf(ENTITIES)) : oddValue(gen));
                case 2 -> content.set("reason", gen.chance(0.8) ? NODES.stringNode(gen.string(10)) : oddValue(gen));
                case 3, 4 -> content.set(gen.chance(0.5) ? "hashes" : "org.matrix.msc4205.hashes", hashes(gen));
                default -> content.set(gen.string(4), oddValue(gen));
            }
        }
        return content;
    }

    private static tools.jackson.databind.JsonNode hashes(Gen gen) {
        if (gen.chance(0.2)) {
            return oddValue(gen);
        }
        ObjectNode hashes = NODES.objectNode();
        if (gen.chance(0.8)) {
            hashes.set("sha256", gen.chance(0.8)
                    ? NODES.stringNode(gen.chance(0.7) ? Entity.hashOf(gen.userId()) : gen.string(12)) : oddValue(gen));
        }
        if (gen.chance(0.3)) {
            hashes.set("sha512", NODES.stringNode(gen.string(8)));
        }
        return hashes;
    }

    private static tools.jackson.databind.JsonNode oddValue(Gen gen) {
        return switch (gen.between(0, 5)) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.numberNode(gen.between(-5, 5));
            case 2 -> NODES.booleanNode(gen.chance(0.5));
            case 3 -> NODES.arrayNode().add(gen.string(3)).add(NODES.objectNode().put("entity", "@x:y"));
            case 4 -> NODES.objectNode();
            default -> NODES.objectNode().set("sha256", NODES.stringNode(gen.string(3)));
        };
    }
}
