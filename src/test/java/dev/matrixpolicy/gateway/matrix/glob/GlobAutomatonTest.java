package dev.matrixpolicy.gateway.matrix.glob;

import static dev.matrixpolicy.gateway.matrix.glob.GlobReference.asRegex;
import static dev.matrixpolicy.gateway.matrix.glob.GlobReference.randomString;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Globs compiled into one automaton, by each of its paths: server tails, suffixes, literals between stars, and the DFA. */
class GlobAutomatonTest {
    @Test
    void firstMatchNamesAPatternThatMatchesOrNoneWhenNoneDoes() {
        Random random = new Random(20261201);
        for (int round = 0; round < 300; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(8))
                    .mapToObj(i -> randomString(random, "ab*?", 6)).toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
        Random random = new Random(20261205);
        for (int input = 0; input < 20; input++) {
            StringBuilder id = new StringBuilder("@");
            random.ints(60, 'a', 'k').forEach(letter -> id.append((char) letter));
            String candidate = id.append(input % 2 == 0 ? "xq" : "x").toString();
            int any = automaton.anyMatch(candidate);
            // a no-match by the wildcard walk: these globs' regexes backtrack through every way to place
            // six stars on an input that fails (10,000 of them took 4 s, 10 s in the tests' C1-only JVM)
            assertThat(any < 0 ? patterns.stream().noneMatch(pattern -> Globs.matches(pattern, candidate))
                    : asRegex(patterns.get(any)).matcher(candidate).matches()).as("%s: any match %d", candidate, any).isTrue();
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
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
    void literalsBetweenStarsMatchAsTheReferenceDoesAndTheLowestMatchingPatternWins() {
        Random random = new Random(20261203);
        for (int round = 0; round < 400; round++) {
            List<String> patterns = IntStream.range(0, 1 + random.nextInt(10))
                    .mapToObj(i -> literalsBetweenStars(random)).toList();
            GlobAutomaton automaton = GlobAutomaton.compile(patterns);
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
            List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
        List<Pattern> expected = patterns.stream().map(GlobReference::asRegex).toList();
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
}
