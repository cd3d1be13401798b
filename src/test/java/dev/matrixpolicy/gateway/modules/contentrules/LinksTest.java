package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.Gen;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Links are found as clients linkify them, and told apart without copying the ones a text repeats:
 * the same links as copying each one finds.
 */
class LinksTest {
    /** A scheme, then any run of slashes and backslashes (one at least), then the rest up to what ends a URL. */
    private static final Pattern URL = Pattern.compile("https?:[/\\\\]++([^ <>\"'`]+)");
    private static final List<String> PIECES = List.of("https://docs.example.com/notes", "http://docs.example.com/notes",
            "https://docs.example.com/notes2", "http://a.example", "https://b.example:8443/x?y=1#z", "https://user@c.example/",
            "http", "https:/", "https://", "://", " ", "<", "\"", "\n", "text ", "é", "https://ｆｕｌｌ.example/",
            "https:\\\\", "https:/\\b.example", "https://[::1]/", "https://bit%2Ely/", "%", "https://xn--bcher-kva.example/",
            "https://www.xn--bcher-kva.example", "https://xn--zz-.example", "xn--", "https://xn--", ")", "(", "].", "https://.");
    private static final Normaliser NORMALISER = new Normaliser(true, true, false);

    @Test
    void repeatedAndNearlyRepeatedLinksAreCountedAsCopyingThemWould() {
        Gen.forAll(21L, 3_000, gen -> {
            StringBuilder text = new StringBuilder();
            for (int piece = gen.between(0, 60); piece > 0; piece--) {
                // no dot in the filler: a host written without a scheme is proven by the tests below
                text.append(gen.chance(0.8) ? gen.oneOf(PIECES) : gen.string(6).replace('.', ','));
            }
            return text.toString();
        }, text -> {
            for (int limit : new int[] {0, 1, 3, 1000}) {
                Links links = Links.in(text, limit, NORMALISER);
                assertThat(new Links(links.urls(), links.hosts(), Set.of())).as("limit " + limit).isEqualTo(byCopies(text, limit));
            }
        });
    }

    @Test
    void aLinkEndsBeforeTheTrailingPunctuationAndUnopenedParenthesisClientsLeaveOut() {
        Links links = Links.in("[a](https://example.com/a) see https://example.com/a. (https://example.com/b), "
                + "https://en.wikipedia.org/wiki/Foo_(bar) https://example.com/c?x=1!) https://example.com/d]", 1000, NORMALISER);

        assertThat(links.urls()).containsExactly("https://example.com/a", "https://example.com/b",
                "https://en.wikipedia.org/wiki/Foo_(bar)", "https://example.com/c?x=1", "https://example.com/d");
    }

