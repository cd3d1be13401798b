package dev.matrixpolicy.gateway.matrix;

import static dev.matrixpolicy.gateway.matrix.glob.GlobReference.asRegex;
import static dev.matrixpolicy.gateway.matrix.glob.GlobReference.randomString;
import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.matrix.glob.GlobReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The compiled list: exact IDs and globs, whatever their number, matched in one pass over the ID. */
class UserIdMatcherTest {

    private static UserIdMatcher listing(String... patterns) {
        return UserIdMatcher.compile(List.of(patterns));
    }

    @Test
    void patternsThatCanNeverMatchAUserIdAreRefused() {
        assertThat(UserIdMatcher.problemWith("spammer:example.com")).hasValueSatisfying(
                problem -> assertThat(problem).contains("user ID"));
        assertThat(UserIdMatcher.problemWith("spam*")).hasValueSatisfying(
                problem -> assertThat(problem).contains("must start with '@', '*' or '?'"));
        assertThat(UserIdMatcher.problemWith("@spam mer:example.com")).isPresent();
        assertThat(UserIdMatcher.problemWith("@spammer:example.com")).isEmpty();
        assertThat(UserIdMatcher.problemWith("*:evil.example")).isEmpty();
        assertThat(UserIdMatcher.problemWith("?bot*")).isEmpty();
    }

    @Test
    void exactIdMatchesItselfOnly() {
        UserIdMatcher matcher = listing("@spammer:example.com");

        assertThat(matcher.matches("@spammer:example.com")).isTrue();
        assertThat(matcher.matches("@spammer:example.org")).isFalse();
        assertThat(matcher.matches("@spammer2:example.com")).isFalse();
        assertThat(matcher.matches("@spamme:example.com")).isFalse();
        assertThat(matcher.matches("")).isFalse();
    }

    @Test
    void exactIdsIgnoreCaseOnBothSides() {
        UserIdMatcher matcher = listing("@Spammer:Example.COM");

        assertThat(matcher.matches("@spammer:example.com")).isTrue();
        assertThat(matcher.matches("@SPAMMER:EXAMPLE.com")).isTrue();
    }

    @Test
    void aServersBanHoldsItsIdsWrittenWithAPortOrATrailingDot() {
        UserIdMatcher matcher = listing("*:evil.example", "@spammer:bad.example");

        assertThat(matcher.matches("@x:evil.example:8448")).as("a port").isTrue();
        assertThat(matcher.matches("@x:evil.example.")).as("the fully qualified name").isTrue();
        assertThat(matcher.matches("@x:EVIL.example.:443")).as("both, in upper case").isTrue();
        assertThat(matcher.matches("@spammer:bad.example:8448")).as("an exact ID, by another port").isTrue();
        assertThat(matcher.matches("@x:matrix.evil.example")).as("another host").isFalse();
        assertThat(matcher.matches("@x:evil.example.org")).isFalse();
    }

    @Test
    void aPortInTheListHoldsThatPortOnly() {
        UserIdMatcher matcher = listing("*:evil.example:8448");

        assertThat(matcher.matches("@x:evil.example:8448")).isTrue();
        assertThat(matcher.matches("@x:evil.example")).isFalse();
        assertThat(matcher.matches("@x:evil.example:443")).isFalse();
    }

    @Test
    void anIpv6ServerIsHeldHoweverItsAddressIsWritten() {
        UserIdMatcher matcher = listing("*:[2001:db8::1]", "@spammer:[2001:DB8:0:0::2]");

        assertThat(matcher.matches("@x:[2001:0db8:0:0::1]")).isTrue();
        assertThat(matcher.matches("@x:[2001:db8:0:0:0:0:0:1]:8448")).isTrue();
        assertThat(matcher.matches("@spammer:[2001:db8::2]")).isTrue();
        assertThat(matcher.matches("@x:[2001:db8::3]")).isFalse();
    }

    @Test
    void trailingStarMatchesEveryIdWithThatPrefix() {
        UserIdMatcher matcher = listing("@spam*");

        assertThat(matcher.matches("@spam:example.com")).isTrue();
        assertThat(matcher.matches("@spammer:example.org")).isTrue();
        assertThat(matcher.matches("@spam")).as("a star also matches nothing").isTrue();
        assertThat(matcher.matches("@spa:example.com")).isFalse();
        assertThat(matcher.matches("@alice:spam.example")).isFalse();
    }

