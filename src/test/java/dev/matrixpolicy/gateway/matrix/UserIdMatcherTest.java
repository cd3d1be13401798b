package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;

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
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 50; input++) {
                String candidate = randomString(random, "abc", 8);
                assertThat(matcher.matches(candidate))
                        .as("%s against %s", candidate, patterns)
                        .isEqualTo(expected.stream().anyMatch(regex -> regex.matcher(candidate).matches()));
            }
        }
    }

    @Test
    void firstMatchNamesAPatternThatMatchesOrNoneWhenNoneDoes() {
        Random random = new Random(20261201);
        for (int round = 0; round < 300; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(8))
                    .mapToObj(i -> randomString(random, "ab*?", 6)).toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 50; input++) {
                String candidate = randomString(random, "abc", 8);
                int first = automaton.firstMatch(candidate);
                if (expected.stream().noneMatch(regex -> regex.matcher(candidate).matches())) {
                    assertThat(first).as("%s against %s", candidate, patterns).isEqualTo(-1);
                } else {
                    assertThat(first).as("%s against %s", candidate, patterns).isNotNegative();
                    assertThat(expected.get(first).matcher(candidate).matches()).as("%s against %s", candidate, patterns).isTrue();
                }
            }
        }
    }

    /** Over every path of the automaton: server tails ({@code *:b.a}), suffixes, literals between stars, the rest. */
    @Test
    void anyMatchNamesAMatchingPatternExactlyWhenFirstMatchFindsOne() {
        Random random = new Random(20261203);
        for (int round = 0; round < 300; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(8))
                    .mapToObj(i -> random.nextBoolean() ? "*:" + randomString(random, "ab.", 4) : randomString(random, "ab:*?", 6))
                    .toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 50; input++) {
                String candidate = randomString(random, "ab:.", 8);
                int any = automaton.anyMatch(candidate);
                assertThat(any >= 0).as("%s against %s", candidate, patterns).isEqualTo(automaton.firstMatch(candidate) >= 0);
                if (any >= 0) {
                    assertThat(expected.get(any).matcher(candidate).matches()).as("%s against %s", candidate, patterns).isTrue();
                }
            }
        }
    }

    @Test
    void firstMatchPrefersTheEarliestOfEqualPatterns() {
        GlobAutomaton automaton = GlobAutomaton.compile(List.of("@x*", "@spam*", "@spam*", "@sp*m*"));

        assertThat(automaton.firstMatch("@spammer")).isIn(1, 3);
        assertThat(automaton.firstMatch("@spammer")).isNotEqualTo(2);
        assertThat(automaton.firstMatch("@y")).isEqualTo(-1);
    }

    @Test
    void aPatternIsCheckedByItsMiddleOnlyWhenItsMiddleSaysMoreThanItsStart() {
        List<String> patterns = new java.util.ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            patterns.add("@airdrop" + i + "-*:*"); // its start tells it apart; its middle, ':', is in every user ID
            patterns.add("@*spam" + i + "*:*");    // its middle tells it apart
        }
        GlobAutomaton automaton = GlobAutomaton.compile(patterns);

        assertThat(automaton.infixPatterns()).isEqualTo(3_000);
        assertThat(automaton.firstMatch("@airdrop17-bot:example.org")).isEqualTo(34);
        assertThat(automaton.firstMatch("@freespam0offers:example.org")).isEqualTo(1);
        assertThat(automaton.firstMatch("@someone:example.org")).isEqualTo(-1);
    }

    @Test
    void patternsThatShareTheirMiddleAreEachCheckedOnlyWhereALiteralOfTheirOwnOccurs() {
        List<String> patterns = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            patterns.add("@*:matrix.org*z" + i); // a crowd shares ":matrix.org"; the end is each one's own
            patterns.add("@a" + i + "-*:matrix.org*"); // and here the start
        }
        GlobAutomaton automaton = GlobAutomaton.compile(patterns);

        assertThat(automaton.infixPatterns()).isEqualTo(100_000);
        assertThat(automaton.largestInfixGroup()).isEqualTo(1);
        assertThat(automaton.firstMatch("@alice:matrix.org")).isEqualTo(-1);
        assertThat(automaton.firstMatch("@alice:matrix.orgz4711")).isEqualTo(2 * 4711);
        assertThat(automaton.firstMatch("@a4711-bot:matrix.org.evil")).isEqualTo(2 * 4711 + 1);
        assertThat(automaton.firstMatch("@a4711-bot:example.org")).isEqualTo(-1);
    }

    @Test
    void aPatternIsKeyedByItsLongestMiddleWhileFewPatternsShareIt() {
        GlobAutomaton automaton = GlobAutomaton.compile(List.of("@*spam17*:matrix.org", "@*spam18*:matrix.org", "@*eggs*:matrix.org"));

        assertThat(automaton.largestInfixGroup()).isEqualTo(1);
        assertThat(automaton.firstMatch("@freespam18:matrix.org")).isEqualTo(1);
        assertThat(automaton.firstMatch("@alice:matrix.org")).isEqualTo(-1);
    }

    /** Lists of many patterns over few characters: crowds of patterns share each literal, and keys fall to their ends. */
    @Test
    void patternsKeyedAwayFromACrowdMatchExactlyAsTheirGlobs() {
        Random random = new Random(20261206);
        for (int round = 0; round < 40; round++) {
            List<String> patterns = IntStream.range(0, 200 + random.nextInt(400))
                    .mapToObj(i -> randomString(random, "ab", 1 + random.nextInt(3)) + "*" + randomString(random, "ab*", 1 + random.nextInt(4))
                            + "*" + randomString(random, "abc", random.nextInt(4)))
                    .toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 100; input++) {
                String candidate = randomString(random, "abc", 1 + random.nextInt(10));
                boolean matched = expected.stream().anyMatch(regex -> regex.matcher(candidate).matches());
                for (int found : new int[] {automaton.firstMatch(candidate), automaton.anyMatch(candidate)}) {
                    assertThat(found >= 0).as("%s against %s", candidate, patterns).isEqualTo(matched);
                    assertThat(found < 0 || expected.get(found).matcher(candidate).matches()).as("%s against %s", candidate, patterns).isTrue();
                }
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

    /** Each path's trie gets a node of 50,000 children: found by label, not by reading the list. */
    @Test
    void globsThatEachBranchOnAnotherCharacterMatchTheirOwnIds() {
        List<String> patterns = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            String character = Character.toString(0x4E00 + i);
            patterns.add("#" + character + "*:x" + i % 7); // the main trie
            patterns.add("*" + character + ":x.org"); // the suffixes
            patterns.add("#*" + character + "yy*:x"); // literals between stars
        }
        GlobAutomaton automaton = GlobAutomaton.compile(patterns);

        for (int i = 0; i < 50_000; i += 7) {
            String character = Character.toString(0x4E00 + i);
            assertThat(automaton.firstMatch("#" + character + "room:x" + i % 7)).isEqualTo(3 * i);
            assertThat(automaton.firstMatch("#room" + character + ":x.org")).isEqualTo(3 * i + 1);
            assertThat(automaton.firstMatch("#room" + character + "yy:x")).isEqualTo(3 * i + 2);
            assertThat(automaton.firstMatch("#" + character + "room:x" + (i + 1) % 7)).isEqualTo(-1);
        }
        assertThat(automaton.firstMatch("#" + Character.toString(0x4E00 + 50_000) + "yy:x.org")).isEqualTo(-1);
    }

    @Test
    void aHundredThousandServerTailsEachNameTheirOwnPattern() {
        List<String> patterns = IntStream.range(0, 100_000).mapToObj(i -> "*:bad-" + i + ".example").toList();
        GlobAutomaton automaton = GlobAutomaton.compile(patterns);

        for (int i = 0; i < 100_000; i += 7) {
            assertThat(automaton.firstMatch("@spammer:bad-" + i + ".example")).isEqualTo(i);
            assertThat(automaton.anyMatch("@spammer:bad-" + i + ".example")).isEqualTo(i);
        }
        assertThat(automaton.firstMatch("@spammer:bad-100000.example")).isEqualTo(-1);
    }

    @Test
    void patternsOfManyStarsKeepTheCacheWithinItsBoundOfNodesAndStillMatch() {
        // every such pattern keeps its star nodes active once reached: states of thousands of nodes
        List<String> patterns = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            StringBuilder pattern = new StringBuilder("@");
            for (int letter = 0, n = i; letter < 5; letter++, n /= 10) {
                pattern.append('*').append((char) ('a' + n % 10));
            }
            patterns.add(pattern.append("*?q").toString());
        }
        GlobAutomaton automaton = GlobAutomaton.compile(patterns);
        List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
        Random random = new Random(20261205);
        for (int input = 0; input < 40; input++) {
            StringBuilder id = new StringBuilder("@");
            random.ints(60, 'a', 'k').forEach(letter -> id.append((char) letter));
            String candidate = id.append(input % 2 == 0 ? "xq" : "x").toString();
            int any = automaton.anyMatch(candidate);
            assertThat(any < 0 ? expected.stream().noneMatch(p -> p.matcher(candidate).matches())
                    : expected.get(any).matcher(candidate).matches()).as("%s: any match %d", candidate, any).isTrue();
        }

        assertThat(automaton.cachedNodes()).isLessThanOrEqualTo(GlobAutomaton.MAX_CACHED_NODES);
    }

    @Test
    void aPatternGivenTwiceIsAnsweredByItsFirst() {
        GlobAutomaton automaton = GlobAutomaton.compile(List.of("@a*", "@*spam*:*", "@a*", "@*spam*:*"));

        assertThat(automaton.firstMatch("@abc:x")).isZero();
        assertThat(automaton.firstMatch("@bspamb:x")).isEqualTo(1);
        assertThat(automaton.infixPatterns()).isEqualTo(1);
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
    void boundedStateCacheStartsAfreshAndStaysCorrect() {
        GlobAutomaton automaton = GlobAutomaton.compile(List.of("*a?b*", "*ab*c", "b*"), 5);
        Pattern[] expected = {asRegex("*a?b*"), asRegex("*ab*c"), asRegex("b*")};
        Random random = new Random(7);
        for (int i = 0; i < 2_000; i++) {
            String input = randomString(random, "abc", 12);
            assertThat(automaton.matches(input)).as(input)
                    .isEqualTo(java.util.Arrays.stream(expected).anyMatch(regex -> regex.matcher(input).matches()));
            assertThat(automaton.cachedStates()).isLessThanOrEqualTo(5);
        }
    }

    @Test
    void inputsAFullCacheHasNoRoomForAreMatchedByTheAutomatonItself() {
        Random random = new Random(20261202);
        for (int round = 0; round < 200; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(8))
                    .mapToObj(i -> randomString(random, "ab*?", 6)).toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns, 1 + random.nextInt(3));
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 100; input++) {
                String candidate = randomString(random, "abc", 10);
                int first = automaton.firstMatch(candidate);
                boolean matches = expected.stream().anyMatch(regex -> regex.matcher(candidate).matches());
                assertThat(first >= 0).as("%s against %s", candidate, patterns).isEqualTo(matches);
                if (matches) {
                    assertThat(expected.get(first).matcher(candidate).matches()).as("%s against %s", candidate, patterns).isTrue();
                }
            }
        }
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

    @Test
    void literalsBetweenStarsMatchAsTheReferenceDoesAndTheLowestMatchingPatternWins() {
        Random random = new Random(20261203);
        for (int round = 0; round < 400; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(10))
                    .mapToObj(i -> literalsBetweenStars(random)).toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 60; input++) {
                String candidate = randomString(random, "abc", 12);
                int lowest = IntStream.range(0, patterns.size())
                        .filter(p -> expected.get(p).matcher(candidate).matches()).findFirst().orElse(-1);
                assertThat(automaton.firstMatch(candidate)).as("%s against %s", candidate, patterns).isEqualTo(lowest);
            }
        }
    }

    @Test
    void literalsBetweenStarsOfAWideAlphabetMatchAsTheReferenceDoes() {
        // thirty-odd distinct characters after a shared start give trie nodes more children than are read in order
        String wide = "abcdefghijklmnopqrstuvwxyz0123456789-.";
        Random random = new Random(20261205);
        for (int round = 0; round < 200; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(200))
                    .mapToObj(i -> "@" + randomString(random, "ab", 1) + "*s" + wide.charAt(random.nextInt(wide.length()))
                            + randomString(random, wide, 2) + "*" + randomString(random, ":ab", 2))
                    .toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 60; input++) {
                String candidate = "@" + randomString(random, "ab", 2) + randomString(random, "s" + wide, 6) + randomString(random, ":ab", 3);
                int lowest = IntStream.range(0, patterns.size())
                        .filter(p -> expected.get(p).matcher(candidate).matches()).findFirst().orElse(-1);
                assertThat(automaton.firstMatch(candidate)).as("%s against %s", candidate, patterns).isEqualTo(lowest);
                int any = automaton.anyMatch(candidate);
                assertThat(any < 0 ? lowest < 0 : expected.get(any).matcher(candidate).matches())
                        .as("%s against %s: any match %d", candidate, patterns, any).isTrue();
            }
        }
    }

    @Test
    void literalsAfterAStarMatchAsTheReferenceDoesAndTheLowestMatchingPatternWins() {
        Random random = new Random(20261203);
        for (int round = 0; round < 400; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(12))
                    .mapToObj(i -> "*".repeat(1 + random.nextInt(2)) + randomString(random, "ab:", 1 + random.nextInt(7))).toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 60; input++) {
                String candidate = randomString(random, "ab:", random.nextInt(10));
                int lowest = IntStream.range(0, patterns.size())
                        .filter(p -> expected.get(p).matcher(candidate).matches()).findFirst().orElse(-1);
                assertThat(automaton.firstMatch(candidate)).as("%s against %s", candidate, patterns).isEqualTo(lowest);
            }
        }
    }

    @Test
    void aServerTailMatchesByTheTextAfterTheLastColonAndTheLowestMatchingPatternWins() {
        GlobAutomaton automaton = GlobAutomaton.compile(List.of(
                "*:b.example", "*b.example", "*:b.example", "*:8448", "*:host:8448", "**:c.example", "*:"));

        assertThat(automaton.firstMatch("@a:b.example")).isZero(); // "*b.example" matches too, and is higher
        assertThat(automaton.firstMatch("@a:xb.example")).isEqualTo(1);
        assertThat(automaton.firstMatch("b.example")).isEqualTo(1);
        assertThat(automaton.firstMatch(":b.example")).isZero();
        assertThat(automaton.firstMatch("@a:host:8448")).isEqualTo(3); // its tail is ":8448"; "*:host:8448" is higher
        assertThat(automaton.firstMatch("@a:b.example:8448")).isEqualTo(3);
        assertThat(automaton.firstMatch("@a:c.example")).isEqualTo(5);
        assertThat(automaton.firstMatch("@a:")).isEqualTo(6); // "*:" is no server tail, and still matches
        assertThat(automaton.firstMatch("@a:B.example")).isEqualTo(-1); // as given: callers fold case
        assertThat(automaton.firstMatch("@a:b.example.org")).isEqualTo(-1);
        assertThat(automaton.firstMatch("b.exampl")).isEqualTo(-1);
    }

    @Test
    void serverTailsAmongPatternsOfEveryFormNeverLoseToAHigherMatch() {
        Random random = new Random(20261203L);
        for (int round = 0; round < 300; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(10))
                    .mapToObj(i -> random.nextBoolean() ? "*:" + randomString(random, "ab", 1 + random.nextInt(3))
                            : randomString(random, "a:*?", 6)).toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
            for (int input = 0; input < 50; input++) {
                String candidate = randomString(random, "ab:", 8);
                List<Integer> matching = IntStream.range(0, patterns.size())
                        .filter(p -> expected.get(p).matcher(candidate).matches()).boxed().toList();
                int first = automaton.firstMatch(candidate);
                if (matching.isEmpty()) {
                    assertThat(first).as("%s against %s", candidate, patterns).isEqualTo(-1);
                } else {
                    assertThat(matching).as("%s against %s", candidate, patterns).contains(first);
                    // a pattern "*literal" that matches is never passed over for a higher one
                    matching.stream().filter(p -> patterns.get(p).matches("\\*+[^*?]+")).findFirst()
                            .ifPresent(lowestLiteral -> assertThat(first).as("%s against %s", candidate, patterns)
                                    .isLessThanOrEqualTo(lowestLiteral));
                }
            }
        }
    }

    @Test
    void tenThousandServerTailsEachMatchTheirOwnServerAndNoOther() {
        List<String> patterns = new ArrayList<>();
        for (int n = 0; n < 10_000; n++) {
            patterns.add("*:bad-" + n + ".example");
        }
        GlobAutomaton automaton = GlobAutomaton.compile(patterns);

        for (int n = 0; n < 10_000; n++) {
            assertThat(automaton.firstMatch("@spammer" + n + ":bad-" + n + ".example")).isEqualTo(n);
            assertThat(automaton.firstMatch("@spammer:bad-" + n + ".example.org")).isEqualTo(-1);
            assertThat(automaton.firstMatch("@spammer:notbad-" + n + ".example")).isEqualTo(-1);
        }
    }

    @Test
    void aLiteralAfterAStarIsComparedByCodePointOutsideTheBasicPlane() {
        String emoji = new String(Character.toChars(0x1F600));
        GlobAutomaton automaton = GlobAutomaton.compile(List.of("*" + emoji.charAt(1), "*:x" + emoji, "*b"));

        assertThat(automaton.firstMatch("@a:x" + emoji)).isEqualTo(1);
        assertThat(automaton.firstMatch("@a:y" + emoji)).isEqualTo(-1); // its last code point is the emoji, not half of it
        assertThat(automaton.firstMatch("@a:" + emoji.charAt(1))).isZero();
        assertThat(automaton.firstMatch("ab")).isEqualTo(2);
    }

    @Test
    void tenThousandInfixGlobsEachMatchTheirOwnIdsAmongOthers() {
        List<String> patterns = new ArrayList<>();
        for (int n = 0; n < 10_000; n++) {
            patterns.add("@*spam" + n + "*:*");
            if (n % 10 == 0) {
                patterns.add("*:bad-server-" + n + ".example");
                patterns.add("@bot" + n + "-*:hs" + (n % 7) + ".example");
            }
        }
        GlobAutomaton automaton = GlobAutomaton.compile(patterns);
        List<Pattern> expected = patterns.stream().map(UserIdMatcherTest::asRegex).toList();
        Random random = new Random(13);
        for (int i = 0; i < 50; i++) {
            int n = random.nextInt(12_000);
            for (String candidate : List.of("@free" + "spam" + n + "offers:hs" + (n % 9) + ".example",
                    "@someone:bad-server-" + n + ".example", "@bot" + n + "-x:hs" + (n % 7) + ".example",
                    "@spa" + n + "m:hs1.example", "spam" + n + ":x")) {
                int lowest = IntStream.range(0, patterns.size())
                        .filter(p -> expected.get(p).matcher(candidate).matches()).findFirst().orElse(-1);
                assertThat(automaton.firstMatch(candidate)).as(candidate).isEqualTo(lowest);
            }
        }
    }

    /** A glob of literals from "ab" with at least one between two stars, such as {@code a*ba*b*}. */
    /** Literals between stars, each middle longer than the start, so that the pattern is checked by its middle. */
    private static String literalsBetweenStars(Random random) {
        StringBuilder glob = new StringBuilder(randomString(random, "ab", 1));
        for (int middle = 1 + random.nextInt(3); middle > 0; middle--) {
            glob.append('*').append(random.nextBoolean() ? "*" : "").append("a" + "ab".charAt(random.nextInt(2))
                    + randomString(random, "ab", 1));
        }
        return glob.append('*').append(randomString(random, "ab", 2)).toString();
    }

    private static String randomString(Random random, String alphabet, int maxLength) {
        StringBuilder value = new StringBuilder();
        int length = random.nextInt(maxLength + 1);
        for (int i = 0; i < length; i++) {
            value.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return value.toString();
    }

    private static Pattern asRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        for (char c : glob.toCharArray()) {
            regex.append(switch (c) {
                case '*' -> ".*";
                case '?' -> ".";
                default -> Pattern.quote(String.valueOf(c));
            });
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }
}
