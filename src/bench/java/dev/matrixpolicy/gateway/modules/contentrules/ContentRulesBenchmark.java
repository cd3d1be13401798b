package dev.matrixpolicy.gateway.modules.contentrules;

import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.state.MemoryState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One {@code check_event_for_spam} through {@code content_rules} with 1,000 keywords, 100 regexes,
 * a link rule (100 denied domains, at most 10 links) and a mention rule (at most 20 users, no
 * {@code @room}), on a 2 KiB message that no rule refuses, so every check runs: the bar is 20 µs.
 * The event is parsed once; what is measured is the module's work.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ContentRulesBenchmark {

    @Param({"ascii", "unicode"})
    String text;

    /** Whether a last rule counts the message in the rooms it was sent to ({@code repeated}, in memory). */
    @Param({"false", "true"})
    boolean repeated;

    ContentRules rules;
    CheckEventForSpam.Args event;

    @Setup
    public void build() {
        List<String> keywords = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            keywords.add("spamword" + Integer.toString(i * 7919, 36));
        }
        List<String> regexes = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            regexes.add("promo" + i + "code\\s*\\d{3,}");
            regexes.add("https?://short" + i + "\\.example/\\w{4,}");
        }
        List<String> denied = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            denied.add("spam" + i + ".example");
        }
        List<ContentRulesConfig.Rule> ruleList = new ArrayList<>(List.of(
                new ContentRulesConfig.Rule("words", "M_FORBIDDEN", null, null, keywords, null, regexes, null, null, null, null, null),
                new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                        new ContentRulesConfig.Links(List.of(), denied, 10), null, null, null),
                new ContentRulesConfig.Rule("mentions", "M_FORBIDDEN", null, null, null, null, null,
                        new ContentRulesConfig.Mentions(20, false), null, null, null, null)));
        if (repeated) { // the same room each time: counted, never refused
            ruleList.add(new ContentRulesConfig.Rule("copypasta", "M_FORBIDDEN", null, null, null, null, null, null, null, null,
                    new ContentRulesConfig.Repeated(3, Duration.ofMinutes(10), 20), null));
        }
        ContentRulesConfig config = new ContentRulesConfig(ruleList, List.of("check_event_for_spam"), 16384, null);
        MemoryState state = new MemoryState();
        rules = new ContentRulesModuleType(state).create(config,
                new ModuleContext("bench", "example.com", new SimpleMeterRegistry()), new SharedRecentMessages(state, "bench"));
        String paragraph = text.equals("ascii")
                ? "Hi @alice:example.org, the meeting notes are at https://docs.example.com/notes/2026 and the "
                        + "recording is on https://video.example.net/watch?v=abc123. Please review before Friday. "
                : "Grüße @alice:example.org, die Notizen sind unter https://docs.example.com/notizen — bitte "
                        + "bis Freitag lesen. Ça va? Привет всем, до встречи 🙂 ";
        StringBuilder body = new StringBuilder();
        while (body.length() < 1400) {
            body.append(paragraph);
        }
        String formatted = "<p>" + body.substring(0, 560).replace("https://docs.example.com/notes/2026",
                "<a href=\"https://docs.example.com/notes/2026\">notes</a>") + "</p>";
        ObjectNode content = JsonMapper.builder().build().createObjectNode()
                .put("msgtype", "m.text").put("body", body.toString())
                .put("format", "org.matrix.custom.html").put("formatted_body", formatted);
        ObjectNode json = JsonMapper.builder().build().createObjectNode()
                .put("event_id", "$event").put("room_id", "!room:example.com").put("type", "m.room.message")
                .put("sender", "@bob:example.com");
        json.set("content", content);
        event = new CheckEventForSpam.Args(new ClientEvent(json));
        if (rules.checkEventForSpam(event) != SpamVerdict.NOT_SPAM) {
            throw new IllegalStateException("the benchmark's event should pass every rule");
        }
    }

    @Benchmark
    public SpamVerdict innocentMessage() {
        return rules.checkEventForSpam(event);
    }
}