    @Test
    void leadingStarMatchesEveryIdWithThatSuffix() {
        UserIdMatcher matcher = listing("*:evil.example");

        assertThat(matcher.matches("@anyone:evil.example")).isTrue();
        assertThat(matcher.matches("@a:b:evil.example")).isTrue();
        assertThat(matcher.matches("@anyone:evil.example.org")).isFalse();
        assertThat(matcher.matches("@anyone:notevil.example")).isFalse();
    }

    @Test
    void infixStarMatchesAnyRunBetweenTheFixedParts() {
        UserIdMatcher matcher = listing("@bot*:example.com");

        assertThat(matcher.matches("@bot:example.com")).isTrue();
        assertThat(matcher.matches("@bot-1234:example.com")).isTrue();
        assertThat(matcher.matches("@bot:x:example.com")).as("the run may contain ':'").isTrue();
        assertThat(matcher.matches("@bot:example.com.evil")).isFalse();
        assertThat(matcher.matches("@robot:example.com")).isFalse();
    }

    @Test
    void questionMarkMatchesExactlyOneCharacter() {
        UserIdMatcher matcher = listing("@user?:example.com");

        assertThat(matcher.matches("@user1:example.com")).isTrue();
        assertThat(matcher.matches("@userx:example.com")).isTrue();
        assertThat(matcher.matches("@user:example.com")).isFalse();
        assertThat(matcher.matches("@user12:example.com")).isFalse();
    }

    @Test
    void severalStarsAndQuestionMarksCombine() {
        UserIdMatcher matcher = listing("*spam*bot*", "@??:*.example");

        assertThat(matcher.matches("@spambot:example.com")).isTrue();
        assertThat(matcher.matches("@my-spam-and-a-bot:example.com")).isTrue();
        assertThat(matcher.matches("@alice:spam.example.bot")).isTrue();
        assertThat(matcher.matches("@botspam:example.com")).isFalse();
        assertThat(matcher.matches("@ab:server.example")).isTrue();
        assertThat(matcher.matches("@abc:server.example")).isFalse();
        assertThat(matcher.matches("@ab:.example")).isTrue();
    }

    @Test
    void consecutiveStarsActLikeOne() {
        UserIdMatcher matcher = listing("@a***b:x");

        assertThat(matcher.matches("@ab:x")).isTrue();
        assertThat(matcher.matches("@a-anything-b:x")).isTrue();
        assertThat(matcher.matches("@a-anything-c:x")).isFalse();
    }

    @Test
    void globsIgnoreCaseOnBothSides() {
        UserIdMatcher matcher = listing("@Spam*:EXAMPLE.com", "@B?t:x");

        assertThat(matcher.matches("@spamBOT:example.COM")).isTrue();
        assertThat(matcher.matches("@BOT:X")).isTrue();
    }

    @Test
    void patternsThatSharePrefixesEachMatchWhatTheyShould() {
        UserIdMatcher matcher = listing("@spam:example.com", "@spam*:example.org", "@spa?:example.net", "@sp*m:example.edu",
                "@spammer:example.com", "@s*");

        assertThat(matcher.matches("@spam:example.com")).isTrue();
        assertThat(matcher.matches("@spammer:example.com")).isTrue();
        assertThat(matcher.matches("@spamalot:example.org")).isTrue();
        assertThat(matcher.matches("@spax:example.net")).isTrue();
        assertThat(matcher.matches("@spoom:example.edu")).isTrue();
        assertThat(matcher.matches("@somebody:example.com")).as("through @s*").isTrue();
        assertThat(matcher.matches("@alice:example.com")).isFalse();

        UserIdMatcher withoutCatchAll = listing("@spam:example.com", "@spam*:example.org", "@spa?:example.net", "@sp*m:example.edu");
        assertThat(withoutCatchAll.matches("@spammer:example.com")).isFalse();
        assertThat(withoutCatchAll.matches("@spamalot:example.net")).isFalse();
        assertThat(withoutCatchAll.matches("@spax:example.org")).isFalse();
        assertThat(withoutCatchAll.matches("@spoon:example.edu")).isFalse();
    }

    @Test
    void loneStarMatchesEveryone() {
        assertThat(listing("*").matches("@anyone:anywhere.example")).isTrue();
    }

