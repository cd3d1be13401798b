package dev.matrixpolicy.gateway.modules.contentrules;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The text of one subject (a message, a room name, a display name), gathered from its parts and
 * capped: at most {@code max-scanned-length} characters are taken, so every later pass (normalisation,
 * keywords, regexes, links, mentions) works on a bounded text however large the event. Parts are
 * joined by a new line, which normalisation turns into a space.
 *
 * <p>Each part gets its share of the cap: all of it when the parts fit together, and otherwise an
 * equal share of what the shorter parts leave (the shares of max-min fairness), so that padding one
 * part (a body of 16,384 spaces) cannot push another (the formatted body, {@code m.new_content}) out
 * of the scan.
 *
 * <p>HTML ({@code formatted_body}) is read as text: tags are dropped, the usual character references
 * decoded ({@code &amp;}, {@code &#x41;}...), and each {@code href} value is added at the end, so links
 * and {@code matrix.to} pills behind a link text are seen too; they count towards their part's share.
 * No HTML parser: a tag is what lies between {@code <} and the next {@code >}.
 */
final class RawText {
    private final int cap;
    private final List<Part> parts = new ArrayList<>();
    private StringBuilder text;
    private final List<String> hrefs = new ArrayList<>();
    /** Where the part being read must stop: its share's end, less the links taken from it. */
    private int limit;

    private record Part(String source, boolean html) {
    }

    RawText(int cap) {
        this.cap = cap;
    }

    /** Adds a plain-text part. */
    RawText add(String part) {
        parts.add(new Part(part, false));
        return this;
    }

    /** Adds an HTML part: its text, then its links. */
    RawText addHtml(String html) {
        parts.add(new Part(html, true));
        return this;
    }

    /**
     * The gathered text, links of HTML parts last; at most the cap, plus a few characters of
     * separators. Worked out once; not a copy.
     */
    CharSequence text() {
        if (text != null) {
            return text;
        }
        int[] shares = shares();
        text = new StringBuilder(Arrays.stream(shares).sum() + parts.size());
        for (int i = 0; i < parts.size(); i++) {
            if (!text.isEmpty()) {
                text.append('\n');
            }
            Part part = parts.get(i);
            limit = text.length() + shares[i];
            if (part.html()) {
                readHtml(part.source());
            } else {
                text.append(part.source(), 0, shares[i]);
            }
        }
        for (String href : hrefs) {
            text.append('\n').append(href);
        }
        return text;
    }

    /**
     * Each part's share of the cap: the shortest parts first, each getting its length or an equal
     * share of what is left, whichever is less. An HTML part's length bounds what it yields (a tag
     * or a reference never yields more characters than it has), so a part that fits is read whole.
     */
    private int[] shares() {
        Integer[] shortestFirst = new Integer[parts.size()];
        Arrays.setAll(shortestFirst, i -> i);
        Arrays.sort(shortestFirst, (a, b) -> Integer.compare(parts.get(a).source().length(), parts.get(b).source().length()));
        int[] shares = new int[parts.size()];
        int left = cap;
        for (int k = 0; k < shortestFirst.length; k++) {
            int part = shortestFirst[k];
            shares[part] = Math.min(parts.get(part).source().length(), left / (shortestFirst.length - k));
            left -= shares[part];
        }
        return shares;
    }

    private void readHtml(String html) {
        int i = 0;
        int length = html.length();
        while (i < length && text.length() < limit) {
            char c = html.charAt(i);
            if (c == '<') {
                int close = html.indexOf('>', i);
                int end = close < 0 ? length : close;
                href(html, i + 1, end);
                append(" ", 0, 1);
                i = end + 1;
            } else if (c == '&') {
                i = reference(html, i, text);
            } else {
                int run = i + 1; // up to the next tag or reference, appended at once
                while (run < length && html.charAt(run) != '<' && html.charAt(run) != '&') {
                    run++;
                }
                append(html, i, run);
                i = run;
            }
        }
    }

    private void append(String part, int from, int to) {
        int room = limit - text.length();
        if (room > 0) {
            text.append(part, from, Math.min(to, from + room));
        }
    }

    /**
     * Notes the {@code href} value of the tag between {@code from} and {@code to}, if it has one and
     * it fits whole in what is left of the part's share (a cut link could name another host).
     */
    private void href(String html, int from, int to) {
        String tag = html.substring(from, Math.min(to, from + limit - text.length())).toLowerCase(Locale.ROOT);
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
                String href = decode(html.substring(from + start, from + end));
                if (href.length() + 1 <= limit - text.length()) {
                    hrefs.add(href);
                    limit -= href.length() + 1; // with its separator
                }
                return;
            }
            at = tag.indexOf("href", at + 4);
        }
    }

    private static String decode(String value) {
        if (value.indexOf('&') < 0) {
            return value;
        }
        StringBuilder decoded = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); ) {
            if (value.charAt(i) == '&') {
                i = reference(value, i, decoded);
            } else {
                decoded.append(value.charAt(i++));
            }
        }
        return decoded.toString();
    }

    /** Decodes the character reference at {@code at} (an {@code &}) into {@code out}, or keeps the {@code &}; returns where to go on. */
    private static int reference(String html, int at, StringBuilder out) {
        int semicolon = html.indexOf(';', at);
        if (semicolon < 0 || semicolon - at > 10) {
            out.append('&');
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
            out.append('&');
            return at + 1;
        }
        out.appendCodePoint(decoded);
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
