package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pure pieces under the rules: normalisation, the pattern automaton and the regex prefilter. */
class TextMatchingTest {
    private final Normaliser normaliser = new Normaliser(true, true, false);

    @Test
    void normalisationFoldsCaseCompatibilityFormsAccentsLookAlikesAndHiddenCharacters() {
        assertThat(normaliser.normalise("FREE")).isEqualTo("free");
        assertThat(normaliser.normalise("ｆｒｅｅ 𝐛𝐢𝐭𝐜𝐨𝐢𝐧")).isEqualTo("free bitcoin");
        assertThat(normaliser.normalise("frée crypto")).isEqualTo("free crypto");
        assertThat(normaliser.normalise("\u0440\u0430ypal")).isEqualTo("paypal"); // Cyrillic р and а
        assertThat(normaliser.normalise("\u039A\u0399\u039B")).isEqualTo("kiλ"); // Greek capitals; Λ is not in the table
        assertThat(normaliser.normalise("fr\u200Be\u00ADe")).isEqualTo("free");
        assertThat(normaliser.normalise("\u03F2asino")).isEqualTo("casino"); // lunate sigma: NFKC makes it a final sigma
        assertThat(normaliser.normalise("  buy \t\n  now  ")).isEqualTo("buy now");
    }

    @Test
    void fancyTextAlphabetsFoldToThePlainLetters() {
        assertThat(normaliser.normalise("\uD83C\uDD75\uD83C\uDD81\uD83C\uDD74\uD83C\uDD74")).as("negative squared").isEqualTo("free");
        assertThat(normaliser.normalise("\uD83C\uDD55\uD83C\uDD61\uD83C\uDD54\uD83C\uDD54")).as("negative circled").isEqualTo("free");
        assertThat(normaliser.normalise("\uD83C\uDDEB\uD83C\uDDF7\uD83C\uDDEA\uD83C\uDDEA")).as("regional indicators").isEqualTo("free");
        assertThat(normaliser.normalise("ꜰʀᴇᴇ ʙɪᴛᴄᴏɪɴ")).as("small capitals").isEqualTo("free bitcoin");
        assertThat(normaliser.normalise("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ")).as("every small capital").isEqualTo("abcdefghijklmnoprstuvwyz");
        assertThat(normaliser.normalise("⒡⒭⒠⒠")).as("parenthesised").isEqualTo("free");
        assertThat(normaliser.normalise("f\u0489r\u0489e\u0489e\u0489")).as("enclosing millions sign").isEqualTo("free");
        assertThat(normaliser.normalise("f\u20DDr\u20DDe\u20DDe\u20DD")).as("enclosing circle").isEqualTo("free");
        Normaliser keepingDiacritics = new Normaliser(true, false, false);
        assertThat(keepingDiacritics.normalise("⒡\u20DD\uD83C\uDD61ᴇ\uD83C\uDDEA")).as("without fold-diacritics").isEqualTo("free");
    }

    @Test
    void lookAlikeCapitalsFoldLikeTheirSmallLetters() {
        assertThat(normaliser.normalise("\u0555NLYFANS")).as("Armenian capital oh").isEqualTo("onlyfans");
        assertThat(normaliser.normalise("\u054DSDT")).as("Armenian capital seh").isEqualTo("usdt");
        assertThat(normaliser.normalise("\u04BAOT")).as("Cyrillic capital shha").isEqualTo("hot");
        assertThat(normaliser.normalise("P\u2C6DYPAL")).as("Latin capital alpha").isEqualTo("paypal");
        assertThat(normaliser.normalise("\uA7ACIFT")).as("Latin capital script g").isEqualTo("gift");
        assertThat(normaliser.normalise("\u037FACKPOT")).as("Greek capital yot").isEqualTo("jackpot");
        assertThat(normaliser.normalise("b\u1C82nus")).as("Cyrillic narrow o").isEqualTo("bonus");
        assertThat(normaliser.normalise("\u1C83asino")).as("Cyrillic wide es").isEqualTo("casino");
        assertThat(normaliser.normalise("\u0393")).as("Greek gamma is no y").isEqualTo("\u03B3");
    }

    @Test
    void variationSelectorsAndOtherInvisibleMarksAreDroppedWithoutFoldDiacritics() {
        Normaliser keepingDiacritics = new Normaliser(true, false, false);
        assertThat(keepingDiacritics.normalise("f\uFE0Fr\uFE00e\uFE0Ee")).as("variation selectors").isEqualTo("free");
        assertThat(keepingDiacritics.normalise("f\uDB40\uDD00r\uDB40\uDDEFee")).as("ideographic variation selectors").isEqualTo("free");
        assertThat(keepingDiacritics.normalise("f\u180Br\u180Ce\u180De\u180F")).as("Mongolian variation selectors").isEqualTo("free");
        assertThat(keepingDiacritics.normalise("f\u17B4re\u17B5e")).as("Khmer inherent vowels").isEqualTo("free");
    }