    @Test
    void questionMarkCoversOneCodePointOutsideTheBasicPlane() {
        UserIdMatcher matcher = listing("@?:x", "@Ä*:x");

        assertThat(matcher.matches("@\uD83D\uDE00:x")).as("one emoji, two UTF-16 units").isTrue();
        assertThat(matcher.matches("@ä-and-more:x")).isTrue();
    }

    @Test
    void countsExactEntriesAndGlobsOnceEach() {
        UserIdMatcher matcher = listing("@a:x", "@A:X", "@b:x", "@c*", "@C*", "*:d");

        assertThat(matcher.exactCount()).isEqualTo(2);
        assertThat(matcher.globCount()).isEqualTo(2);
    }

    @Test
    void foldingReturnsTheSameStringWhenItHasNoUpperCase() {
        String lower = "@alice:example.com";

        assertThat(UserIdMatcher.fold(lower)).isSameAs(lower);
        assertThat(UserIdMatcher.fold("@Alice:Example.com")).isEqualTo(lower);
    }

    @Test
    void agreesWithRegularExpressionsOnRandomPatternsAndInputs() {
        Random random = new Random(20240611);
        for (int round = 0; round < 300; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(8))
                    .mapToObj(i -> randomString(random, "ab*?", 6)).toList();
            UserIdMatcher matcher = UserIdMatcher.compile(patterns);
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
            for (int input = 0; input < 50; input++) {
                String candidate = randomString(random, "abc", 8);
                assertThat(matcher.matches(candidate))
                        .as("%s against %s", candidate, patterns)
                        .isEqualTo(expected.stream().anyMatch(regex -> regex.matcher(candidate).matches()));
            }
        }
    }

    @Test
    void aHundredThousandGlobsAreBuiltAndEachMatchesItsOwnIds() {
        List<String> patterns = IntStream.range(0, 100_000)
                .mapToObj(i -> "@user" + i + "-*:server" + (i % 97) + ".example").toList();
        UserIdMatcher matcher = UserIdMatcher.compile(patterns);

        assertThat(matcher.globCount()).isEqualTo(100_000);
        for (int i = 0; i < 100_000; i += 7) {
            assertThat(matcher.matches("@user" + i + "-bot:server" + (i % 97) + ".example")).isTrue();
            assertThat(matcher.matches("@USER" + i + "-:SERVER" + (i % 97) + ".example")).isTrue();
            assertThat(matcher.matches("@user" + i + "-bot:server" + ((i + 1) % 97) + ".example")).isFalse();
            assertThat(matcher.matches("@user" + i + ":server" + (i % 97) + ".example")).isFalse();
        }
        assertThat(matcher.matches("@user100000-x:server0.example")).isFalse();
    }

    @Test
    void aHundredThousandExactIdsAreBuiltAndMatched() {
        List<String> ids = IntStream.range(0, 100_000).mapToObj(i -> "@member" + i + ":example.com").toList();
        UserIdMatcher matcher = UserIdMatcher.compile(ids);

        assertThat(matcher.exactCount()).isEqualTo(100_000);
        assertThat(ids).allMatch(matcher::matches);
        assertThat(matcher.matches("@member100000:example.com")).isFalse();
        assertThat(matcher.matches("@Member99999:Example.com")).isTrue();
    }

    @Test
    void threadsSharingOneMatcherGetTheSameAnswersAsOne() throws Exception {
        List<String> patterns = IntStream.range(0, 2_000).mapToObj(i -> "*:s" + i + ".example").toList();
        UserIdMatcher shared = UserIdMatcher.compile(patterns);
        List<String> inputs = IntStream.range(0, 4_000).mapToObj(i -> "@u" + i + ":s" + (i % 2_500) + ".example").toList();
        List<Boolean> expected = inputs.stream().map(UserIdMatcher.compile(patterns)::matches).toList();

        List<Future<List<Boolean>>> answers = new ArrayList<>();
        try (ExecutorService threads = Executors.newFixedThreadPool(4)) {
            for (int t = 0; t < 4; t++) {
                answers.add(threads.submit(() -> inputs.stream().map(shared::matches).toList()));
            }
            for (Future<List<Boolean>> answer : answers) {
                assertThat(answer.get()).isEqualTo(expected);
            }
        }
        assertThat(expected).contains(true, false);
    }
}
