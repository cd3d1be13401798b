package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.Gen;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Links are told apart without copying the ones a text repeats: the same links as copying each one finds. */
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
                text.append(gen.chance(0.8) ? gen.oneOf(PIECES) : gen.string(6));
            }
            return text.toString();
        }, text -> {
            for (int limit : new int[] {0, 1, 3, 1000}) {
                assertThat(Links.in(text, limit, NORMALISER)).as("limit " + limit).isEqualTo(byCopies(text, limit));
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

    /** The reference: every URL found by a regular expression and copied out, and a set of the copies. */
    private static Links byCopies(String text, int limit) {
        Set<String> urls = new LinkedHashSet<>();
        Set<String> hosts = new LinkedHashSet<>();
        Matcher url = URL.matcher(text);
        while (urls.size() <= limit && url.find()) {
            int end = Links.linkEnd(text, url.start(1), url.end());
            if (end > url.start(1) && urls.add(text.substring(url.start(), end))) {
                hosts.add(Links.unicode(Links.host(text.substring(url.start(1), end)), NORMALISER)); // empty for a host that cannot be read
            }
        }
        return new Links(urls, hosts);
    }
}
