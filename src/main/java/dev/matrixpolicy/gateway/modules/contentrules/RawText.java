package dev.matrixpolicy.gateway.modules.contentrules;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntUnaryOperator;
import org.jsoup.nodes.Entities;

/**
 * The text of one subject (a message, a room name, a display name), gathered from its parts and
 * capped: at most {@code max-scanned-length} characters of text come out of the parts, so every later
 * pass (normalisation, keywords, regexes, links, mentions) works on a bounded text however large the
 * event. Parts are joined by a new line, which normalisation turns into a space.
 *
 * <p>Each part gets its share of the cap: all of it when the parts fit together, and otherwise an
 * equal share of what the parts that show less leave (the shares of max-min fairness, over what each
 * part shows, learnt by reading it on its own first), so that padding one part cannot push another
 * (the formatted body, {@code m.new_content}) out of the scan. A share counts what a reader sees,
 * never what shows as nothing: markup, the characters {@link Normaliser#isInvisible} drops, nonspacing
 * marks (which show on the letter before them; past a stream-safe run of 30 they are not kept) and each
 * white space after another, however written (a character or a reference), are passed over without
 * counting (in time linear in the part, which the body's size bounds), so that 16,384 zero-width
 * spaces, 16,384 spaces or 2,400 empty {@code <b></b>} cannot push the words after them out of the
 * scan either.
 *
 * <p>HTML ({@code formatted_body}) is read as text, as a client renders it: a {@code <} followed by a
 * letter, {@code /}, {@code !} or {@code ?} starts a tag (any other is text, {@code 1 < 2}), tokenised
 * as HTML does ({@link #tagEnd}); a tag that breaks a line or stands alone ({@code <p>}, {@code <br>},
 * {@code <li>}, a table's cells inside a table...) reads as a space, and inline formatting ({@code <b>},
 * {@code <span>}...), comments and unknown tags as nothing, so {@code air<b></b>drop} is
 * {@code airdrop}. Character references are decoded as a browser decodes them ({@link #reference}):
 * numeric ones, with or without their {@code ;}, every named one of the HTML standard (jsoup's table)
 * and, without their {@code ;}, the legacy ones. Each {@code href} value is added at the end, so links
 * and {@code matrix.to} pills behind a link text are seen too, and so is each {@code data-mx-spoiler}
 * value, a spoiler's reason, which clients show in plain sight. No HTML parser.
 */
