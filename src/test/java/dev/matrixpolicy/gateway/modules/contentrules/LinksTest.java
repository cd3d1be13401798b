package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.Gen;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Links are told apart without copying the ones a text repeats: the same links as copying each one finds. */
class LinksTest {
    private static final List<String> PIECES = List.of("https://docs.example.com/notes", "http://docs.example.com/notes",
            "https://docs.example.com/notes2", "http://a.example", "https://b.example:8443/x?y=1#z", "https://user@c.example/",
            "http", "https:/", "https://", "://", " ", "<", "\"", "\n", "text ", "é", "https://ｆｕｌｌ.example/");

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
                assertThat(Links.in(text, limit)).as("limit " + limit).isEqualTo(byCopies(text, limit));
            }
        });
    }

    @Test
    void manyDistinctLinksAreEachCountedOnce() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            text.append("https://spam").append(i % 250).append(".example/ ");
        }
        Links links = Links.in(text.toString(), 1000);

        assertThat(links.urls()).hasSize(250);
        assertThat(links.hosts()).hasSize(250).startsWith("spam0.example", "spam1.example");
    }

    /** The reference: every URL copied out, and a set of the copies. */
    private static Links byCopies(String text, int limit) {
        Set<String> urls = new LinkedHashSet<>();
        Set<String> hosts = new LinkedHashSet<>();
        int from = 0;
        while (urls.size() <= limit) {
            int at = text.indexOf("http", from);
            if (at < 0) {
                break;
            }
            int authority = text.startsWith("://", at + 4) ? at + 7 : text.startsWith("s://", at + 4) ? at + 8 : -1;
            if (authority < 0) {
                from = at + 4;
                continue;
            }
            int end = authority;
            while (end < text.length() && " <>\"'`".indexOf(text.charAt(end)) < 0) {
                end++;
            }
            if (end > authority && urls.add(text.substring(at, end))) {
                String host = Links.host(text.substring(authority, end));
                if (!host.isEmpty()) {
                    hosts.add(host);
                }
            }
            from = end;
        }
        return new Links(urls, hosts);
    }
}