    @Test
    void manyDistinctLinksAreEachCountedOnce() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            text.append("https://spam").append(i % 250).append(".example/ ");
        }
        Links links = Links.in(text.toString(), 1000, NORMALISER);

        assertThat(links.urls()).hasSize(250);
        assertThat(links.hosts()).hasSize(250).startsWith("spam0.example", "spam1.example");
    }

    @Test
    void aHostWrittenWithoutASchemeIsALinkWhenItEndsInATopLevelDomain() {
        Links links = Links.in("get it at bit.ly/free-nitro, or grabify.link. www.spam.example.com:8080/x?y=1 "
                + "(docs.example.org) nitro.xn--p1ai/a", 1000, NORMALISER);

        assertThat(links.urls()).containsExactly("bit.ly/free-nitro", "grabify.link", "www.spam.example.com:8080/x?y=1",
                "docs.example.org", "nitro.xn--p1ai/a");
        assertThat(links.hosts()).containsExactly("bit.ly", "grabify.link", "www.spam.example.com", "docs.example.org",
                Links.unicode("nitro.xn--p1ai", NORMALISER));
    }

    @Test
    void aNameWrittenAsAHostUnderNoTopLevelDomainIsKeptAsANameNotALink() {
        Links links = Links.in(NORMALISER.normalise("visit \u043F\u0440\u0438\u043C\u0435\u0440.\u0440\u0444/x or spam.example, e.g. 3.14"),
                1000, NORMALISER);

        assertThat(links.urls()).isEmpty();
        assertThat(links.names()).containsExactly(NORMALISER.normalise("\u043F\u0440\u0438\u043C\u0435\u0440.\u0440\u0444"),
                "spam.example", "e.g", "3.14");
    }

    @Test
    void dottedWordsThatEndInNoTopLevelDomainAreNoLinks() {
        assertThat(Links.in("e.g. i.e. node.js 3.14 v1.2.3 127.0.0.1 spam.example a..b .com end. x.c0m", 1000, NORMALISER).urls())
                .isEmpty();
    }

    @Test
    void theServerOfAMatrixIdAnEmailAddressAndAPathAreNoLinks() {
        assertThat(Links.in("@alice:matrix.org #room:matrix.org !abc:matrix.org mail bob@spam.com see a/b.com c\\d.com",
                1000, NORMALISER).urls()).isEmpty();
        assertThat(Links.in("link:bit.ly", 1000, NORMALISER).urls()).containsExactly("bit.ly");
    }

    @Test
    void aHostAfterALoneAtSignIsALink() {
        // no local part, no e-mail address: Element (linkifyjs) shows a link to bit.ly/x
        assertThat(Links.in("see @bit.ly/x, @grabify.link and mail bob@spam.com or @bob.io:example.org", 1000, NORMALISER).urls())
                .containsExactly("bit.ly/x", "grabify.link");
    }

    @Test
    void aHostWrittenWithoutASchemeStartsAsClientsReadIt() {
        // linkifyjs (Element's) takes no _ into such a host, nor a label's leading or trailing hyphen
        Links links = Links.in("x_bit.ly/a _bit.ly/b -bit.ly/c --grabify.link spam-.bit.ly/d a.-bit.ly/e "
                + "my_site.example.com x-bit.ly xn--bcher-kva.de __init__.py bit-.ly/f", 1000, NORMALISER);

        assertThat(links.urls()).containsExactly("bit.ly/a", "bit.ly/b", "bit.ly/c", "grabify.link", "bit.ly/d", "bit.ly/e",
                "site.example.com", "x-bit.ly", "xn--bcher-kva.de");
        assertThat(links.hosts()).containsExactly("bit.ly", "grabify.link", "site.example.com", "x-bit.ly",
                Links.unicode("xn--bcher-kva.de", NORMALISER));
    }

    @Test
    void aWordOfManyColonsIsReadInLinearTime() {
        // each dotted run after a colon once walked back to the start of its word: 13 s for 256 Ki characters
        String text = "x" + ":a.b".repeat(65_536);
        Links.in(text.substring(0, 4_096), 1000, NORMALISER);

        long start = System.nanoTime();
        Links links = Links.in(text, 1000, NORMALISER);
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(links.urls()).isEmpty();
        assertThat(millis).as("milliseconds for %d characters", text.length()).isLessThan(1_000);
        // the colon before a host is the first after a Matrix ID's sigil, or the host is no ID's server
        assertThat(Links.in("@a:b.c:grabify.link/x @alice:matrix.org:8448", 1000, NORMALISER).urls())
                .containsExactly("grabify.link/x");
    }

    @Test
    void aLinkWithAndWithoutItsSchemeIsOneLink() {
        Links links = Links.in("[bit.ly/x](https://bit.ly/x) http://bit.ly/x bit.ly/x https://bit.ly/y", 1000, NORMALISER);

        assertThat(links.urls()).containsExactly("bit.ly/x", "https://bit.ly/y");
        assertThat(links.hosts()).containsExactly("bit.ly");
        assertThat(Links.in("[bit.ly/a](https://grabify.link/b)", 1000, NORMALISER).hosts()).containsExactly("bit.ly", "grabify.link");
    }

    @Test
    void aSchemeLinkRightAfterADottedWordIsStillFound() {
        assertThat(Links.in("x.yhttps://grabify.link/a e.g.https://bit.ly", 1000, NORMALISER).urls())
                .containsExactly("https://grabify.link/a", "https://bit.ly");
    }

    /**
     * The reference: every URL with a scheme found by a regular expression and copied out, and a set
     * of the copies of what follows each scheme.
     */
    private static Links byCopies(String text, int limit) {
        Set<String> urls = new LinkedHashSet<>();
        Set<String> afterSchemes = new LinkedHashSet<>();
        Set<String> hosts = new LinkedHashSet<>();
        Matcher url = URL.matcher(text);
        for (int from = 0; urls.size() <= limit && url.find(from); ) {
            int end = Links.linkEnd(text, url.start(1), url.end());
            from = Math.max(end, url.start() + 1); // a link cut at a bracket it did not open: the rest is read again
            if (end > url.start(1) && afterSchemes.add(text.substring(url.start(1), end))) {
                urls.add(text.substring(url.start(), end));
                hosts.add(Links.unicode(Links.host(text.substring(url.start(1), end)), NORMALISER)); // empty for a host that cannot be read
            }
        }
        return new Links(urls, hosts, Set.of());
    }
}