    /** Browsers show Unicode's reserved default ignorable code points as nothing, though the JDK knows them as unassigned. */
    @Test
    void reservedDefaultIgnorableCodePointsAreDroppedAndFillNoShareOfTheScan() {
        assertThat(normaliser.normalise("air\u2065drop")).as("U+2065").isEqualTo("airdrop");
        assertThat(normaliser.normalise("air\uFFF0dr\uFFF8op")).as("U+FFF0, U+FFF8").isEqualTo("airdrop");
        assertThat(normaliser.normalise("air\uDB40\uDC00dr\uDB40\uDC80o\uDB43\uDFFFp")).as("U+E0000, U+E0080, U+E0FFF").isEqualTo("airdrop");
        assertThat(new RawText(256).add("\u2065".repeat(1000) + "airdrop").text().toString()).endsWith("airdrop");
    }

    @Test
    void leetDigitsAndDiacriticsFoldOnlyWhenAskedTo() {
        assertThat(normaliser.normalise("fr33")).isEqualTo("fr33");
        assertThat(new Normaliser(true, true, true).normalise("fr33 b1tc01n")).isEqualTo("free bitcoin");
        assertThat(new Normaliser(true, false, false).normalise("frée")).isEqualTo("frée");
        assertThat(new Normaliser(false, true, false).normalise("\u0440\u0430ypal")).isEqualTo("\u0440\u0430ypal");
    }

    @Test
    void formattedBodiesAreReadAsAClientRendersThem() {
        assertThat(read("1 < 2 airdrop <3")).isEqualTo("1 < 2 airdrop <3");
        assertThat(read("air<b></b>drop, air<span class=x>drop</span>, air<!-- a > b -->drop, air<!-->drop")).isEqualTo(
                "airdrop, airdrop, airdrop, airdrop");
        assertThat(read("<p>one</p><p>two</p>three<br/>four<li>five")).isEqualTo("one two three four five");
        assertThat(read("c&alpha;sino &Eacute;t&eacute; it&apos;s &#x1F600; &#65;&#x42; &bogus; &#xZZ; & &amp")).isEqualTo(
                "casino ete it's 😀 ab &bogus; &#xzz; & &");
        assertThat(read("spam&period;example&colon; fr&#0000000101;e &CounterClockwiseContourIntegral;"))
                .as("every name of the HTML standard, and zeros before a number").isEqualTo("spam.example: free \u2233");
        assertThat(new RawText(64).addHtml("&NotEqualTilde;").text().toString()).as("two code points").isEqualTo("\u2242\u0338");
        assertThat(read("&#" + "0".repeat(40) + "104;ttps://evil.example &#x" + "0".repeat(40) + "68;i &#x110000; &#0;"))
                .as("any number of zeros, as a browser reads them").isEqualTo("https://evil.example hi \uFFFD \uFFFD");
        assertThat(read("<a href=\"https://spam.example/&amp;x\">here</a><!-- href=https://not.a.link -->"))
                .isEqualTo("here https://spam.example/&x");
    }

    /** A browser decodes a number without its ';', and a legacy name (HTML 4's) too, except in an attribute before '=' or a letter. */
    @Test
    void referencesWithoutTheirSemicolonAreDecodedWhereABrowserDecodesThem() {
        assertThat(read("&#97irdrop &#x61irdrop c&aacutesino &ampx &notit; &copy2026")).isEqualTo("airdrop airdrop casino &x ¬it; ©2026");
        assertThat(read("&aacut &zwj &bogus &#")).as("no legacy name, or none of its prefixes").isEqualTo("&aacut &zwj &bogus &#");
        assertThat(read("<a href=\"https&#58//bit&#46ly/x\">click</a>")).isEqualTo("click https://bit.ly/x");
        assertThat(read("<a href=\"https://spam.example/?a=1&copy=2&not_x&amp\">x</a>"))
                .isEqualTo("x https://spam.example/?a=1&copy=2¬_x&");
    }

    /** Attributes as the HTML tokenizer splits them: an '=' in a tag's name or an unquoted value starts no quoted value. */
    @Test
    void anEqualsSignOutsideAnAttributesValueHidesNoTextAfterTheTag() {
        assertThat(read("<b a=x=\">airdrop")).isEqualTo("airdrop");
        assertThat(read("<b=\">airdrop")).isEqualTo("airdrop");
        assertThat(read("<!x=\">airdrop <?x=\">casino")).isEqualTo("airdrop casino");
        assertThat(read("<b a=x=\">see <a href=https://bit.ly/x>x</a>")).isEqualTo("see x https://bit.ly/x");
        assertThat(read("<b title=\"a > b\">airdrop</b>")).as("a quoted value's '>'").isEqualTo("airdrop");
        assertThat(read("<b title=\"never closed>airdrop")).as("a browser shows nothing either").isEmpty();
        assertThat(read("</ x=\"y>airdrop\"> </>casino")).as("</ and no letter: a bogus comment").isEqualTo("airdrop\"> casino");
    }