final class RawText {
    /** Tags read as a space: they break a line or stand alone where a client renders them. */
    private static final Set<String> SEPARATING = Set.of("address", "article", "aside", "blockquote", "br",
            "dd", "details", "div", "dl", "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
            "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "ul");

    /**
     * The parts of a table: a space inside a {@code <table>}, and nothing outside one, where a browser's
     * parser drops them ({@code air<td>drop} shows {@code airdrop}). An {@code <img>} is inline: nothing
     * between letters either.
     */
    private static final Set<String> TABLE_PARTS = Set.of("caption", "col", "colgroup", "tbody", "td", "tfoot", "th",
            "thead", "tr");

    /**
     * Elements whose content a client never shows, read up to their own end tag: the sanitiser of
     * Element (sanitize-html) drops {@code script}, {@code style} and {@code textarea} with what they
     * hold, so {@code air<style>x</style>drop} reads {@code airdrop}. Not {@code option} or
     * {@code noscript}, whose content another end tag closes: left as text, read more rather than less.
     */
    private static final Set<String> NOT_SHOWN = Set.of("script", "style", "textarea");

    /**
     * A reply's fallback in its formatted body, which clients remove before they show a reply
     * (Element strips it only from an event that is a reply; in any other, its sanitiser drops the
     * unknown tag and shows what it holds, as MSC2781 lets clients do): not read in a reply's HTML
     * part ({@link #addReplyHtml}), read as text in any other.
     */
    private static final String REPLY_FALLBACK = "mx-reply";

    /**
     * What a numeric reference to a C1 control stands for, as the HTML standard decodes it (the
     * Windows-1252 characters): {@code &#x9A;} is {@code š}; 0 where the control stays itself.
     */
    private static final char[] WINDOWS_1252 = {
            '\u20AC', 0, '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021', '\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', 0, '\u017D', 0,
            0, '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014', '\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', 0, '\u017E', '\u0178'};

    /** How far after its {@code &} a reference's {@code ;} may stand: the longest name, {@code &CounterClockwiseContourIntegral;}. */
    private static final int MAX_REFERENCE = 32;

    private final int cap;
    private final List<Part> parts = new ArrayList<>();
    private StringBuilder text;
    /** How many characters of {@link #text} count toward the cap, once it is worked out. */
    private int shown;
    /** Whether the HTML read last showed white space: what follows it up to the next text shows as none. */
    private boolean spaced;
    /**
     * Whether white space in a {@code <pre>} is kept as shown (each new line a line, each space a space):
     * only when measuring what a formatted body shows ({@link #shownLength}). The scan still reads a run
     * as one space, so padding a {@code <pre>} cannot push words out of it.
     */
    private boolean keepingPre;
    /** How many nonspacing marks in a row were read last: they count nothing, and past a stream-safe run are dropped. */
    private int marksInRow;
    /** How many {@code <pre>} elements the HTML read is inside. */
    private int preDepth;
    /** How many {@code <table>} elements the HTML read is inside. */
    private int tableDepth;
    /** The {@code href} and {@code data-mx-spoiler} values of the HTML read, added after the text. */
    private final List<String> attributeTexts = new ArrayList<>();
    /** The character a reference stands for, reused from one reference to the next. */
    private final StringBuilder referenced = new StringBuilder(2);

    /** @param hidesReplyFallback whether the HTML part is a reply's, whose {@code <mx-reply>} clients remove */
    private record Part(String source, boolean html, boolean hidesReplyFallback) {
    }

    /** Whether the HTML part read now is a reply's: its {@link #REPLY_FALLBACK} is never shown. */
    private boolean hidingReplyFallback;

    RawText(int cap) {
        this.cap = cap;
    }

    /**
     * The length in code points of the text an HTML part shows, read whole and uncapped: what
     * {@code max-length} and {@code repeated.min-length} count of a formatted body, which clients show
     * in place of the body (a body of "." cannot hide a formatted wall of text).
     */
    static int shownLength(String html, boolean ofAReply) {
        RawText whole = new RawText(Integer.MAX_VALUE);
        whole.text = new StringBuilder();
        whole.keepingPre = true;
        whole.hidingReplyFallback = ofAReply;
        whole.readHtml(html, Integer.MAX_VALUE);
        return whole.text.codePointCount(0, whole.text.length());
    }

    /** Adds a plain-text part. */
    RawText add(String part) {
        parts.add(new Part(part, false, false));
        return this;
    }

    /** Adds an HTML part: its text, then its links. */
    RawText addHtml(String html) {
        parts.add(new Part(html, true, false));
        return this;
    }

    /** Adds a reply's HTML part: as {@link #addHtml}, without the reply's fallback, which clients hide. */
    RawText addReplyHtml(String html) {
        parts.add(new Part(html, true, true));
        return this;
    }

    /**
     * The gathered text, links of HTML parts last; at most the cap, plus a few characters of
     * separators. Worked out once; not a copy.
     *
     * <p>When the parts' lengths exceed the cap together, each is first read on its own up to the
     * cap, to learn how much it shows (less than its length when it holds markup, invisible
     * characters or runs of white space), and the shares go by that: a part mostly markup leaves
     * the rest of its share to the others.
     */
    CharSequence text() {
        if (text != null) {
            return text;
        }
        long total = parts.stream().mapToLong(part -> part.source().length()).sum();
        if (total <= cap || parts.size() == 1) {
            read(shares(part -> parts.get(part).source().length()));
        } else {
            int[] alone = new int[parts.size()];
            Arrays.fill(alone, cap);
            int[] shown = read(alone);
            read(shares(part -> shown[part]));
        }
        return text;
    }

    /** Reads every part up to its share into {@link #text}, links last; returns what each part showed. */
    private int[] read(int[] shares) {
        long most = 0;
        for (int part = 0; part < shares.length; part++) {
            most += Math.min(shares[part], parts.get(part).source().length());
        }
        text = new StringBuilder((int) Math.min(most + parts.size(), Integer.MAX_VALUE - 8));
        attributeTexts.clear();
        int[] shown = new int[parts.size()];
        for (int i = 0; i < parts.size(); i++) {
            if (!text.isEmpty()) {
                text.append('\n');
            }
            Part part = parts.get(i);
            spaced = false;
            marksInRow = 0;
            hidingReplyFallback = part.hidesReplyFallback();
            shown[i] = part.html() ? readHtml(part.source(), shares[i]) : appendVisible(part.source(), 0, part.source().length(), shares[i]);
        }
        this.shown = Arrays.stream(shown).sum();
        for (String value : attributeTexts) {
            text.append('\n').append(value);
        }
        return shown;
    }

    /**
     * Each part's share of the cap, by what it asks for: the smallest asks first, each getting what it
     * asks or an equal share of what is left, whichever is less (max-min fairness).
     */
    private int[] shares(IntUnaryOperator asks) {
        Integer[] smallestFirst = new Integer[parts.size()];
        Arrays.setAll(smallestFirst, i -> i);
        Arrays.sort(smallestFirst, (a, b) -> Integer.compare(asks.applyAsInt(a), asks.applyAsInt(b)));
        int[] shares = new int[parts.size()];
        int left = cap;
        for (int k = 0; k < smallestFirst.length; k++) {
            int part = smallestFirst[k];
            shares[part] = Math.min(asks.applyAsInt(part), left / (smallestFirst.length - k));
            left -= shares[part];
        }
        return shares;
    }

    /**
     * Appends the characters of {@code source[from, to)} that show, up to {@code most} of them;
     * returns how many it appended. What shows as nothing is neither counted nor appended: the
     * characters {@link Normaliser#isInvisible} drops, and each white space after another (a run shows
     * as one, in HTML, and normalisation makes it one anyway), so that neither fills the cap.
     */
    private int appendVisible(String source, int from, int to, int most) {
        int appended = 0;
        int run = from; // the start of the characters not appended yet, appended a run at a time
        int i = from;
        while (i < to && appended < most) {
            char c = source.charAt(i);
            int codePoint = c < 0x80 ? c : source.codePointAt(i);
            int next = i + (c < 0x80 ? 1 : Character.charCount(codePoint));
            byte kind = Normaliser.kind(codePoint);
            boolean space = kind == Normaliser.SPACE;
            if (space ? spaced && !(keepingPre && preDepth > 0) : kind == Normaliser.INVISIBLE) {
                text.append(source, run, i);
                run = next;
            } else if (kind == Normaliser.MARK) {
                // a mark shows on the letter before it, which counted: it counts nothing itself, and
                // past a stream-safe run it is not kept either, so that the text stays bounded
                if (++marksInRow > Normaliser.LONGEST_MARK_RUN) {
                    text.append(source, run, i);
                    run = next;
                }
            } else {
                appended += next - i;
                spaced = space;
                marksInRow = 0;
            }
            i = next;
        }
        text.append(source, run, i);
        return appended;
    }

    /**
     * Reads an HTML part until {@code share} characters of text (links included) have come out of it.
     * A tag (or a reference) that the part ends in is not read: a cut link could name another host.
     */
    private int readHtml(String html, int share) {
        spaced = false;
        preDepth = 0;
        tableDepth = 0;
        int end = html.length();
        int produced = 0;
        int i = 0;
        while (i < end && produced < share) {
            char c = html.charAt(i);
            if (c == '<' && i + 1 < end && startsTag(html.charAt(i + 1))) {
                int close = tagEnd(html, i);
                if (close < 0) {
                    return produced;
                }
                String name = tagName(html, i + 1, close);
                if (!name.isEmpty()) { // not a comment, whose href= is no link
                    produced += attributes(html, i + 1, close, share - produced);
                }
                boolean startTag = html.charAt(i + 1) != '/' && html.charAt(close - 1) != '/';
                if (name.equals("pre")) {
                    preDepth = Math.max(0, preDepth + (startTag ? 1 : -1));
                } else if (name.equals("table")) {
                    tableDepth = Math.max(0, tableDepth + (startTag ? 1 : -1));
                }
                if (SEPARATING.contains(name) || (tableDepth > 0 && TABLE_PARTS.contains(name))) {
                    text.append(' ');
                    if (!spaced) { // <p><p><p> shows as one break
                        produced++;
                    }
                    spaced = true;
                }
                i = close + 1;
                if (startTag && (NOT_SHOWN.contains(name) || hidingReplyFallback && name.equals(REPLY_FALLBACK))) {
                    i = afterEndTag(html, i, name); // what it holds is never shown
                }
            } else if (c == '&') {
                referenced.setLength(0);
                i = reference(html, i, end, referenced, false);
                char first = referenced.charAt(0);
                if (referenced.length() == 1 && first > ' ' && first < 0x7F) { // '&' kept, or &amp; &lt; &#65;: shows as itself
                    text.append(first);
                    produced++;
                    spaced = false;
                } else { // &#8203; and &nbsp;&nbsp; show as what they stand for: nothing, and one space
                    produced += appendVisible(referenced.toString(), 0, referenced.length(), share - produced);
                }
            } else {
                int run = i + 1; // up to the next tag or reference
                while (run < end && html.charAt(run) != '<' && html.charAt(run) != '&') {
                    run++;
                }
                produced += appendVisible(html, i, run, share - produced);
                if (produced >= share) {
                    return produced;
                }
                i = run;
            }
        }
        return produced;
    }

    /**
     * Where the text after the end tag of {@code name} starts, looked for from {@code from}; the end of
     * the part when there is none (a browser shows nothing of an unclosed one either).
     */
    private static int afterEndTag(String html, int from, String name) {
        for (int at = html.indexOf("</", from); at >= 0; at = html.indexOf("</", at + 2)) {
            int after = at + 2 + name.length();
            if (html.regionMatches(true, at + 2, name, 0, name.length())
                    && (after >= html.length() || !Character.isLetterOrDigit(html.charAt(after)))) {
                int close = html.indexOf('>', after);
                return close < 0 ? html.length() : close + 1;
            }
        }
        return html.length();
    }

    /**
     * The {@code >} that ends the tag starting at {@code start}, a comment's {@code -->} (or
     * {@code --!>}, which ends one too) for a comment; -1 when none does.
     */
    private static int tagEnd(String html, int start) {
        if (html.startsWith("<!--", start)) {
            int dashes = html.indexOf("--", start + 2); // from the first dash: <!--> is an empty comment
            while (dashes >= 0) {
                if (html.startsWith("-->", dashes)) {
                    return dashes + 2;
                }
                if (html.startsWith("--!>", dashes)) {
                    return dashes + 3;
                }
                dashes = html.indexOf("--", dashes + 1);
            }
            return -1;
        }
        char kind = html.charAt(start + 1);
        boolean endTag = kind == '/' && start + 2 < html.length() && isAsciiLetter(html.charAt(start + 2));
        if (kind == '!' || kind == '?' || (kind == '/' && !endTag)) {
            // a bogus comment (a doctype, </ x>): no attributes, up to the first '>'
            return html.indexOf('>', start + 2);
        }
        // attributes as HTML tokenises them: a quoted value runs to its closing quote, '>' and '<' inside it
        // included; an '=' starts a value only after an attribute's name, not in a name or an unquoted value
        int length = html.length();
        int i = start + 2;
        while (i < length && !isHtmlSpace(html.charAt(i)) && html.charAt(i) != '/' && html.charAt(i) != '>') {
            i++; // the tag's name
        }
        while (i < length) {
            char c = html.charAt(i);
            if (c == '>') {
                return i;
            }
            if (isHtmlSpace(c) || c == '/') {
                i++;
                continue;
            }
            i++; // an attribute's name, whose first character may be '='
            while (i < length && !isHtmlSpace(html.charAt(i)) && "/>=".indexOf(html.charAt(i)) < 0) {
                i++;
            }
            while (i < length && isHtmlSpace(html.charAt(i))) {
                i++;
            }
            if (i >= length || html.charAt(i) != '=') {
                continue; // no value
            }
            i++;
            while (i < length && isHtmlSpace(html.charAt(i))) {
                i++;
            }
            if (i < length && (html.charAt(i) == '"' || html.charAt(i) == '\'')) {
                int close = html.indexOf(html.charAt(i), i + 1);
                if (close < 0) {
                    return -1; // the value runs to the end: a browser shows nothing after it either
                }
                i = close + 1;
            } else {
                while (i < length && !isHtmlSpace(html.charAt(i)) && html.charAt(i) != '>') {
                    i++; // an unquoted value: quotes and '=' in it are its own
                }
            }
        }
        return -1;
    }

    /** Whether a {@code <} followed by {@code next} starts a tag, as the HTML standard says. */
    private static boolean startsTag(char next) {
        return isAsciiLetter(next) || next == '/' || next == '!' || next == '?';
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /**
     * The lower-cased name of the tag between {@code from} and {@code to}, an end tag's too; empty for a
     * comment. As HTML reads it (and Element's sanitiser), a name runs to white space, {@code /} or the
     * tag's end: {@code <style_>} is an unknown tag whose text shows, not a {@code <style>}.
     */
    private static String tagName(String html, int from, int to) {
        int start = html.charAt(from) == '/' ? from + 1 : from;
        if (start >= to || !isAsciiLetter(html.charAt(start))) {
            return "";
        }
        int end = start;
        while (end < to && !isHtmlSpace(html.charAt(end)) && html.charAt(end) != '/') {
            end++;
        }
        return html.substring(start, end).toLowerCase(Locale.ROOT);
    }

    /**
     * Notes the {@code href} value and the {@code data-mx-spoiler} value (a spoiler's reason, which
     * Element shows in plain sight) of the tag between {@code from} and {@code to}, if it has them and
     * they fit in {@code room} characters; returns their length, or 0. The attributes are read as the
     * HTML standard tokenises them: names and values separated by any white space, a value quoted or
     * not, the first of a name counting, so that neither {@code data-href=} nor {@code title="href=x"}
     * is taken for the link.
     */
    private int attributes(String html, int from, int to, int room) {
        boolean hrefSeen = false;
        boolean spoilerSeen = false;
        int noted = 0;
        int i = from;
        while (i < to && !isHtmlSpace(html.charAt(i)) && html.charAt(i) != '/') {
            i++; // the tag's name
        }
        while (i < to) {
            while (i < to && (isHtmlSpace(html.charAt(i)) || html.charAt(i) == '/')) {
                i++;
            }
            int nameStart = i;
            while (i < to && !isHtmlSpace(html.charAt(i)) && html.charAt(i) != '/' && (html.charAt(i) != '=' || i == nameStart)) {
                i++;
            }
            boolean isHref = !hrefSeen && isName(html, nameStart, i, "href");
            boolean isSpoiler = !spoilerSeen && isName(html, nameStart, i, "data-mx-spoiler");
            hrefSeen |= isHref;
            spoilerSeen |= isSpoiler;
            while (i < to && isHtmlSpace(html.charAt(i))) {
                i++;
            }
            if (i >= to || html.charAt(i) != '=') {
                continue; // an attribute without a value
            }
            i++;
            while (i < to && isHtmlSpace(html.charAt(i))) {
                i++;
            }
            char quote = i < to ? html.charAt(i) : ' ';
            int valueStart = quote == '"' || quote == '\'' ? i + 1 : i;
            int valueEnd = valueStart;
            while (valueEnd < to && (quote == '"' || quote == '\'' ? html.charAt(valueEnd) != quote : !isHtmlSpace(html.charAt(valueEnd)))) {
                valueEnd++;
            }
            i = valueEnd + 1;
            if (isHref) {
                String href = asBrowsersRead(decode(html.substring(valueStart, valueEnd)));
                if (href.length() > room - noted) {
                    href = upToItsPath(href); // a long path must not take the host out of the link rules
                }
                if (href.length() <= room - noted) {
                    attributeTexts.add(href);
                    noted += href.length();
                }
            } else if (isSpoiler) { // read as text is: what shows as nothing neither counts nor is kept
                RawText reason = new RawText(room - noted).add(decode(html.substring(valueStart, valueEnd)));
                attributeTexts.add(reason.text().toString());
                noted += reason.shown;
            }
        }
        return noted;
    }

    private static boolean isName(String html, int from, int to, String name) {
        return to - from == name.length() && html.regionMatches(true, from, name, 0, name.length());
    }

    /**
     * A link as a browser's URL parser reads it: tabs and line breaks anywhere removed, leading and
     * trailing spaces and controls too ({@code ht&#9;tps://}), and a link without a scheme
     * ({@code //bit.ly/x}) taken as {@code https:}, as a client served over https opens it.
     */
    static String asBrowsersRead(String href) {
        if (isPlainLink(href)) {
            return href; // the usual link, read as it is written: no copies made of it
        }
        String read = href.strip().replace("\t", "").replace("\n", "").replace("\r", "");
        int start = 0;
        while (start < read.length() && read.charAt(start) <= ' ') {
            start++;
        }
        read = read.substring(start);
        if (read.startsWith("//") || read.startsWith("\\\\") || read.startsWith("/\\") || read.startsWith("\\/")) {
            read = "https:" + read;
        }
        int colon = read.regionMatches(true, 0, "https:", 0, 6) ? 5 : read.regionMatches(true, 0, "http:", 0, 5) ? 4 : -1;
        if (colon < 0) {
            return read;
        }
        int authority = colon + 1;
        while (authority < read.length() && (read.charAt(authority) == '/' || read.charAt(authority) == '\\')) {
            authority++;
        }
        // http:host is http://host to a browser; the host's escapes decoded before any folding reads them
        int end = Links.endOfAuthority(read, authority);
        return read.substring(0, colon + 1) + "//" + Links.percentDecoded(read.substring(authority, end)) + read.substring(end);
    }

    /**
     * Whether a link reads the same to a browser as written: {@code http://} or {@code https://} and a
     * host, no white space, control or backslash anywhere, no escape in the host.
     */
    private static boolean isPlainLink(String href) {
        int authority = href.startsWith("https://") ? 8 : href.startsWith("http://") ? 7 : -1;
        if (authority < 0 || authority >= href.length() || href.charAt(authority) == '/') {
            return false;
        }
        boolean inAuthority = true;
        for (int i = authority; i < href.length(); i++) {
            char c = href.charAt(i);
            if (c <= ' ' || c == '\\' || (inAuthority && c == '%')) {
                return false;
            }
            inAuthority &= c != '/' && c != '?' && c != '#';
        }
        return true;
    }

    /** A link as {@link #asBrowsersRead} wrote it, cut after its authority. */
    private static String upToItsPath(String href) {
        int slashes = href.indexOf("//");
        return slashes < 0 ? href : href.substring(0, Links.endOfAuthority(href, slashes + 2));
    }

    /** White space as the HTML standard has it (between attributes, and shown as one in text): tab, line feed, form feed, carriage return, space. */
    private static boolean isHtmlSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
    }

    private static String decode(String value) {
        if (value.indexOf('&') < 0) {
            return value;
        }
        StringBuilder decoded = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); ) {
            if (value.charAt(i) == '&') {
                i = reference(value, i, value.length(), decoded, true);
            } else {
                decoded.append(value.charAt(i++));
            }
        }
        return decoded.toString();
    }

    /**
     * Decodes the character reference at {@code at} (an {@code &}), ending before {@code end}, into
     * {@code out}, or keeps the {@code &}; returns where to go on. As the HTML standard decodes them:
     * a number ends at its last digit, with or without its {@code ;} ({@code &#97irdrop} is
     * {@code airdrop}); a name needs its {@code ;}, except the legacy names HTML 4 had (the longest
     * of them that the text starts with: {@code &aacutesino} is {@code ásino}), and those only in
     * text, not in an attribute value when a letter, digit or {@code =} follows ({@code ?a=1&copy=2}).
     *
     * @param inAttribute whether the reference is in an attribute value
     */
    private static int reference(String html, int at, int end, StringBuilder out, boolean inAttribute) {
        // looked for past letters and digits only, and a few of them: many '&' cost no more than text.
        // A number's leading zeros are passed over whatever their count, as a browser reads them; the
        // text after an '&' that turns out no reference is read as text once more, up to the next '&'.
        if (at + 1 < end && html.charAt(at + 1) == '#') {
            boolean hex = at + 2 < end && (html.charAt(at + 2) == 'x' || html.charAt(at + 2) == 'X');
            int radix = hex ? 16 : 10;
            int digits = at + (hex ? 3 : 2);
            int significant = digits;
            while (significant < end && html.charAt(significant) == '0') {
                significant++;
            }
            int last = significant;
            while (last < Math.min(end, significant + MAX_REFERENCE) && html.charAt(last) < 0x80
                    && Character.digit(html.charAt(last), radix) >= 0) {
                last++;
            }
            String decoded = last == digits ? "" : decodeNumber(html.substring(significant, last), radix);
            if (decoded.isEmpty()) {
                out.append('&');
                return at + 1;
            }
            out.append(decoded);
            return last < end && html.charAt(last) == ';' ? last + 1 : last;
        }
        int semicolon = at + 1;
        while (semicolon < Math.min(end, at + 1 + MAX_REFERENCE) && isNameCharacter(html.charAt(semicolon))) {
            semicolon++;
        }
        String name = html.substring(at + 1, semicolon);
        if (semicolon < end && html.charAt(semicolon) == ';' && Entities.isNamedEntity(name)) {
            out.append(Entities.getByName(name));
            return semicolon + 1;
        }
        String legacy = legacyPrefix(name);
        int after = at + 1 + legacy.length();
        boolean keptAsWritten = inAttribute && after < end && (isNameCharacter(html.charAt(after)) || html.charAt(after) == '=');
        if (legacy.isEmpty() || keptAsWritten) {
            out.append('&');
            return at + 1;
        }
        out.append(Entities.getByName(legacy));
        return after < end && html.charAt(after) == ';' ? after + 1 : after;
    }

    /** The longest of HTML 4's legacy names ({@code frac34}, {@code Ccedil}...): none is shorter than 2. */
    private static final int LONGEST_LEGACY_NAME = 6;

    /** The longest legacy name (one a reference may use without its {@code ;}) that {@code name} starts with, or "". */
    private static String legacyPrefix(String name) {
        for (int length = Math.min(name.length(), LONGEST_LEGACY_NAME); length >= 2; length--) {
            String prefix = name.substring(0, length);
            if (Entities.isBaseNamedEntity(prefix)) {
                return prefix;
            }
        }
        return "";
    }

    private static boolean isNameCharacter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    /** The character a number names, written in {@code radix} without leading zeros; nothing when it names none. */
    private static String decodeNumber(String digits, int radix) {
        if (digits.isEmpty()) { // &#0; and &#x00: U+FFFD to a browser, which shows as a character
            return "\uFFFD";
        }
        if (digits.length() > 8) { // past U+10FFFF
            return "\uFFFD";
        }
        long codePoint = Long.parseLong(digits, radix);
        if (codePoint >= 0x80 && codePoint <= 0x9F && WINDOWS_1252[(int) codePoint - 0x80] != 0) {
            return String.valueOf(WINDOWS_1252[(int) codePoint - 0x80]);
        }
        return codePoint <= Character.MAX_CODE_POINT && !(codePoint >= 0xD800 && codePoint <= 0xDFFF)
                ? Character.toString((int) codePoint) : "\uFFFD";
    }
}
