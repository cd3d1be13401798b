package dev.matrixpolicy.gateway.modules.contentrules;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.client.WireMock.serverError;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckMediaFileForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckRegistrationForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckUsernameForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.MediaFile;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySendStateEvent;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserProfile;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Reply;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.dispatch.CallbackEndpoint;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.state.RedisState;
import dev.matrixpolicy.gateway.state.SharedState;
import dev.matrixpolicy.gateway.state.StateUnavailableException;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.ModuleConfigs;
import dev.matrixpolicy.gateway.support.Ports;
import dev.matrixpolicy.gateway.support.Warnings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Each check of a rule, who is exempt, what a refusal carries, and that hostile input stays bounded. */
class ContentRulesTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String SPAMMER = "@spammer:example.com";

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @TempDir
    Path dir;

    @RegisterExtension
    static final WireMockExtension hashServer = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    @RegisterExtension
    final Warnings warnings = new Warnings();

    /** The INFO line of each refusal. */
    @RegisterExtension
    final LoggedLines matches = LoggedLines.of(ContentRules.class, Level.INFO);

    /** The one WARN line a test provokes, kept off the console. */
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("content: keeping the 2 media hashes loaded before");

    static ContentRulesConfig.Rule rule(String name) {
        return new ContentRulesConfig.Rule(name, "M_FORBIDDEN", null, null, null, null, null, null, null, null, null, null);
    }

    static ContentRulesConfig.Rule words(String name, List<String> keywords, List<String> phrases, List<String> regexes) {
        return new ContentRulesConfig.Rule(name, "M_FORBIDDEN", null, null, keywords, phrases, regexes, null, null, null, null, null);
    }

    private ContentRules module(int maxScanned, ContentRulesConfig.Rule... rules) {
        return module(new MemoryState(), maxScanned, rules);
    }

    /** An instance named {@code content} counting in {@code state}, as every replica's does in a shared Redis. */
    private ContentRules module(SharedState state, int maxScanned, ContentRulesConfig.Rule... rules) {
        return module(state, new ContentRulesConfig(List.of(rules), List.of("check_event_for_spam",
                "user_may_send_state_event", "check_username_for_spam", "check_registration_for_spam",
                "check_media_file_for_spam"), maxScanned, null));
    }

    private ContentRules module(SharedState state, ContentRulesConfig config) {
        return (ContentRules) new ContentRulesModuleType(state).create(config, new ModuleContext("content", "example.com", meters));
    }

    private ContentRules module(ContentRulesConfig.Rule... rules) {
        return module(16384, rules);
    }

    static CheckEventForSpam.Args message(String sender, String room, String contentJson) {
        return event("m.room.message", sender, room, contentJson);
    }

    static CheckEventForSpam.Args event(String type, String sender, String room, String contentJson) {
        ObjectNode event = (ObjectNode) JSON.readTree("{\"event_id\": \"$e\", \"room_id\": \"" + room + "\", \"type\": \""
                + type + "\", \"sender\": \"" + sender + "\", \"content\": " + contentJson + "}");
        return new CheckEventForSpam.Args(new ClientEvent(event));
    }

    /** A rule of {@code repeated} alone, refusing past {@code maxRooms} rooms within 10 minutes. */
    static ContentRulesConfig.Rule repeated(int maxRooms, int minLength) {
        return new ContentRulesConfig.Rule("repeated", "M_FORBIDDEN", null, null, null, null, null, null, null, null,
                new ContentRulesConfig.Repeated(maxRooms, Duration.ofMinutes(10), minLength), null);
    }

    static CheckEventForSpam.Args body(String body) {
        return message(SPAMMER, "!room:example.com", JSON.createObjectNode().put("msgtype", "m.text").put("body", body).toString());
    }

    private double matches(String rule) {
        return meters.counter("policy.module.content_rules.matches", "module", "content", "rule", rule).count();
    }

    @Test
    void keywordsMatchWholeWordsAndPhrasesMatchAnywhere() {
        ContentRules rules = module(words("words", List.of("coin"), List.of("casino"), List.of()));

        assertThat(rules.checkEventForSpam(body("free COIN here"))).isEqualTo(Rejection.of("M_FORBIDDEN"));
        assertThat(rules.checkEventForSpam(body("bitcoin is fine"))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(body("onlinecasinos!"))).isInstanceOf(Rejection.class);
    }

    /** What clients show of a file and of a reaction, though neither is its body. */
    @Test
    void aFilesNameAndAReactionsKeyAreReadAsText() {
        ContentRules rules = module(new ContentRulesConfig.Rule("words", "M_FORBIDDEN", null, null, List.of("airdrop"), null,
                null, null, new ContentRulesConfig.Links(List.of(), List.of("bit.ly"), null), null, null, null));
        String file = JSON.createObjectNode().put("msgtype", "m.file").put("body", ".").put("filename", "free airdrop.pdf")
                .put("url", "mxc://x/y").toString();
        ObjectNode reaction = JSON.createObjectNode();
        reaction.putObject("m.relates_to").put("rel_type", "m.annotation").put("event_id", "$e").put("key", "see https://bit.ly/x");
        ObjectNode thumbsUp = JSON.createObjectNode();
        thumbsUp.putObject("m.relates_to").put("rel_type", "m.annotation").put("event_id", "$e").put("key", "👍");

        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", file))).as("a file's name").isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(event("m.reaction", SPAMMER, "!r:x", reaction.toString()))).as("a reaction's key")
                .isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(event("m.reaction", SPAMMER, "!r:x", thumbsUp.toString()))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** Chinese, Japanese and Thai write no space between words: a keyword there, or beside them, is a word. */
    @Test
    void aKeywordInOrBesideAScriptWrittenWithoutSpacesIsAWord() {
        ContentRules rules = module(words("words", List.of("空投", "airdrop", "エアドロップ", "แจกฟรี"), List.of(), List.of()));

        assertThat(rules.checkEventForSpam(body("快来领取空投吧"))).as("Chinese").isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(body("免费airdrop领取"))).as("a Latin word between Chinese").isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(body("今すぐエアドロップを受け取る"))).as("Japanese").isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(body("วันนี้แจกฟรีเท่านั้น"))).as("Thai").isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(body("airdropping and myairdrop"))).as("inside a word of a spaced script")
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void lookAlikesAndHiddenCharactersDoNotHideAKeyword() {
        ContentRules rules = module(words("words", List.of("paypal"), List.of(), List.of()));

        assertThat(rules.checkEventForSpam(body("your \u0420\u0430y\u200Bpal account"))).isInstanceOf(Rejection.class);
        for (String control : List.of("\u0000", "\u0007", "\u001B", "\u007F", "\u0085", "\u009B")) {
            assertThat(rules.checkEventForSpam(body("your pay" + control + "pal account"))).as("U+%04X, shown as nothing",
                    (int) control.charAt(0)).isInstanceOf(Rejection.class);
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", JSON.createObjectNode().put("body", "hi")
                    .put("format", "org.matrix.custom.html").put("formatted_body", "<b>pay" + control + "pal</b>").toString())))
                    .as("U+%04X in HTML", (int) control.charAt(0)).isInstanceOf(Rejection.class);
        }
        assertThat(rules.checkEventForSpam(body("pay\tpal and pay\npal"))).as("white space still splits").isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void regexesMatchTheNormalisedTextIgnoringCase() {
        ContentRules rules = module(words("regex", List.of(), List.of(), List.of("free\\s+bitcoin\\d+", "^[a-z]{40,}$")));

        assertThat(rules.checkEventForSpam(body("FREE   Bitcoin2026"))).isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(body("a".repeat(50)))).isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(body("free bitcoin later"))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void aMessageOverTheMentionLimitIsRefusedWithTheConfiguredErrcode() {
        ContentRules rules = module(new ContentRulesConfig.Rule("mentions", "M_LIMIT_EXCEEDED", "Too many mentions", null,
                null, null, null, new ContentRulesConfig.Mentions(2, false), null, null, null, null));

        SpamVerdict three = rules.checkEventForSpam(message(SPAMMER, "!r:example.com", "{\"body\": \"hi @a:x.org\", "
                + "\"formatted_body\": \"<a href='https://matrix.to/#/@b:x.org'>B</a>\", \"m.mentions\": {\"user_ids\": [\"@c:x.org\", \"@a:x.org\"]}}"));
        SpamVerdict two = rules.checkEventForSpam(message(SPAMMER, "!r:example.com", "{\"body\": \"hi @a:x.org and @b:x.org.\"}"));
        SpamVerdict room = rules.checkEventForSpam(message(SPAMMER, "!r:example.com", "{\"body\": \"@room look\"}"));

        assertThat(three).isEqualTo(new Rejection("M_LIMIT_EXCEEDED", Optional.of("Too many mentions")));
        assertThat(two).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(room).isInstanceOf(Rejection.class);
        assertThat(matches("mentions")).isEqualTo(2);
    }

    @Test
    void timesAddressesAndARoomMentionThatPingsNoOneAreNotCountedAsMentions() {
        ContentRules rules = module(new ContentRulesConfig.Rule("mentions", "M_FORBIDDEN", null, null, null, null, null,
                new ContentRulesConfig.Mentions(3, false), null, null, null, null));

        for (String content : List.of("{\"body\": \"meet @10:30 or @11:30 or @12:30 or @13:30\"}",
                "{\"body\": \"git@github.com:a/x.git git@github.com:b/x.git git@github.com:c/x.git git@github.com:d/x.git\"}",
                "{\"body\": \"@room look\", \"m.mentions\": {}}",
                "{\"body\": \"hi\", \"m.mentions\": {\"room\": \"true\"}}")) {
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(content).isEqualTo(SpamVerdict.NOT_SPAM);
        }
        for (String content : List.of("{\"body\": \"@a:x.org @b:1.2.3.4 @c:[::1]:8448 @d:x.org:8448\"}",
                "{\"body\": \"(@a:x.org,@b:x.org,@c:x.org,@d:x.org)\"}",
                "{\"body\": \"@room look\"}", "{\"body\": \"hi\", \"m.mentions\": {\"room\": true}}")) {
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(content).isInstanceOf(Rejection.class);
        }
    }

    /**
     * Synapse pings the room for {@code @room} as a word of the body ({@code .m.rule.roomnotif}, matched
     * as {@code (?:^|\b|\W)@room(?:\b|\W|$)}): whatever precedes it, and before any character that
     * is no letter, digit or {@code _}, a colon or a full stop too; and whoever else the message mentions.
     */
    @Test
    void aRoomMentionIsReadAsSynapseMatchesItWhateverFollowsThatEndsAWordAndWhoeverElseIsMentioned() {
        ContentRules noRoom = module(new ContentRulesConfig.Rule("no-room", "M_FORBIDDEN", null, null, null, null, null,
                new ContentRulesConfig.Mentions(null, false), null, null, null, null));

        for (String body : List.of("@room: free airdrop", "read this @room.", "@room-wide news", "hey@room look", "@ROOM/all",
                "hi @alice:example.org and @bob:example.org, @room look", "@room:example.org", "@room\u200Bs free airdrop",
                "@Room\u2060everyone")) {
            String content = JSON.createObjectNode().put("body", body).toString();
            assertThat(noRoom.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(body).isInstanceOf(Rejection.class);
        }
        for (String body : List.of("@rooms are big", "@room_1", "@roomba")) {
            String content = JSON.createObjectNode().put("body", body).toString();
            assertThat(noRoom.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(body).isEqualTo(SpamVerdict.NOT_SPAM);
        }
    }

    /** A rule that refuses a second user mentioned. */
    private static ContentRulesConfig.Rule oneMention() {
        return new ContentRulesConfig.Rule("mentions", "M_FORBIDDEN", null, null, null, null, null,
                new ContentRulesConfig.Mentions(1, true), null, null, null, null);
    }

    /** {@link #oneMention} in an instance that folds look-alikes, diacritics and leet. */
    private ContentRules oneMentionFoldingEverything() {
        return folding(true, oneMention());
    }

    @Test
    void aListedMentionAndTheSameIdInTheTextAreOneUserWhateverTheFolding() {
        ContentRules leet = oneMentionFoldingEverything();
        String pill = "{\"body\": \"hi Bob\", \"formatted_body\": \"hi <a href='https://matrix.to/#/@Bob1:x.org'>Bob</a>\", "
                + "\"m.mentions\": {\"user_ids\": [\"@Bob1:x.org\"]}}";

        assertThat(leet.checkEventForSpam(message(SPAMMER, "!r:x", pill))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(leet.checkEventForSpam(message(SPAMMER, "!r:x", pill.replace("hi Bob\"", "hi Bob and @carol:x.org\""))))
                .isInstanceOf(Rejection.class);
    }

    @Test
    void fullwidthAtSignsAreReadAsMentionsWithFoldLeetAsWithout() {
        String text = "\uFF20alice:x.org \uFE6Bbob:x.org";

        assertThat(folding(false, oneMention()).checkEventForSpam(body(text))).isInstanceOf(Rejection.class);
        assertThat(folding(true, oneMention()).checkEventForSpam(body(text))).isInstanceOf(Rejection.class);
    }

    @Test
    void aUserIdIsReadUnfoldedSoLeetSpellingsAreDistinctUsersAndATimeIsNoMention() {
        ContentRules folding = oneMentionFoldingEverything();

        assertThat(folding.checkEventForSpam(body("hi @bob:x.org, @b0b:x.org"))).as("leet").isInstanceOf(Rejection.class);
        assertThat(folding.checkEventForSpam(body("hi @bob:x.org, @bob:x.0rg"))).as("leet in the server").isInstanceOf(Rejection.class);
        assertThat(folding.checkEventForSpam(body("hi @bob:x.org, @BOB:x.org and @bob:x.org."))).as("case").isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(folding.checkEventForSpam(body("@bob:x.org, meet @10:30 or @11:45"))).as("times").isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void aSpammyLinkIsRefusedWithItsSubdomainsAndAnAllowListRefusesTheRest() {
        ContentRules denied = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of(), List.of("spam.example"), 2), null, null, null));
        ContentRules allowed = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of("matrix.org"), List.of(), null), null, null, null));

        assertThat(denied.checkEventForSpam(body("see https://Promo.SPAM.example/x"))).isInstanceOf(Rejection.class);
        assertThat(denied.checkEventForSpam(message(SPAMMER, "!r:example.com",
                "{\"body\": \"click\", \"formatted_body\": \"<a href=\\\"https://www.spam.example\\\">here</a>\"}"))).isInstanceOf(Rejection.class);
        assertThat(denied.checkEventForSpam(body("see https://notspam.example and https://spam.example.org"))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(denied.checkEventForSpam(body("http://a.org http://b.org http://c.org"))).isInstanceOf(Rejection.class);
        assertThat(allowed.checkEventForSpam(body("docs at https://spec.matrix.org/latest"))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(allowed.checkEventForSpam(body("docs at https://matrix.org.evil.example/"))).isInstanceOf(Rejection.class);
    }

    @Test
    void aDomainWrittenWithoutASchemeIsALinkAsClientsShowOne() {
        ContentRules denied = module(links(List.of(), List.of("bit.ly"), 2));
        ContentRules allowed = module(links(List.of("matrix.org"), List.of(), null));

        for (String spam : List.of("free nitro at bit.ly/3xYz", "FREE NITRO: WWW.BIT.LY", "(bit.ly/a)", "see a.org b.org c.org")) {
            assertThat(denied.checkEventForSpam(body(spam))).as(spam).isInstanceOf(Rejection.class);
        }
        assertThat(allowed.checkEventForSpam(body("claim it on nitro-gift.com/claim"))).isInstanceOf(Rejection.class);
        assertThat(allowed.checkEventForSpam(body("read spec.matrix.org/latest, e.g. the node.js SDK, ask @alice:evil.com")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** An instance that folds look-alikes and diacritics, and digits too when {@code leet}. */
    private ContentRules folding(boolean leet, ContentRulesConfig.Rule rule) {
        return module(new MemoryState(), new ContentRulesConfig(List.of(rule), List.of("check_event_for_spam"), 16384,
                new ContentRulesConfig.Normalisation(true, true, leet)));
    }

    private static ContentRulesConfig.Rule links(List<String> allowed, List<String> denied, Integer maxCount) {
        return new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(allowed, denied, maxCount), null, null, null);
    }

    @Test
    void withFoldLeetAPriceOrAVersionIsNoLinkWhileALeetDomainStillIs() {
        assertThat(folding(true, links(List.of("matrix.org"), List.of(), null)).checkEventForSpam(body("it costs 9.99 today")))
                .as("9.99 is no link to g.gg").isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(folding(true, links(List.of(), List.of(), 1)).checkEventForSpam(body("1.50 or 2.50 in version 1.10, see matrix.org")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
        ContentRules denied = folding(true, links(List.of(), List.of("bit.ly", "xn--80ak6aa92e.com"), null));
        for (String spam : List.of("b1t.ly/x", "https://b1t.ly/x", "https://xn--80ak6aa92e.com/", "https://\u0430\u0440\u0440\u04CF\u0435.com/")) {
            assertThat(denied.checkEventForSpam(body("see " + spam))).as(spam).isInstanceOf(Rejection.class);
        }
    }

    @Test
    void aBareHostUnderANonLatinTopLevelDomainIsDeniedThoughFoldingChangesTheDomain() {
        ContentRules denied = folding(false, links(List.of(), List.of("\u043F\u0440\u0438\u043C\u0435\u0440.\u0440\u0444"), null));

        assertThat(denied.checkEventForSpam(body("https://\u043F\u0440\u0438\u043C\u0435\u0440.\u0440\u0444/x"))).isInstanceOf(Rejection.class);
        assertThat(denied.checkEventForSpam(body("visit \u043F\u0440\u0438\u043C\u0435\u0440.\u0440\u0444/x"))).isInstanceOf(Rejection.class);
        assertThat(denied.checkEventForSpam(body("visit \u043F\u0440\u0438\u043C\u0435\u0440.\u0440\u0443/x"))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void aDomainIsOneWhetherWrittenInUnicodeOrInIdnasAsciiForm() {
        for (String deniedDomain : List.of("bücher.example", "xn--bcher-kva.example", "XN--BCHER-KVA.example")) {
            ContentRules denied = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                    new ContentRulesConfig.Links(List.of(), List.of(deniedDomain), null), null, null, null));
            for (String link : List.of("https://xn--bcher-kva.example/", "https://www.XN--BCHER-KVA.example/x", "https://bücher.example/",
                    "https://BÜCHER.example/")) {
                assertThat(denied.checkEventForSpam(body("see " + link))).as(deniedDomain + " denies " + link).isInstanceOf(Rejection.class);
            }
            assertThat(denied.checkEventForSpam(body("see https://xn--bcher-kva.example.org/ and https://xn--zz-.example/")))
                    .as(deniedDomain).isEqualTo(SpamVerdict.NOT_SPAM);
        }
        ContentRules garbage = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of(), List.of("xn--zz-.example"), null), null, null, null));
        assertThat(garbage.checkEventForSpam(body("see https://xn--zz-.example/"))).as("kept as written").isInstanceOf(Rejection.class);
        ContentRules apple = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of(), List.of("apple.com"), null), null, null, null));
        assertThat(apple.checkEventForSpam(body("see https://xn--80ak6aa92e.com/"))).as("Cyrillic аррӏе, look-alikes folded")
                .isInstanceOf(Rejection.class);
    }

    @Test
    void aMarkdownLinkAndTheHrefItBecomesCountOnce() {
        ContentRules rules = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of(), List.of(), 5), null, null, null));
        String three = JSON.createObjectNode()
                .put("body", "[a](https://example.com/a) [b](https://example.com/b) [c](https://example.com/c)")
                .put("formatted_body", "<a href=\"https://example.com/a\">a</a> <a href=\"https://example.com/b\">b</a> "
                        + "<a href=\"https://example.com/c\">c</a>").toString();

        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", three))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void anAllowListIsNeverMetByALookAlikeOfTheDomainItAllows() {
        ContentRules allowed = module(new MemoryState(), new ContentRulesConfig(List.of(new ContentRulesConfig.Rule("links",
                "M_FORBIDDEN", null, null, null, null, null, null, new ContentRulesConfig.Links(List.of("example.com", "bücher.example"),
                List.of(), null), null, null, null)), List.of("check_event_for_spam"), 16384,
                new ContentRulesConfig.Normalisation(true, true, true)));

        for (String link : List.of("https://ex\u0430mple.com/", "https://ex\u00E1mple.com/", "https://xn--exmple-qta.com/",
                "https://examp\u04CFe.com/", "https://3xample.com/", "https://www.ex\u0430mple.com/")) {
            assertThat(allowed.checkEventForSpam(body("see " + link))).as(link).isInstanceOf(Rejection.class);
        }
        for (String link : List.of("https://example.com/", "https://WWW.Example.COM./x", "https://\uFF45xample.com/",
                "https://xn--bcher-kva.example/", "https://B\u00FCcher.example/")) {
            assertThat(allowed.checkEventForSpam(body("see " + link))).as(link).isEqualTo(SpamVerdict.NOT_SPAM);
        }
    }

    @Test
    void lengthCountsCodePointsOfTheBody() {
        ContentRules rules = module(new ContentRulesConfig.Rule("length", "M_TOO_LARGE", null, null, null, null, null, null,
                null, 5, null, null));

        assertThat(rules.checkEventForSpam(body("😀😀😀😀😀"))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(body("123456"))).isEqualTo(Rejection.of("M_TOO_LARGE"));
    }

    @Test
    void theSameTextFromOneSenderInTooManyRoomsIsRefused() {
        ContentRules rules = module(repeated(2, 20));
        String content = "{\"body\": \"Join my server at spam.example!\"}";

        assertThat(rules.checkEventForSpam(message(SPAMMER, "!a:x", content))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!a:x", "{\"body\": \"join  MY server at spam.example!\"}")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!b:x", content))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message("@other:x", "!c:x", content))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!c:x", content))).isInstanceOf(Rejection.class);
    }

    @Test
    void aRepeatedBodyOrFormattedBodyIsRefusedWhateverTheOtherOneSays() {
        ContentRules rules = module(repeated(2, 20));
        String shown = "<p>Join my server at <b>spam.example</b> now!</p>";
        String body = "Join my server at spam.example now!";

        for (String room : List.of("!a:x", "!b:x")) {
            assertThat(rules.checkEventForSpam(message(SPAMMER, room, "{\"body\": \"fallback " + room + " nobody reads\","
                    + " \"format\": \"org.matrix.custom.html\", \"formatted_body\": \"" + shown + "\"}"))).isEqualTo(SpamVerdict.NOT_SPAM);
        }
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!c:x", "{\"body\": \"yet another fallback for !c:x\","
                + " \"format\": \"org.matrix.custom.html\", \"formatted_body\": \"" + shown + "\"}"))).isInstanceOf(Rejection.class);

        for (String room : List.of("!d:x", "!e:x")) {
            assertThat(rules.checkEventForSpam(message("@other:x", room, "{\"body\": \"" + body + "\", \"format\":"
                    + " \"org.matrix.custom.html\", \"formatted_body\": \"<i>varied in " + room + " for clients</i>\"}")))
                    .isEqualTo(SpamVerdict.NOT_SPAM);
        }
        assertThat(rules.checkEventForSpam(message("@other:x", "!f:x", "{\"body\": \"" + body + "\"}"))).isInstanceOf(Rejection.class);
    }

    @Test
    void aShortConstantFallbackBodyIsNotCountedWhateverTheFormattedBodySays() {
        ContentRules rules = module(repeated(1, 20));

        for (String room : List.of("!a:x", "!b:x", "!c:x")) {
            assertThat(rules.checkEventForSpam(message("@bridge:x", room, "{\"body\": \"[HTML message]\","
                    + " \"format\": \"org.matrix.custom.html\", \"formatted_body\": \"<p>A different long message for " + room + "</p>\"}")))
                    .as(room).isEqualTo(SpamVerdict.NOT_SPAM);
        }
    }

    @Test
    void anEditIsCountedByTheNewContentItShows() {
        ContentRules rules = module(repeated(1, 20));
        String edit = "{\"body\": \"* %s\", \"m.new_content\": {\"body\": \"Join my server at spam.example!\"},"
                + " \"m.relates_to\": {\"rel_type\": \"m.replace\", \"event_id\": \"$original\"}}";

        assertThat(rules.checkEventForSpam(message(SPAMMER, "!a:x", edit.formatted("typo fixed in a")))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!b:x", edit.formatted("typo fixed in b")))).isInstanceOf(Rejection.class);
    }

    /** Clients show {@code m.new_content} only for an {@code m.replace}; any other message shows its own body. */
    @Test
    void newContentWithoutTheReplaceRelationDoesNotHideTheBodyClientsShow() {
        ContentRules rules = module(repeated(1, 20));
        String body = "Join my great channel for amazing deals today friends";
        List<String> disguises = List.of("{}", "{\"body\": \"varied in %s\"}");

        for (String disguise : disguises) {
            for (String relation : List.of("", ", \"m.relates_to\": {\"rel_type\": \"m.thread\", \"event_id\": \"$t\"}")) {
                String room = "!" + Math.abs((disguise + relation).hashCode()) + ":x";
                assertThat(rules.checkEventForSpam(message("@" + room.hashCode() + ":x", room, "{\"body\": \"" + body + "\","
                        + " \"m.new_content\": " + disguise.formatted(room) + relation + "}")))
                        .as("the first room").isEqualTo(SpamVerdict.NOT_SPAM);
                assertThat(rules.checkEventForSpam(message("@" + room.hashCode() + ":x", "!second:x", "{\"body\": \"" + body + "\","
                        + " \"m.new_content\": " + disguise.formatted("!second:x") + relation + "}")))
                        .as(disguise + relation).isInstanceOf(Rejection.class);
            }
        }
    }

    @Test
    void eventsWithoutTextAreNeverCountedAsRepeated() {
        ContentRules rules = module(repeated(1, 1));
        String encrypted = "{\"algorithm\": \"m.megolm.v1.aes-sha2\", \"ciphertext\": \"AwgAEn...\", \"session_id\": \"s\"}";
        String reaction = "{\"m.relates_to\": {\"rel_type\": \"m.annotation\", \"event_id\": \"$x\", \"key\": \"+1\"}}";

        for (String room : List.of("!a:x", "!b:x", "!c:x", "!d:x")) {
            assertThat(rules.checkEventForSpam(event("m.room.encrypted", SPAMMER, room, encrypted))).isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(rules.checkEventForSpam(event("m.reaction", SPAMMER, room, reaction))).isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(rules.checkEventForSpam(event("m.room.redaction", SPAMMER, room, "{\"redacts\": \"$x\"}")))
                    .isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(rules.checkEventForSpam(message(SPAMMER, room, "{\"body\": \" \\u200B \"}"))).isEqualTo(SpamVerdict.NOT_SPAM);
        }
    }

    @Test
    void bodiesShorterThanTwentyCharactersAreNotCountedAsRepeatedByDefault() {
        ContentRules rules = module(ModuleConfigs.bind(ContentRulesConfig.class, Map.of(),
                Map.of("rules[0].name", "copypasta", "rules[0].repeated.max-rooms", "1")).rules().getFirst());
        String twenty = "{\"body\": \"Free coins, DM me!!!\"}";

        for (String room : List.of("!a:x", "!b:x", "!c:x")) {
            assertThat(rules.checkEventForSpam(message(SPAMMER, room, "{\"body\": \"thanks\", \"formatted_body\": \"<b>thanks</b>\"}")))
                    .isEqualTo(SpamVerdict.NOT_SPAM);
        }
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!a:x", twenty))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!b:x", twenty))).isInstanceOf(Rejection.class);
    }

    @Test
    void replicasSharingOneStateCountTheRoomsTogether() {
        MemoryState shared = new MemoryState();
        ContentRules first = module(shared, 16384, repeated(1, 20));
        ContentRules second = module(shared, 16384, repeated(1, 20));
        String content = "{\"body\": \"Join my server at spam.example!\"}";

        assertThat(first.checkEventForSpam(message(SPAMMER, "!a:x", content))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(second.checkEventForSpam(message(SPAMMER, "!b:x", content))).isInstanceOf(Rejection.class);
    }

    /**
     * Synapse asks about a remote server's event before it checks its sender's length: a hostile
     * server's senders of any length are each counted on their own, under a key no longer than an
     * ID's, not kept whole.
     */
    @Test
    void aSenderLongerThanAnyMatrixIdIsCountedUnderAKeyOfBoundedLength() {
        MemoryState state = new MemoryState(System::nanoTime, 1L << 30);
        ContentRules rules = module(state, 16384, repeated(1, 20));
        String content = "{\"body\": \"Join my server at spam.example!\"}";
        String padding = "a".repeat(100_000);

        for (int i = 0; i < 20; i++) {
            String sender = "@" + i + padding + ":evil.example";
            assertThat(rules.checkEventForSpam(message(sender, "!a:x", content))).isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(rules.checkEventForSpam(message(sender, "!b:x", content))).isInstanceOf(Rejection.class);
        }

        assertThat(state.estimatedBytes()).isLessThan(20 * 1024);
    }

    /** A burst rule and a daily one: the shorter window must not make the longer one forget the rooms it counts. */
    @Test
    void twoRepeatedRulesWithDifferentWindowsEachCountOverTheirOwnWindow() {
        AtomicLong nanos = new AtomicLong();
        ContentRules rules = module(new MemoryState(nanos::get, 16L << 20), 16384,
                new ContentRulesConfig.Rule("burst", "M_FORBIDDEN", null, null, null, null, null, null, null, null,
                        new ContentRulesConfig.Repeated(3, Duration.ofMinutes(10), 20), null),
                new ContentRulesConfig.Rule("daily", "M_FORBIDDEN", null, null, null, null, null, null, null, null,
                        new ContentRulesConfig.Repeated(5, Duration.ofDays(1), 20), null));
        String content = "{\"body\": \"Join my server at spam.example!\"}";

        for (String room : List.of("!a:x", "!b:x", "!c:x", "!d:x", "!e:x")) { // one room every 11 minutes: no burst
            assertThat(rules.checkEventForSpam(message(SPAMMER, room, content))).as(room).isEqualTo(SpamVerdict.NOT_SPAM);
            nanos.addAndGet(Duration.ofMinutes(11).toNanos());
        }
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!f:x", content))).isInstanceOf(Rejection.class);
        assertThat(matches("daily")).isEqualTo(1);
    }

    @Test
    void aRepeatedRuleCountingInRedisPutsTheModuleUnderItsEntrysTimeout() {
        try (RedisState redis = new RedisState("redis://127.0.0.1:" + Ports.unusedPort(), Duration.ofMillis(200), "mpg:", meters)) {
            assertThat(module(redis, 16384, repeated(3, 20)).mayBlock()).isTrue();
            assertThat(module(redis, 16384, words("words", List.of("casino"), List.of(), List.of())).mayBlock()).isFalse();
        }
        assertThat(module(repeated(3, 20)).mayBlock()).isFalse();
    }

    @Test
    void whileRedisIsDownTheRulesThatNeedNoStateStillDecide() {
        try (RedisState down = new RedisState("redis://127.0.0.1:" + Ports.unusedPort(), Duration.ofMillis(200), "mpg:", meters)) {
            ContentRules rules = module(down, 16384, repeated(3, 1), words("words", List.of("casino"), List.of(), List.of()));

            assertThat(rules.checkEventForSpam(body("the best casino in town"))).isInstanceOf(Rejection.class);
            assertThatThrownBy(() -> rules.checkEventForSpam(body("an innocent message"))).isInstanceOf(StateUnavailableException.class);
        }
    }

    /** A Redis that is slow costs a message one timeout, not one for each repeated rule and each text the message shows. */
    @Test
    void aSharedStateThatFailsIsAskedOnceAMessageNotOnceForEachRepeatedRuleAndText() {
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        SharedState timingOut = new SharedState() {
            @Override
            public long countDistinct(String key, String member, Duration window) {
                asked.incrementAndGet();
                throw new StateUnavailableException("Redis did not answer: Command timed out after 200 millisecond(s)", null);
            }

            @Override
            public long peekDistinct(String key, String member, Duration window) {
                return countDistinct(key, member, window);
            }

            @Override
            public dev.matrixpolicy.gateway.state.Take take(String key, dev.matrixpolicy.gateway.state.Bucket bucket) {
                throw new UnsupportedOperationException();
            }

            @Override
            public dev.matrixpolicy.gateway.state.Take peek(String key, dev.matrixpolicy.gateway.state.Bucket bucket) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean remote() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        List<ContentRulesConfig.Rule> windows = List.of(Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofDays(1)).stream()
                .map(window -> new ContentRulesConfig.Rule("repeated-" + window, "M_FORBIDDEN", null, null, null, null, null, null, null,
                        null, new ContentRulesConfig.Repeated(3, window, 1), null)).toList();
        ContentRules rules = module(timingOut, 16384, windows.toArray(ContentRulesConfig.Rule[]::new));
        String twoTexts = JSON.createObjectNode().put("msgtype", "m.text").put("body", "Join my server at spam.example")
                .put("format", "org.matrix.custom.html").put("formatted_body", "<b>Join</b> my other server at ads.example").toString();

        assertThatThrownBy(() -> rules.checkEventForSpam(message(SPAMMER, "!room:example.com", twoTexts)))
                .isInstanceOf(StateUnavailableException.class);
        assertThat(asked).hasValue(1);
    }

    @Test
    void exemptUsersGlobsAndServersAreNotChecked() {
        ContentRules rules = module(new ContentRulesConfig.Rule("words", "M_FORBIDDEN", null,
                new ContentRulesConfig.Exempt(List.of("@mod:example.com", "@bot-*:example.com"), List.of("trusted.example")),
                List.of("casino"), null, null, null, null, null, null, null));

        assertThat(rules.checkEventForSpam(message("@mod:example.com", "!r:x", "{\"body\": \"casino\"}"))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message("@bot-7:example.com", "!r:x", "{\"body\": \"casino\"}"))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message("@anyone:trusted.example", "!r:x", "{\"body\": \"casino\"}"))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message("@anyone:example.com", "!r:x", "{\"body\": \"casino\"}"))).isInstanceOf(Rejection.class);
    }

    @Test
    void theFirstMatchingRuleDecidesAndOnlyItIsCounted() {
        ContentRules rules = module(
                new ContentRulesConfig.Rule("first", "M_FIRST", null, null, List.of("casino"), null, null, null, null, null, null, null),
                new ContentRulesConfig.Rule("second", "M_SECOND", null, null, List.of("casino", "poker"), null, null, null, null, null, null, null));

        assertThat(rules.checkEventForSpam(body("casino poker"))).isEqualTo(Rejection.of("M_FIRST"));
        assertThat(rules.checkEventForSpam(body("poker"))).isEqualTo(Rejection.of("M_SECOND"));
        assertThat(matches("first")).isEqualTo(1);
        assertThat(matches("second")).isEqualTo(1);
    }

    @Test
    void anExplanationOfAMatchCountsNoMatchAndLogsNoLineButAnswersTheSame() {
        ContentRules rules = module(new ContentRulesConfig.Rule("ads", "M_FORBIDDEN", null, null, List.of("casino"), null,
                null, null, null, null, null, new ContentRulesConfig.Media(null, null, Duration.ofHours(1), Duration.ofSeconds(1),
                List.of("image/*"))));
        CheckEventForSpam.Args message = body("the best casino");
        CheckMediaFileForSpam.Args file = media("a".repeat(64), "application/pdf");

        try (ChainRunner runner = new ChainRunner(ChainObserver.NONE)) {
            CallbackChains chains = new CallbackChains(List.of(
                    new ModuleInstance(0, "content_rules", "content", rules, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5))), runner);
            assertThat(explained(chains, "check_event_for_spam", message)).isEqualTo(new Reply.Answered<>(Rejection.of("M_FORBIDDEN")));
            assertThat(explained(chains, "check_media_file_for_spam", file)).isEqualTo(new Reply.Answered<>(Rejection.of("M_FORBIDDEN")));
        }
        assertThat(matches("ads")).as("no refusal to count").isZero();
        assertThat(matches.at(Level.INFO)).as("no line that reads as a refusal").isEmpty();

        assertThat(rules.checkEventForSpam(message)).isEqualTo(Rejection.of("M_FORBIDDEN"));
        assertThat(rules.checkMediaFileForSpam(file)).isEqualTo(Rejection.of("M_FORBIDDEN"));
        assertThat(matches("ads")).isEqualTo(2);
        assertThat(matches.at(Level.INFO)).hasSize(2);
    }

    @SuppressWarnings("unchecked")
    private static <A> Reply<?> explained(CallbackChains chains, String callback, A args) {
        CallbackEndpoint<A, ?> endpoint = (CallbackEndpoint<A, ?>) chains.endpoint(Category.SPAM_CHECKER, callback).orElseThrow();
        return endpoint.explain(args).steps().getFirst().reply();
    }

    @Test
    void aFormattedWallOfTextBehindAShortBodyIsAsLongAsItShows() {
        ContentRules rules = module(new ContentRulesConfig.Rule("wall", "M_FORBIDDEN", null, null, null, null, null, null, null,
                20_000, null, null));
        String wall = JSON.createObjectNode().put("body", "x").put("formatted_body", "<p>" + "a ".repeat(30_000) + "</p>").toString();
        String markup = JSON.createObjectNode().put("body", "x").put("formatted_body", "<b></b>".repeat(5_000) + "short").toString();

        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", wall))).isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", markup))).isEqualTo(SpamVerdict.NOT_SPAM); // markup shows nothing
        ObjectNode topic = JSON.createObjectNode();
        topic.putObject("m.topic").putArray("m.text").addObject().put("body", "a".repeat(30_000));
        assertThat(rules.userMaySendStateEvent(new UserMaySendStateEvent.Args(SPAMMER, "!r:x", "m.room.topic", "", topic)))
                .as("a topic given only in m.topic").isInstanceOf(Rejection.class);
    }

    @Test
    void aPreformattedWallCountsEachLineAndSpaceItShowsWhilePaddingItHidesNoKeyword() {
        ContentRules rules = module(256, new ContentRulesConfig.Rule("wall", "M_FORBIDDEN", null, null, List.of("airdrop"), null,
                null, null, null, 2000, null, null));
        String lines = JSON.createObjectNode().put("body", ".").put("formatted_body", "<pre>a" + "\n".repeat(2500) + "b</pre>").toString();
        String spaces = JSON.createObjectNode().put("body", ".")
                .put("formatted_body", "<pre><code>a" + " ".repeat(2500) + "b</code></pre>").toString();
        String padded = JSON.createObjectNode().put("body", ".")
                .put("formatted_body", "<pre>" + "\n ".repeat(1000) + "air<b></b>drop</pre>").toString();
        String collapsed = JSON.createObjectNode().put("body", ".").put("formatted_body", "<p>a" + "\n".repeat(2500) + "b</p>").toString();

        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", lines))).as("2,500 lines").isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", spaces))).as("2,500 spaces").isInstanceOf(Rejection.class);
        assertThat(matches("wall")).isEqualTo(2);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", padded))).as("a keyword after 2,000 white spaces")
                .isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", collapsed))).as("outside pre a run shows as one space")
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** A reply in {@code room} to a message of {@code quoted}, with the fallbacks the spec had clients write. */
    private static CheckEventForSpam.Args reply(String room, String quoted, String text) {
        ObjectNode content = JSON.createObjectNode().put("msgtype", "m.text")
                .put("body", "> <@mod:example.com> " + quoted + "\n> more of it\n\n" + text)
                .put("formatted_body", "<mx-reply><blockquote><a href=\"https://matrix.to/#/" + room + "/$e\">In reply to</a> "
                        + quoted + "</blockquote></mx-reply>" + text);
        content.putObject("m.relates_to").putObject("m.in_reply_to").put("event_id", "$e");
        return message(SPAMMER, room, content.toString());
    }

    @Test
    void aRepliesFallbackClientsHideIsNeitherScannedNorCounted() {
        ContentRules words = module(words("words", List.of("airdrop"), List.of(), List.of()));
        ContentRules repeats = module(repeated(1, 20));

        assertThat(words.checkEventForSpam(reply("!r:x", "no airdrop links here", "sorry, it won't happen again")))
                .as("a keyword in the quoted warning").isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(words.checkEventForSpam(reply("!r:x", "hi", "claim your airdrop now"))).as("the reply's own text")
                .isInstanceOf(Rejection.class);
        assertThat(words.checkEventForSpam(body("> claim your airdrop\n\nnow"))).as("a quote in a message that is no reply")
                .isInstanceOf(Rejection.class);
        String hiddenInNoReply = JSON.createObjectNode().put("body", "hello")
                .put("formatted_body", "<mx-reply><blockquote>claim your airdrop</blockquote></mx-reply>hello").toString();
        assertThat(words.checkEventForSpam(message(SPAMMER, "!r:x", hiddenInNoReply)))
                .as("an <mx-reply> in a message that is no reply, whose text Element shows").isInstanceOf(Rejection.class);
        for (String room : List.of("!a:x", "!b:x")) {
            assertThat(repeats.checkEventForSpam(reply(room, "quote " + room, "the same spammy text in every room")))
                    .as(room).isEqualTo(room.equals("!a:x") ? SpamVerdict.NOT_SPAM : Rejection.of("M_FORBIDDEN"));
        }
    }

    /**
     * Element strips a fallback only from a reply to an event ({@code m.in_reply_to.event_id}): with
     * {@code "m.in_reply_to": {}} it shows the quoted lines and the {@code <mx-reply>}'s text.
     */
    @Test
    void aQuoteInAMessageWhoseReplyNamesNoEventIsScannedAsClientsShowIt() {
        ContentRules words = module(words("words", List.of("airdrop"), List.of(), List.of()));

        for (String inReplyTo : List.of("{}", "{\"event_id\": \"\"}", "{\"event_id\": null}")) {
            String quote = "{\"body\": \"> claim your airdrop\\n\\nhello\", \"m.relates_to\": {\"m.in_reply_to\": " + inReplyTo + "}}";
            assertThat(words.checkEventForSpam(message(SPAMMER, "!r:x", quote))).as(inReplyTo).isInstanceOf(Rejection.class);
            String html = "{\"body\": \"hello\", \"formatted_body\": \"<mx-reply><blockquote>claim your airdrop</blockquote></mx-reply>hello\","
                    + " \"m.relates_to\": {\"m.in_reply_to\": " + inReplyTo + "}}";
            assertThat(words.checkEventForSpam(message(SPAMMER, "!r:x", html))).as(inReplyTo).isInstanceOf(Rejection.class);
        }
    }

    @Test
    void aSpoilersReasonIsReadAsTheTextAndLinksItShows() {
        ContentRules rules = module(new ContentRulesConfig.Rule("spoilers", "M_FORBIDDEN", null, null, List.of("airdrop"), null,
                null, null, new ContentRulesConfig.Links(List.of(), List.of("bit.ly"), null), null, null, null));
        Function<String, String> spoiler = reason -> JSON.createObjectNode().put("body", "hidden")
                .put("formatted_body", "<span data-mx-spoiler=\"" + reason + "\">hidden</span>").toString();

        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", spoiler.apply("FREE AIRDROP")))).isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", spoiler.apply("see https://bit.ly/x")))).isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", spoiler.apply("season 2 ending")))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", "{\"body\": \"x\", \"formatted_body\": "
                + "\"<a href='https://example.org/' data-mx-spoiler='air&#100;rop'>x</a>\"}"))).as("after an href, decoded")
                .isInstanceOf(Rejection.class);
    }

    @Test
    void aSpoilersReasonPaddedWithWhatShowsAsNothingDoesNotPushTheTextOutOfTheScan() {
        ContentRules rules = module(256, words("words", List.of("airdrop"), List.of(), List.of()));
        for (String padding : List.of(" ".repeat(1000), "\u200B".repeat(1000), "&nbsp;".repeat(1000))) {
            String content = JSON.createObjectNode().put("body", "x").put("formatted_body",
                    "<span data-mx-spoiler=\"a" + padding + "b\">x</span> claim the airdrop").toString();
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(padding.substring(0, 6)).isInstanceOf(Rejection.class);
        }
    }

    @Test
    void aTopicsExtensibleTextsAreCheckedAsItsTopicIs() {
        ContentRules rules = module(words("words", List.of("airdrop"), List.of(), List.of()));
        for (String content : List.of("{\"topic\": \"x\", \"m.topic\": {\"m.text\": [{\"body\": \"free airdrop\"}]}}",
                "{\"topic\": \"x\", \"m.topic\": {\"m.text\": [{\"body\": \"air<b></b>drop\", \"mimetype\": \"text/html\"}]}}",
                "{\"topic\": \"x\", \"m.topic\": [{\"body\": \"airdrop\"}]}", "{\"m.topic\": {\"m.text\": [{\"body\": \"airdrop\"}]}}")) {
            assertThat(rules.userMaySendStateEvent(new UserMaySendStateEvent.Args(SPAMMER, "!r:x", "m.room.topic", "",
                    (ObjectNode) JSON.readTree(content)))).as(content).isInstanceOf(Rejection.class);
        }
        assertThat(rules.userMaySendStateEvent(new UserMaySendStateEvent.Args(SPAMMER, "!r:x", "m.room.topic", "",
                (ObjectNode) JSON.readTree("{\"topic\": \"x\", \"m.topic\": {\"m.text\": [{\"body\": 5}]}}")))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** An unstable poll (MSC3381's prefix: single strings) with no fallback, so only its own blocks hold the text. */
    static String unstablePoll(String question, String... answers) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < answers.length; i++) {
            list.append(i == 0 ? "" : ", ").append("{\"id\": \"a").append(i).append("\", \"org.matrix.msc1767.text\": \"")
                    .append(answers[i]).append("\"}");
        }
        return "{\"org.matrix.msc3381.poll.start\": {\"question\": {\"org.matrix.msc1767.text\": \"" + question + "\"},"
                + " \"kind\": \"org.matrix.msc3381.poll.disclosed\", \"max_selections\": 1, \"answers\": [" + list + "]}}";
    }

    /** A stable poll (MSC3381: {@code m.poll}, texts as lists of representations), with its fallback text. */
    static String stablePoll(String fallback, String question, String answer) {
        return "{\"m.text\": [{\"mimetype\": \"text/plain\", \"body\": \"" + fallback + "\"}], \"m.poll\": {\"kind\": \"m.disclosed\","
                + " \"max_selections\": 1, \"question\": {\"m.text\": [{\"body\": \"" + question + "\"}]},"
                + " \"answers\": [{\"m.id\": \"a\", \"m.text\": [{\"body\": \"" + answer + "\"}]}]}}";
    }

    @Test
    void aPollWhoseQuestionHoldsAKeywordIsRefused() {
        ContentRules rules = module(words("words", List.of("bitcoin"), List.of(), List.of()));

        assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!r:x",
                unstablePoll("Free BITCOIN at scam.example", "claim", "later")))).isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(event("m.poll.start", SPAMMER, "!r:x", stablePoll("Lunch?", "Free bіtcoin", "claim"))))
                .isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!r:x",
                unstablePoll("What should we order for lunch?", "pizza", "wings")))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void aPollWhoseAnswerHoldsASpammyLinkIsRefused() {
        ContentRules rules = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of(), List.of("spam.example"), null), null, null, null));

        assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!r:x",
                unstablePoll("Which prize?", "the one at https://win.spam.example/x", "none")))).isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(event("m.poll.start", SPAMMER, "!r:x",
                stablePoll("Which prize?", "Which prize?", "https://spam.example")))).isInstanceOf(Rejection.class);
    }

    /** The fallback text of extensible events and polls, shown by clients that do not draw the poll. */
    @Test
    void anExtensibleTextIsReadInEitherShapeHtmlAsHtml() {
        ContentRules rules = module(words("words", List.of("airdrop"), List.of(), List.of()));

        for (String content : List.of("{\"org.matrix.msc1767.text\": \"free airdrop\"}",
                "{\"m.text\": [{\"body\": \"air<b></b>drop\", \"mimetype\": \"text/html\"}]}",
                stablePoll("Claim your airdrop", "Lunch?", "pizza"))) {
            assertThat(rules.checkEventForSpam(event("m.poll.start", SPAMMER, "!r:x", content))).as(content).isInstanceOf(Rejection.class);
        }
    }

    /**
     * A client shows the first representation of an extensible text it can render: the others are shown by no
     * client, and padding the list with them cannot crowd the shown text out of the scan.
     */
    @Test
    void aPollsQuestionInAnExtensibleMessageOrHtmlIsRead() {
        ContentRules rules = module(words("words", List.of("airdrop"), List.of(), List.of()));
        for (String question : List.of("{\"org.matrix.msc1767.message\": [{\"body\": \"claim the airdrop?\", \"mimetype\": \"text/plain\"}]}",
                "{\"m.message\": [{\"body\": \"<b>air</b>drop?\", \"mimetype\": \"text/html\"}]}",
                "{\"org.matrix.msc1767.message\": \"airdrop?\"}", "{\"org.matrix.msc1767.html\": \"air<i></i>drop?\"}",
                "{\"m.html\": \"air&#100;rop?\"}")) {
            String poll = "{\"org.matrix.msc3381.poll.start\": {\"question\": " + question + ", \"answers\": []}}";
            assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!r:x", poll))).as(question)
                    .isInstanceOf(Rejection.class);
        }
        assertThat(rules.checkEventForSpam(event("m.room.message", SPAMMER, "!r:x", "{\"org.matrix.msc1767.html\": \"<p>airdrop</p>\"}")))
                .as("at the top of the content").isInstanceOf(Rejection.class);
    }

    @Test
    void representationsNoClientShowsCannotPadAnExtensibleTextOutOfTheScan() {
        ContentRules rules = module(words("words", List.of("bitcoin"), List.of(), List.of()));
        StringBuilder representations = new StringBuilder("[{\"body\": \"" + "word ".repeat(1_000) + "bitcoin\"}");
        for (int i = 0; i < 100; i++) {
            representations.append(", {\"body\": \"").append("y".repeat(200)).append("\", \"mimetype\": ")
                    .append(i % 2 == 0 ? "\"application/x-padding\"" : "\"text/plain\"").append('}');
        }
        String content = "{\"m.text\": " + representations.append(']') + "}";

        assertThat(rules.checkEventForSpam(event("m.message", SPAMMER, "!r:x", content))).isInstanceOf(Rejection.class);
    }

    /** MSC3381 truncates the answers to 20: those after them are shown by no client, and padding them cannot crowd the others out of the scan. */
    @Test
    void aPollsAnswersPastTheTwentyClientsShowAreNotRead() {
        ContentRules rules = module(words("words", List.of("bitcoin"), List.of(), List.of()));
        String[] answers = new String[EventTexts.POLL_ANSWERS + 1];
        Arrays.fill(answers, "ok");

        answers[EventTexts.POLL_ANSWERS - 1] = "bitcoin";
        assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!r:x", unstablePoll("Pick", answers))))
                .isInstanceOf(Rejection.class);
        answers[EventTexts.POLL_ANSWERS - 1] = "ok";
        answers[EventTexts.POLL_ANSWERS] = "bitcoin";
        assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!r:x", unstablePoll("Pick", answers))))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    @Test
    void aPollLongerThanTheLimitIsRefusedByItsLongestText() {
        ContentRules rules = module(new ContentRulesConfig.Rule("length", "M_TOO_LARGE", null, null, null, null, null, null,
                null, 10, null, null));

        assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!r:x", unstablePoll("Short?", "yes"))))
                .isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!r:x", unstablePoll("Short?", "a wall of text"))))
                .isEqualTo(Rejection.of("M_TOO_LARGE"));
    }

    @Test
    void theSamePollQuestionInTooManyRoomsIsRefusedAsRepeated() {
        ContentRules rules = module(repeated(1, 20));

        assertThat(rules.checkEventForSpam(event("org.matrix.msc3381.poll.start", SPAMMER, "!a:x",
                unstablePoll("Free bitcoin at scam.example today", "claim in a")))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkEventForSpam(event("m.poll.start", SPAMMER, "!b:x",
                stablePoll("varied fallback for room b", "Free bitcoin at scam.example today", "claim in b")))).isInstanceOf(Rejection.class);
    }

    /** An {@code m.room.member} event of {@code member}'s, sent by {@code sender} (the inviter of an invite). */
    static CheckEventForSpam.Args membership(String sender, String member, String room, String contentJson) {
        ObjectNode event = (ObjectNode) JSON.readTree("{\"event_id\": \"$m\", \"room_id\": \"" + room + "\", \"type\": \"m.room.member\","
                + " \"state_key\": \"" + member + "\", \"sender\": \"" + sender + "\", \"content\": " + contentJson + "}");
        return new CheckEventForSpam.Args(new ClientEvent(event));
    }

    @Test
    void aJoinWhoseDisplayNameHoldsAKeywordIsRefused() {
        ContentRules rules = module(words("words", List.of("casino"), List.of(), List.of()));

        assertThat(rules.checkEventForSpam(membership(SPAMMER, SPAMMER, "!r:x", "{\"membership\": \"join\", \"displayname\": \"Best C\u0410SINO\"}")))
                .isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(membership(SPAMMER, SPAMMER, "!r:x", "{\"membership\": \"join\", \"displayname\": \"Alice\"}")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(matches.at(Level.INFO)).singleElement().asString().contains("on check_event_for_spam for " + SPAMMER);
    }

    @Test
    void anInviteOrKnockWhoseDisplayNameOrReasonHoldsASpammyLinkIsRefused() {
        ContentRules rules = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of(), List.of("spam.example"), null), null, null, null));

        assertThat(rules.checkEventForSpam(membership("@inviter:x", "@bob:x", "!r:x",
                "{\"membership\": \"invite\", \"displayname\": \"bob\", \"reason\": \"prizes at https://spam.example\"}")))
                .isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(membership(SPAMMER, SPAMMER, "!r:x",
                "{\"membership\": \"knock\", \"displayname\": \"visit https://www.spam.example\"}"))).isInstanceOf(Rejection.class);
    }

    /**
     * What clients show of an invite by e-mail or phone, a live location and a widget: labels set once,
     * read by the text checks as a display name is, never measured.
     */
    @Test
    void theLabelsClientsShowOfInvitesByAddressLiveLocationsAndWidgetsAreReadAsDisplayNames() {
        ContentRules rules = module(words("words", List.of("casino"), List.of(), List.of()), new ContentRulesConfig.Rule("length",
                "M_TOO_LARGE", null, null, null, null, null, null, null, 5, null, null));

        assertThat(rules.checkEventForSpam(state("m.room.third_party_invite", "token",
                "{\"display_name\": \"Best CASINO bonus\", \"key_validity_url\": \"https://id.example/v\", \"public_key\": \"k\"}")))
                .as("an invite by address").isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(membership(SPAMMER, "@bob:x", "!r:x", "{\"membership\": \"invite\", "
                + "\"third_party_invite\": {\"display_name\": \"casino winner\", \"signed\": {}}}")))
                .as("the invite's membership").isInstanceOf(Rejection.class);
        for (String beacon : List.of("m.beacon_info", "org.matrix.msc3672.beacon_info")) {
            assertThat(rules.checkEventForSpam(state(beacon, SPAMMER, "{\"description\": \"casino here\", \"live\": true, \"timeout\": 60000}")))
                    .as(beacon).isInstanceOf(Rejection.class);
        }
        assertThat(rules.checkEventForSpam(state("im.vector.modular.widgets", "w1",
                "{\"type\": \"m.custom\", \"url\": \"https://w.example\", \"name\": \"Widget\", \"data\": {\"title\": \"casino\"}}")))
                .as("a widget's title").isInstanceOf(Rejection.class);
        assertThat(rules.userMaySendStateEvent(new UserMaySendStateEvent.Args(SPAMMER, "!r:x", "m.widget", "w2",
                (ObjectNode) JSON.readTree("{\"type\": \"m.custom\", \"url\": \"https://w.example\", \"name\": \"Free Casino\"}"))))
                .as("a widget's name, sent here").isInstanceOf(Rejection.class);

        assertThat(rules.checkEventForSpam(state("m.room.third_party_invite", "token", "{\"display_name\": \"bo...@ex...\"}")))
                .as("a label longer than max-length is no message").isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.userMaySendStateEvent(new UserMaySendStateEvent.Args(SPAMMER, "!r:x", "im.vector.modular.widgets", "w3",
                (ObjectNode) JSON.readTree("{\"type\": \"m.jitsi\", \"url\": \"https://w.example\", \"name\": \"Jitsi\"}"))))
                .isEqualTo(SpamVerdict.NOT_SPAM);
    }

    private static CheckEventForSpam.Args state(String type, String stateKey, String contentJson) {
        ObjectNode event = (ObjectNode) JSON.readTree("{\"event_id\": \"$s\", \"room_id\": \"!r:x\", \"type\": \"" + type
                + "\", \"state_key\": \"" + stateKey + "\", \"sender\": \"" + SPAMMER + "\", \"content\": " + contentJson + "}");
        return new CheckEventForSpam.Args(new ClientEvent(event));
    }

    /**
     * Synapse soft-fails a federated event refused as spam: a refused leave would keep its user in the
     * room as this server sees it. A kick's or ban's reason is a moderator's.
     */
    @Test
    void aLeaveIsNeverRefusedForItsDisplayName() {
        ContentRules rules = module(words("words", List.of("casino"), List.of(), List.of()));

        for (String membership : List.of("leave", "ban")) {
            assertThat(rules.checkEventForSpam(membership(SPAMMER, SPAMMER, "!r:x",
                    "{\"membership\": \"" + membership + "\", \"displayname\": \"casino\", \"reason\": \"casino\"}")))
                    .as(membership).isEqualTo(SpamVerdict.NOT_SPAM);
        }
        assertThat(rules.checkEventForSpam(membership("@mod:x", SPAMMER, "!r:x", "{\"membership\": \"leave\", \"reason\": \"casino spam\"}")))
                .as("a kick").isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** A display name is the same in every room its user joins: joining many rooms is not repeating a text. */
    @Test
    void aDisplayNameIsNeverCountedAsRepeatedNorMeasured() {
        ContentRules rules = module(repeated(1, 1), new ContentRulesConfig.Rule("length", "M_TOO_LARGE", null, null, null, null,
                null, null, null, 5, null, null));

        for (String room : List.of("!a:x", "!b:x", "!c:x")) {
            assertThat(rules.checkEventForSpam(membership("@alice:x", "@alice:x", room,
                    "{\"membership\": \"join\", \"displayname\": \"Alice Liddell\", \"reason\": \"Hello everyone here\"}")))
                    .as(room).isEqualTo(SpamVerdict.NOT_SPAM);
        }
    }

    @Test
    void anEditsMentionsCountWhenTheOuterOnesAreNull() {
        ContentRules rules = module(new ContentRulesConfig.Rule("mentions", "M_LIMIT_EXCEEDED", "Too many mentions", null,
                null, null, null, new ContentRulesConfig.Mentions(2, false), null, null, null, null));

        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:example.com", "{\"body\": \"* hi\", \"m.mentions\": null, "
                + "\"m.new_content\": {\"body\": \"hi\", \"m.mentions\": {\"user_ids\": [\"@a:x.org\", \"@b:x.org\", \"@c:x.org\"]}}}")))
                .isInstanceOf(Rejection.class);
    }

    /** A requested username is the client's own text: no line break in it can write a log line of its own. */
    @Test
    void aRequestedUsernameCannotForgeALogLine() {
        ContentRules rules = module(words("words", List.of("casino"), List.of(), List.of()));
        String forged = "x\n2026-12-04T21:00:00.000Z ERROR 1 --- [main] forged casino";

        assertThat(rules.checkRegistrationForSpam(new CheckRegistrationForSpam.Args(Optional.empty(), Optional.of(forged),
                List.of(), Optional.empty()))).isEqualTo(RegistrationBehaviour.DENY);

        assertThat(matches.at(Level.INFO)).singleElement().asString()
                .endsWith("for @x\\u000A2026-12-04T21:00:00.000Z ERROR 1 --- [main] forged casino:example.com");
    }

    @Test
    void roomNamesTopicsDisplayNamesAndUsernamesAreCheckedByTheTextChecks() {
        ContentRules rules = module(words("words", List.of("casino"), List.of(), List.of()));

        assertThat(rules.userMaySendStateEvent(new UserMaySendStateEvent.Args(SPAMMER, "!r:x", "m.room.topic", "",
                (ObjectNode) JSON.readTree("{\"topic\": \"Best CASINO\"}")))).isInstanceOf(Rejection.class);
        assertThat(rules.userMaySendStateEvent(new UserMaySendStateEvent.Args(SPAMMER, "!r:x", "m.room.member", SPAMMER,
                (ObjectNode) JSON.readTree("{\"displayname\": \"casino\"}")))).isEqualTo(SpamVerdict.NOT_SPAM);
        assertThat(rules.checkUsernameForSpam(new CheckUsernameForSpam.Args(new UserProfile(SPAMMER, Optional.of("Casino King"),
                Optional.empty()), Optional.empty()))).isTrue();
        assertThat(rules.checkRegistrationForSpam(new CheckRegistrationForSpam.Args(Optional.empty(), Optional.of("casino"),
                List.of(), Optional.empty()))).isEqualTo(RegistrationBehaviour.DENY);
        assertThat(rules.checkRegistrationForSpam(new CheckRegistrationForSpam.Args(Optional.empty(), Optional.of("alice"),
                List.of(), Optional.empty()))).isEqualTo(RegistrationBehaviour.ALLOW);
    }

    @Test
    void aMediaFileWhoseHashIsListedIsRefusedAndTheListReloads() throws IOException {
        String listed = "a".repeat(64);
        String added = "b".repeat(64);
        Path file = Files.writeString(dir.resolve("hashes.txt"), "# refused\n" + listed.toUpperCase() + " known bad\n");
        ContentRules rules = module(new ContentRulesConfig.Rule("media", "M_FORBIDDEN", null, null, null, null, null, null,
                null, null, null, new ContentRulesConfig.Media(file, null, Duration.ofHours(1), Duration.ofSeconds(1),
                List.of("image/*", "video/mp4"))));
        try (rules) {
            assertThat(rules.checkMediaFileForSpam(media(listed, "image/png"))).isInstanceOf(Rejection.class);
            assertThat(rules.checkMediaFileForSpam(media(added, "image/png"))).isEqualTo(SpamVerdict.NOT_SPAM);
            assertThat(rules.checkMediaFileForSpam(media(added, "application/pdf"))).isInstanceOf(Rejection.class);
            assertThat(rules.checkMediaFileForSpam(media(added, "video/mp4; codecs=x"))).isEqualTo(SpamVerdict.NOT_SPAM);

            Files.writeString(file, added + "\n" + listed + "\n# a longer file, so its size differs\n");
            reloadMedia(rules);

            assertThat(rules.checkMediaFileForSpam(media(added, "image/png"))).isInstanceOf(Rejection.class);
        }
    }

    @Test
    void aMediaHashListServedAtAUrlIsReadAtOnceReloadedAndKeptWhileTheServerFails() {
        String listed = "c".repeat(64);
        String added = "d".repeat(64);
        hashServer.stubFor(get("/hashes.txt").willReturn(ok(listed + "  a known bad file\n")));
        ContentRules rules = module(new ContentRulesConfig.Rule("media", "M_FORBIDDEN", null, null, null, null, null, null,
                null, null, null, new ContentRulesConfig.Media(null, hashServer.baseUrl() + "/hashes.txt", Duration.ofHours(1),
                Duration.ofSeconds(2), null)));
        try (rules) {
            reloadMedia(rules); // after the list's own first read, or instead of it
            assertThat(rules.checkMediaFileForSpam(media(listed, "image/png"))).isInstanceOf(Rejection.class);
            assertThat(rules.checkMediaFileForSpam(media(added, "image/png"))).isEqualTo(SpamVerdict.NOT_SPAM);

            hashServer.stubFor(get("/hashes.txt").willReturn(ok(listed + "\n" + added.toUpperCase() + "\n")));
            reloadMedia(rules);
            assertThat(rules.checkMediaFileForSpam(media(added, "image/png"))).isInstanceOf(Rejection.class);

            hashServer.stubFor(get("/hashes.txt").willReturn(serverError()));
            reloadMedia(rules);
            assertThat(rules.checkMediaFileForSpam(media(listed, "image/png"))).isInstanceOf(Rejection.class);
            assertThat(rules.checkMediaFileForSpam(media(added, "image/png"))).isInstanceOf(Rejection.class);
            assertThat(warnings.lines()).singleElement().asString()
                    .contains("content: keeping the 2 media hashes loaded before; the hashes URL");
        }
    }

    @Test
    void aPathologicalMessageIsReadOnlyUpToTheCap() {
        ContentRules rules = module(256, words("regex", List.of("needle"), List.of(), List.of("(a+)+b", "a*a*a*a*c")),
                new ContentRulesConfig.Rule("mentions", "M_FORBIDDEN", null, null, null, null, null,
                        new ContentRulesConfig.Mentions(10, true), null, null, null, null));
        String huge = "a".repeat(1 << 20);
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            ids.append(i == 0 ? "" : ",").append("\"@u").append(i).append(":x.org\"");
        }
        String nested = "{\"x\":".repeat(400) + "1" + "}".repeat(400);

        assertThat(rules.checkEventForSpam(body(huge + " needle"))).isEqualTo(SpamVerdict.NOT_SPAM); // past the cap: not read
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", "{\"body\": \"hi\", \"m.mentions\": {\"user_ids\": [" + ids + "]}}")))
                .isInstanceOf(Rejection.class);
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", "{\"body\": \"hi\", \"deep\": " + nested + "}")))
                .isEqualTo(SpamVerdict.NOT_SPAM);
        RawText raw = new RawText(256).add(huge).addHtml("<b>" + huge + "</b>");
        assertThat(raw.text()).hasSizeLessThanOrEqualTo(256 + 1);
        assertThat(Mentions.in(JSON.readTree("{\"user_ids\": [" + ids + "]}"), "", "", 10, new Normaliser(true, true, false)).users())
                .isEqualTo(11);
    }

    @Test
    void paddingOnePartDoesNotHideTheOthersFromTheScan() {
        ContentRules rules = module(words("words", List.of("casino"), List.of(), List.of()),
                new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                        new ContentRulesConfig.Links(List.of(), List.of("spam.example"), null), null, null, null));
        for (String padding : List.of(" ", "\u200B")) {
            ObjectNode content = JSON.createObjectNode().put("body", padding.repeat(16384)).put("formatted_body", "casino");
            ObjectNode link = JSON.createObjectNode().put("body", padding.repeat(16384))
                    .put("formatted_body", "<a href=\"https://spam.example/x\">here</a>");
            ObjectNode edit = JSON.createObjectNode().put("body", padding.repeat(20000));
            edit.putObject("m.new_content").put("body", "best casino");

            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content.toString()))).as("formatted body").isInstanceOf(Rejection.class);
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", link.toString()))).as("href").isInstanceOf(Rejection.class);
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", edit.toString()))).as("m.new_content").isInstanceOf(Rejection.class);
        }
    }

    @Test
    void whatShowsAsNothingDoesNotPushTheWordsAfterItOutOfTheScan() {
        ContentRules rules = module(words("words", List.of("airdrop"), List.of(), List.of()),
                new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                        new ContentRulesConfig.Links(List.of(), List.of("spam.example"), null), null, null, null));
        String zeroWidth = "\u200B".repeat(16384);
        String emptyMarkup = "<b></b>".repeat(2400);
        for (String content : List.of(
                JSON.createObjectNode().put("body", zeroWidth + "airdrop").toString(),
                JSON.createObjectNode().put("body", "\u3164".repeat(16384) + "airdrop").toString(),
                JSON.createObjectNode().put("body", "x").put("formatted_body", emptyMarkup + "airdrop").toString(),
                JSON.createObjectNode().put("body", "x").put("formatted_body", emptyMarkup + "<a href=\"https://spam.example/x\">here</a>").toString(),
                JSON.createObjectNode().put("body", "air\u3164drop and air\u2800drop").toString())) {
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(content.substring(0, Math.min(40, content.length()))).isInstanceOf(Rejection.class);
        }
        RawText raw = new RawText(256).add(zeroWidth + "x".repeat(1000));
        assertThat(raw.text().toString().replace("\u200B", "")).hasSize(256); // the cap counts what shows
    }

    @Test
    void stackedMarksDoNotPushTheWordsAfterThemOutOfTheScan() {
        ContentRulesConfig.Rule giveaway = words("words", List.of("giveaway"), List.of(), List.of());
        ContentRules folding = module(256, giveaway);
        ContentRules keeping = module(new MemoryState(), new ContentRulesConfig(List.of(giveaway), List.of("check_event_for_spam"), 256,
                new ContentRulesConfig.Normalisation(true, false, false)));
        String stacked = "x" + "\u0301".repeat(300) + " giveaway";
        String html = JSON.createObjectNode().put("body", "x").put("formatted_body", "x" + "&#769;".repeat(300) + " giveaway").toString();

        assertThat(folding.checkEventForSpam(body(stacked))).isInstanceOf(Rejection.class);
        assertThat(keeping.checkEventForSpam(body(stacked))).as("without fold-diacritics").isInstanceOf(Rejection.class);
        assertThat(folding.checkEventForSpam(message(SPAMMER, "!r:x", html))).as("marks written as references").isInstanceOf(Rejection.class);
        assertThat(new RawText(256).add(stacked).text().length()).as("a stream-safe run kept").isEqualTo(1 + 30 + 9);
    }

    @Test
    void htmlIsReadAsAClientShowsIt() {
        ContentRules rules = module(words("words", List.of("crypto", "seed phrase", "airdrop"), List.of(), List.of()));
        for (String html : List.of("cr&#x9f;pto", "&#x9a;eed phrase", "<!-- x --!> airdrop <!-- y -->", "air<style>x</style>drop",
                "air<script type=\"x\">x</script >drop", "air<textarea>x</TEXTAREA>drop")) {
            String content = JSON.createObjectNode().put("body", "x").put("formatted_body", html).toString();
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(html).isInstanceOf(Rejection.class);
        }
        assertThat(new RawText(1000).addHtml("a<style/>b<br/>c</style>d").text().toString()).isEqualTo("ab cd");
        for (String hiding : List.of("<b title=\">\" data=\"<script>\">buy crypto now</b>", "<p><option>x</p>buy crypto now",
                "<div><noscript></div>buy crypto now", "<img alt=\">\" title=\"<textarea>\">buy crypto now")) {
            String content = JSON.createObjectNode().put("body", "hi").put("formatted_body", hiding).toString();
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(hiding).isInstanceOf(Rejection.class);
        }
        for (String padding : List.of(" ".repeat(16_384), "<p>".repeat(16_384), "\n<br>\n".repeat(8_000))) {
            String content = JSON.createObjectNode().put("body", "hi").put("formatted_body", padding + "buy crypto now").toString();
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(padding.substring(0, 5)).isInstanceOf(Rejection.class);
        }
    }

    /**
     * HTML names a tag up to white space, {@code /} or {@code >}, as Element's sanitiser (htmlparser2)
     * and browsers read it: {@code <style_>} is no {@code <style>} but an unknown tag, dropped with its
     * text shown, and {@code <p.x>} no {@code <p>}, so it breaks no word.
     */
    @Test
    void aTagNamedLikeAHiddenOrBreakingOneButLongerIsAnUnknownTagWhoseTextShows() {
        ContentRules rules = module(words("words", List.of("airdrop"), List.of(), List.of()));
        for (String html : List.of("<style_>claim your airdrop</style_>", "<script.x>claim your airdrop</script.x>",
                "<textarea:x>claim your airdrop</textarea:x>", "air<p.x>drop", "air<br_>drop", "air<li:x></li:x>drop")) {
            String content = JSON.createObjectNode().put("body", "hello").put("formatted_body", html).toString();
            assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(html).isInstanceOf(Rejection.class);
        }
        ObjectNode reply = JSON.createObjectNode().put("body", "hello")
                .put("formatted_body", "<mx-reply_><blockquote>claim your airdrop</blockquote></mx-reply_>hello");
        reply.putObject("m.relates_to").putObject("m.in_reply_to").put("event_id", "$e");
        assertThat(rules.checkEventForSpam(message(SPAMMER, "!r:x", reply.toString()))).as("<mx-reply_> in a reply")
                .isInstanceOf(Rejection.class);
        assertThat(new RawText(1000).addHtml("a<P>b<Br/>c<style >x</style>d").text().toString()).isEqualTo("a b cd");
    }

    @Test
    void aLinkIsReadAsABrowserOpensIt() {
        ContentRules denied = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of(), List.of("bit.ly"), null), null, null, null));
        for (String html : List.of("<a data-href=\"x\" href=\"https://bit.ly/x\">click</a>",
                "<a title=\"x href=y\" href=\"https://bit.ly/z\">click</a>", "<a href\t=\"https://bit.ly/x\">click</a>",
                "<a\nhref\n=\n\"https://bit.ly/x\">click</a>", "<a href=\"https:\\\\bit.ly/x\">click</a>",
                "<a href=\"https:/\\bit.ly/x\">click</a>", "<a href=\"//bit.ly/x\">click</a>",
                "<a href=\"ht&#9;tps://bit.ly/x\">click</a>", "<a href=https://bit.ly/x>click</a>",
                "<a href=\"http:bit.ly/x\">click</a>", "<a title=\">\" href=\"//bit.ly/x\">click</a>",
                "<a href=\"https://bit.ly/" + "x".repeat(20_000) + "\">click</a>")) {
            String content = JSON.createObjectNode().put("body", "click").put("formatted_body", html).toString();
            assertThat(denied.checkEventForSpam(message(SPAMMER, "!r:x", content))).as(html).isInstanceOf(Rejection.class);
        }
        assertThat(denied.checkEventForSpam(body("see https://bit%2Ely/x"))).isInstanceOf(Rejection.class);
        // escapes of UTF-8, which a browser decodes and maps: an ideographic full stop, a fullwidth b, a soft hyphen
        for (String escaped : List.of("https://bit%E3%80%82ly/abc", "https://%EF%BD%82it.ly/abc", "https://bi%C2%ADt.ly/x",
                "https://BIT%2ELY/x")) {
            assertThat(denied.checkEventForSpam(body("see " + escaped))).as(escaped).isInstanceOf(Rejection.class);
            String html = JSON.createObjectNode().put("body", "click")
                    .put("formatted_body", "<a href=\"" + escaped + "\">click</a>").toString();
            assertThat(denied.checkEventForSpam(message(SPAMMER, "!r:x", html))).as("href " + escaped).isInstanceOf(Rejection.class);
        }
        assertThat(denied.checkEventForSpam(body("see https://bit%FF.ly/x and https://bit%E3%80.ly/"))).as("not UTF-8")
                .isEqualTo(SpamVerdict.NOT_SPAM);

        ContentRules allowed = module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of("example.org"), List.of(), null), null, null, null));
        for (String text : List.of("https://%65vil.example/x", "https://[::1]/x", "https:\\\\evil.example/x")) {
            assertThat(allowed.checkEventForSpam(body(text))).as(text).isInstanceOf(Rejection.class);
        }
        assertThat(allowed.checkEventForSpam(body("https://www.example.org/x and https://EXAMPLE.org/y"))).isEqualTo(SpamVerdict.NOT_SPAM);
    }

    /** No link's host has an empty label: a denied domain written with one would deny nothing, without a word. */
    @Test
    void aDomainWithAnEmptyLabelStopsStartupNamingTheEntry() {
        for (String domain : List.of(".bit.ly", "bit..ly", "*..bit.ly")) {
            assertThatThrownBy(() -> module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                    new ContentRulesConfig.Links(List.of(), List.of("grabify.link", domain), null), null, null, null)))
                    .as(domain).isInstanceOf(ModuleConfigurationException.class)
                    .hasMessageContaining("'" + domain + "' is not a domain name")
                    .extracting(e -> ((ModuleConfigurationException) e).field()).isEqualTo("rules[0].links.denied-domains[1]");
        }
        assertThatThrownBy(() -> module(new ContentRulesConfig.Rule("links", "M_FORBIDDEN", null, null, null, null, null, null,
                new ContentRulesConfig.Links(List.of(), List.of(".bit.ly"), null), null, null, null)))
                .hasMessageContaining("write 'bit.ly', which covers its subdomains too");
    }

    @Test
    void aRegexThatDoesNotCompileStopsStartupNamingTheKeyAndTheError() {
        assertThatThrownBy(() -> module(words("regex", List.of(), List.of(), List.of("ok", "(unclosed"))))
                .isInstanceOf(ModuleConfigurationException.class)
                .hasMessageContaining("'(unclosed' is not a valid RE2 regular expression: missing closing )")
                .extracting(e -> ((ModuleConfigurationException) e).field()).isEqualTo("rules[0].regexes[1]");
        assertThatThrownBy(() -> module(words("backreference", List.of(), List.of(), List.of("(a)\\1"))))
                .isInstanceOf(ModuleConfigurationException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"(?:crypto|airdrop|)", "(spam)*", "x?", "^", "\\b", "scam|\\bq*"})
    void aRegexThatMatchesTheEmptyTextWhichWouldRefuseEveryMessageIsRefused(String regex) {
        assertThatThrownBy(() -> module(words("typo", List.of(), List.of(), List.of(regex))))
                .isInstanceOf(ModuleConfigurationException.class)
                .hasMessageContaining("matches the empty text")
                .extracting(e -> ((ModuleConfigurationException) e).field()).isEqualTo("rules[0].regexes[0]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"(((a{1000}){1000}){1000}){1000}", "((a{100}){100}){100}", "(\\w{0,1000}){19}x", "\\Q[\\E(((a{1000}){1000}){1000})", "a{1000}b{1000}c{1000}x{1000}y{1000}z{1000}q{1000}r{1000}s{1000}t{1000}u{1000}v{1000}w{1000}e{1000}f{1000}g{1000}h{1000}i{1000}j{1000}k{1000}l{1000}"})
    void aRegexTooLargeToCompileIsRefusedBeforeItIsCompiled(String regex) {
        assertThatThrownBy(() -> module(words("huge", List.of(), List.of(), List.of(regex))))
                .isInstanceOf(ModuleConfigurationException.class)
                .hasMessageContaining("too large to compile");
    }

    @Test
    void aRegexNestingGroupsTooDeeplyIsRefusedBeforeItIsCompiled() {
        String deep = "(".repeat(20_000) + "a" + ")".repeat(20_000);
        assertThatThrownBy(() -> module(words("deep", List.of(), List.of(), List.of(deep))))
                .isInstanceOf(ModuleConfigurationException.class)
                .hasMessageContaining("nests groups more than 200 deep");
    }

    @Test
    void regexesOfOrdinarySizeStillCompile() {
        for (String regex : List.of("free\\s+(btc|eth|usdt)\\s*\\d+", "(\\w+\\s+){1,100}free", "[{}]+x{2,5}", "\\p{Greek}{3}",
                "[]a]{10}b", "a{,5}", "\\Q(\\E".repeat(201) + "x")) {
            assertThat(module(words("ordinary", List.of(), List.of(), List.of(regex)))).as(regex).isNotNull();
        }
    }

    @Test
    void aRuleThatChecksNothingOrAKeywordThatNormalisesToNothingIsRefused() {
        assertThatThrownBy(() -> module(rule("empty"))).hasMessageContaining("the rule checks nothing");
        assertThatThrownBy(() -> module(words("blank", List.of("\u200B"), List.of(), List.of())))
                .hasMessageContaining("is empty once normalised");
    }

    @Test
    void theModuleJoinsOnlyTheChainsItsRulesApplyTo() {
        ContentRules mentions = module(new ContentRulesConfig.Rule("mentions", "M_FORBIDDEN", null, null, null, null, null,
                new ContentRulesConfig.Mentions(3, true), null, null, null, null));

        assertThat(mentions.implementation(CheckEventForSpam.TYPE)).isPresent();
        assertThat(mentions.implementation(UserMaySendStateEvent.TYPE)).isEmpty();
        assertThat(mentions.implementation(CheckUsernameForSpam.TYPE)).isEmpty();
        assertThat(mentions.implementation(CheckMediaFileForSpam.TYPE)).isEmpty();
    }

    private static CheckMediaFileForSpam.Args media(String sha256, String type) {
        return new CheckMediaFileForSpam.Args(JSON.createObjectNode(), new MediaFile(sha256, 10, Optional.of(type)));
    }

    private static void reloadMedia(ContentRules rules) {
        rules.mediaHashes().forEach(MediaHashes::reload);
    }
}