    /** What shows as nothing, or as one space, takes no room in the scan, however it is written. */
    @Test
    void invisibleCharactersAndRunsOfWhiteSpaceWrittenAnyWayLeaveTheWordsAfterThemInTheScan() {
        for (String padding : List.of("&#8203;", "&ZeroWidthSpace;", "&shy;", "&#32;", "&nbsp;", " ", "\u00A0", "\u200B", "<b></b>")) {
            assertThat(read(padding.repeat(20_000) + "airdrop")).as(padding).isEqualTo("airdrop");
        }
        assertThat(normaliser.normalise(new RawText(16384).add(" ".repeat(20_000) + "airdrop").text())).as("a plain body")
                .isEqualTo("airdrop");
        assertThat(RawText.shownLength("&#8203;".repeat(2001) + "hi", false)).isEqualTo(2);
    }

    /** Each part is read up to a fair share of the cap; a share a part does not fill is the longer parts'. */
    @Test
    void theShareOfTheScanAPartDoesNotFillGoesToTheOthers() {
        String body = "x".repeat(12_000) + " airdrop";

        CharSequence text = new RawText(16384).add(body).addHtml("<b></b>".repeat(2000) + "hi").text();

        assertThat(normaliser.normalise(text)).endsWith("airdrop hi");
        CharSequence wide = new RawText(16384).add("\uD83D\uDE00".repeat(6000) + " airdrop").addHtml("<b></b>".repeat(2000) + "hi").text();
        assertThat(wide.toString()).as("characters of two code units").endsWith("airdrop\nhi");
    }

    @Test
    void anImageAndTableTagsOutsideATableSplitNoWordButCellsOfATableDo() {
        assertThat(read("Claim your air<img src=\"mxc://x/y\">drop now")).isEqualTo("claim your airdrop now");
        for (String tag : List.of("td", "tr", "th", "tbody", "thead", "tfoot", "caption", "col", "colgroup")) {
            assertThat(read("air<" + tag + ">drop</" + tag + ">")).as(tag).isEqualTo("airdrop");
        }
        assertThat(read("<table><tr><td>air</td><td>drop</td></tr></table>now")).isEqualTo("air drop now");
        assertThat(read("<table><caption>a</caption><tr><th>b<td>c</table>d<td>e")).isEqualTo("a b c de");
    }

    private String read(String html) {
        return normaliser.normalise(new RawText(16384).addHtml(html).text());
    }

    @Test
    void automatonReportsEveryOccurrenceOfEveryPatternInOnePass() {
        PatternAutomaton automaton = PatternAutomaton.of(List.of("he", "she", "his", "hers", "he"));
        List<String> found = new ArrayList<>();

        automaton.scan("ushers", (pattern, end) -> found.add(pattern + "@" + end));

        assertThat(found).containsExactlyInAnyOrder("1@4", "0@4", "4@4", "3@6");
    }

    @Test
    void automatonHandlesCharactersOutsideAscii() {
        PatternAutomaton automaton = PatternAutomaton.of(List.of("λόγος", "ос"));
        List<Integer> found = new ArrayList<>();

        automaton.scan("ο λόγος, лосось", (pattern, end) -> found.add(pattern));

        assertThat(found).containsExactly(0, 1, 1);
    }

    @Test
    void regexPrefilterTakesOnlyRequiredLiteralRuns() {
        assertThat(RegexLiterals.required("free\\s+bitcoin\\d+")).contains("bitcoin");
        assertThat(RegexLiterals.required("https?://bit\\.ly/\\w+")).contains("://bit.ly/");
        assertThat(RegexLiterals.required("Casino(s)? online")).contains(" online");
        assertThat(RegexLiterals.required("abcd?e")).contains("abc");
        assertThat(RegexLiterals.required("x{2,}yyyy")).contains("yyyy");
        assertThat(RegexLiterals.required("[a-z]+ing now")).contains("ing now");
        assertThat(RegexLiterals.required("(viagra|cialis) now")).contains(" now"); // the alternation is inside a group
    }

    @Test
    void regexPrefilterGivesNothingWhereALiteralIsNotRequiredOrNotUnderstood() {
        assertThat(RegexLiterals.required("viagra|cialis")).isEmpty();
        assertThat(RegexLiterals.required("ab")).isEmpty();
        assertThat(RegexLiterals.required("\\Qa|b\\E")).isEmpty();
        assertThat(RegexLiterals.required("\\x41bcd")).isEmpty();
        assertThat(RegexLiterals.required("\\p{L}abcd")).isEmpty();
        assertThat(RegexLiterals.required("abc{x}")).isEmpty();
    }
}
