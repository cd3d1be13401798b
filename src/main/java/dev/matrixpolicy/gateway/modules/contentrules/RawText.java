package dev.matrixpolicy.gateway.modules.contentrules;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The text of one subject (a message, a room name, a display name), gathered from its parts and
 * capped: past {@code max-scanned-length} characters nothing more is taken, so every later pass (normalisation,
 * keywords, regexes, links, mentions) works on a bounded text however large the event. Parts are
 * joined by a new line, which normalisation turns into a space.
 *
 * <p>HTML ({@code formatted_body}) is read as text: tags are dropped, the usual character references
 * decoded ({@code &amp;}, {@code &#x41;}...), and each {@code href} value is added at the end, so links
 * and {@code matrix.to} pills behind a link text are seen too. No HTML parser: a tag is what lies
 * between {@code <} and the next {@code >}.
 */
final class RawText {
    private final int cap;
    private final StringBuilder text = new StringBuilder();
    private final List<String> hrefs = new ArrayList<>();

    RawText(int cap) {
        this.cap = cap;
    }

    /** Adds a plain-text part. */
    RawText add(String part) {
        reserve(part.length());
        separate();
        append(part, 0, part.length());
        return this;
    }

    /** Adds an HTML part: its text, then its links. */
    RawText addHtml(String html) {
        reserve(html.length());
        separate();
        int i = 0;
        int length = html.length();
        while (i < length && !full()) {
            char c = html.charAt(i);
            if (c == '<') {
                int close = html.indexOf('>', i);
                int end = close < 0 ? length : close;
                href(html, i + 1, end);
                append(" ", 0, 1);
                i = end + 1;
            } else if (c == '&') {
                i = reference(html, i);
            } else {
                int run = i + 1; // up to the next tag or reference, appended at once
                while (run < length && html.charAt(run) != '<' && html.charAt(run) != '&') {
                    run++;
                }
                append(html, i, run);
                i = run;
            }
        }
        return this;
    }

    /**
     * The gathered text, links of HTML parts last; at most the cap, plus a few characters of
     * separators. Not a copy: the text is not added to after this.
     */
    CharSequence text() {
        for (String href : hrefs) {
            add(href);
        }
        hrefs.clear();
        return text;
    }

    private boolean full() {
        return text.length() >= cap;
    }

    private void separate() {
        if (!text.isEmpty() && !full()) {
            text.append('\n');
        }
    }

    private void append(String part, int from, int to) {
        int room = cap - text.length();
        if (room > 0) {
            text.append(part, from, Math.min(to, from + room));
        }
    }

    /** Room for a part of {@code length} characters at once, rather than by doubling from 16. */
    private void reserve(int length) {
        text.ensureCapacity(text.length() + Math.min(length, Math.max(0, cap - text.length())) + 1);
    }

    /** Notes the {@code href} value of the tag between {@code from} and {@code to}, if it has one. */
    private void href(String html, int from, int to) {
        if (hrefs.size() >= cap / 8) {
            return; // a link takes more than 8 characters: more could not fit under the cap anyway
        }
        String tag = html.substring(from, Math.min(to, from + cap)).toLowerCase(Locale.ROOT);
        int at = tag.indexOf("href");
        while (at >= 0) {
            int i = at + 4;
            while (i < tag.length() && tag.charAt(i) == ' ') {
                i++;
            }
            if (i < tag.length() && tag.charAt(i) == '=') {
                i++;
                while (i < tag.length() && tag.charAt(i) == ' ') {
                    i++;
                }
                char quote = i < tag.length() ? tag.charAt(i) : ' ';
                int start = quote == '"' || quote == '\'' ? i + 1 : i;
                int end = start;
                while (end < tag.length() && (quote == '"' || quote == '\'' ? tag.charAt(end) != quote : tag.charAt(end) != ' ')) {
                    end++;
                }
                // the original text, not the lower-cased copy: a path may be case-sensitive
                hrefs.add(decode(html.substring(from + start, from + end)));
                return;
            }
            at = tag.indexOf("href", at + 4);
        }
    }

    private static String decode(String value) {
        if (value.indexOf('&') < 0) {
            return value;
        }
        RawText decoded = new RawText(value.length());
        for (int i = 0; i < value.length(); ) {
            i = value.charAt(i) == '&' ? decoded.reference(value, i) : decoded.appendChar(value, i);
        }
        return decoded.text.toString();
    }

    private int appendChar(String value, int at) {
        text.append(value.charAt(at));
        return at + 1;
    }

    /** Decodes the character reference at {@code at} (an {@code &}), or keeps the {@code &}; returns where to go on. */
    private int reference(String html, int at) {
        int semicolon = html.indexOf(';', at);
        if (semicolon < 0 || semicolon - at > 10) {
            text.append('&');
            return at + 1;
        }
        String name = html.substring(at + 1, semicolon);
        int decoded = switch (name) {
            case "amp" -> '&';
            case "lt" -> '<';
            case "gt" -> '>';
            case "quot" -> '"';
            case "apos" -> '\'';
            case "nbsp" -> ' ';
            default -> numeric(name);
        };
        if (decoded < 0) {
            text.append('&');
            return at + 1;
        }
        text.appendCodePoint(decoded);
        return semicolon + 1;
    }

    private static int numeric(String name) {
        if (name.length() < 2 || name.charAt(0) != '#') {
            return -1;
        }
        try {
            boolean hex = name.charAt(1) == 'x' || name.charAt(1) == 'X';
            int codePoint = Integer.parseInt(name.substring(hex ? 2 : 1), hex ? 16 : 10);
            return Character.isValidCodePoint(codePoint) ? codePoint : -1;
        } catch (NumberFormatException notANumber) {
            return -1;
        }
    }
}
