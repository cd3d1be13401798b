package dev.matrixpolicy.gateway.modules.contentrules;

import com.google.common.net.InternetDomainName;
import java.io.ByteArrayOutputStream;
import java.net.IDN;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The links of a normalised text, as clients linkify them: every {@code http://} or {@code https://}
 * URL, and every host written without a scheme whose last label is a top-level domain of the Public
 * Suffix List ({@code bit.ly/x}, not {@code e.g} or {@code node.js}): labels joined by dots, starting
 * as Element reads them ({@link #hostStart}), and not the rest of an e-mail address, a path or a
 * Matrix ID ({@link #inAnotherName}). A link runs up to white space or one of
 * {@code < > " ' `}, without the trailing punctuation and unopened {@code )} that clients leave out
 * of it ({@link #linkEnd}). Each is counted once however often it appears, with or without its
 * scheme (the body's {@code bit.ly/x} and the formatted body's {@code href="https://bit.ly/x"} are
 * one link). A URL's host is its authority without user info and port, cut at the first character
 * that cannot be in a host name; trailing dots are dropped; labels in IDNA's ASCII form are decoded
 * ({@link #unicode}).
 *
 * @param urls  the distinct URLs, at most {@code limit} + 1 of them
 * @param hosts the hosts of those URLs
 * @param names names written as a host without a scheme, whose last label is no top-level domain as
 *              it reads here ({@code spam.example}, or {@code пример.рф} once look-alikes are folded
 *              to {@code пpимep.pф}): no link to clients, at most {@code limit} + 1 of them
 */
record Links(Set<String> urls, Set<String> hosts, Set<String> names) {
    private static final int IDEOGRAPHIC_FULL_STOP = 0x3002;

    /**
     * @param text       normalised text
     * @param limit      how many distinct URLs are worth telling apart: collection stops past it, the
     *                   work staying linear in the text
     * @param normaliser what normalised the text, for hosts decoded from IDNA's ASCII form
     */
    static Links in(String text, int limit, Normaliser normaliser) {
        return in(text, limit, host -> folded(host, normaliser));
    }

    /**
     * A host as a normaliser's links and domain lists hold it: its labels in IDNA's ASCII form decoded
     * ({@link #unicode}). With {@code fold-leet} the host is read with its digits as written
     * ({@link Normaliser#withDigitsAsWritten}), decoded, then folded as the text is, so that
     * {@code xn--p1ai} is decoded before its {@code 1} becomes an {@code i}.
     */
    static String folded(String host, Normaliser normaliser) {
        return normaliser.foldsDigits() ? normaliser.normalise(unicode(host, normaliser.withDigitsAsWritten()))
                : unicode(host, normaliser);
    }

    /**
     * The hosts of the links in {@code raw}, text not normalised, as a browser looks them up: in IDNA's
     * ASCII form ({@link #ascii}), no look-alike, accent or digit folded, so that an allow-list is
     * never met by another registrable domain ({@code exаmple.com} with a Cyrillic {@code а}, or
     * {@code 3xample.com} with {@code fold-leet}). The text is read for links as normalised text is,
     * case, compatibility forms and what shows as nothing aside, so that each link is found.
     */
    static Set<String> asciiHosts(CharSequence raw, int limit) {
        return in(UNFOLDED.normalise(raw), limit, Links::ascii).hosts();
    }

    /** Folds only what every reading folds: case, compatibility forms, what shows as nothing, runs of white space. */
    private static final Normaliser UNFOLDED = new Normaliser(false, false, false);

    /**
     * A host as a browser's IDNA mapping writes it in ASCII ({@code exámple.com} is
     * {@code xn--exmple-qta.com}), lower case, without a trailing dot; "" when it has no such form.
     */
    static String ascii(String host) {
        int end = host.length();
        while (end > 0 && host.charAt(end - 1) == '.') {
            end--;
        }
        try {
            return end == 0 ? "" : IDN.toASCII(host.substring(0, end), IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException notIdna) {
            return "";
        }
    }

    /** The links of {@code text}, each host written as {@code hostForm} writes it. */
    private static Links in(String text, int limit, UnaryOperator<String> hostForm) {
        Set<String> urls = new LinkedHashSet<>();
        Set<String> hosts = new LinkedHashSet<>();
        Set<String> names = new LinkedHashSet<>();
        Seen seen = new Seen();
        int from = 0;
        int scheme = nextSchemeLink(text, 0);
        while (urls.size() <= limit) {
            int dot = text.indexOf('.', from);
            if (scheme >= 0 && scheme < from) {
                scheme = nextSchemeLink(text, from);
            }
            if (dot >= 0 && (dot + 1 == text.length() || !isLabelCharacter(text.charAt(dot + 1)))
                    && (scheme < 0 || scheme > dot)) { // the end of a sentence, not of a host's label
                from = dot + 1;
                continue;
            }
            int start;
            int authority;
            int end;
            if (scheme >= 0 && (dot < 0 || scheme < barePart(text, dot, from))) {
                start = scheme;
                authority = authority(text, scheme);
                end = urlEnd(text, authority);
            } else if (dot >= 0) {
                start = barePart(text, dot, from);
                end = labelRunEnd(text, start);
                // no link: on past the run of labels, so that each is read once, but not past a scheme's
                int past = Math.max(dot + 1, scheme > dot ? Math.min(end, scheme) : end);
                int lastDot = text.lastIndexOf('.', end - 1);
                int host = hostStart(text, start, end);
                if (!(start < dot && lastDot > start && host < lastDot && !inAnotherName(text, start, end))) {
                    from = past;
                    continue;
                }
                start = host;
                if (!isTopLevelDomain(text.substring(lastDot + 1, end))) {
                    if (names.size() <= limit) {
                        names.add(hostForm.apply(text.substring(start, end)));
                    }
                    from = past;
                    continue;
                }
                authority = start;
                if (end < text.length() && ":/?#".indexOf(text.charAt(end)) >= 0) { // a port, path, query or fragment
                    end = urlEnd(text, end);
                }
            } else {
                break;
            }
            end = linkEnd(text, authority, end);
            int hash = 0; // of what follows the scheme: http://, https:// and none lead to one place
            for (int i = authority; i < end; i++) {
                hash = 31 * hash + text.charAt(i);
            }
            if (end > authority && seen.add(text, authority, end, hash)) { // a URL seen before has its host in already
                urls.add(text.substring(start, end));
                // "" for one that cannot be read: no allow-list has it
                hosts.add(hostForm.apply(host(text.substring(authority, end))));
            }
            from = Math.max(end, start + 1);
        }
        return new Links(urls, hosts, names);
    }

    /** Where the URL read from {@code from} on ends: at white space or one of {@code < > " ' `}, or the end. */
    private static int urlEnd(String text, int from) {
        int end = from;
        while (end < text.length() && !endsUrl(text.charAt(end))) {
            end++;
        }
        return end;
    }

    /** Where the next {@code http://} or {@code https://} link at or after {@code from} starts; -1 when none does. */
    private static int nextSchemeLink(String text, int from) {
        for (int at = text.indexOf("http", from); at >= 0; at = text.indexOf("http", at + 4)) {
            if (authority(text, at) >= 0) {
                return at;
            }
        }
        return -1;
    }

    /** Where the run of label characters that ends at the {@code dot} starts, not before {@code from}. */
    private static int barePart(String text, int dot, int from) {
        int start = dot;
        while (start > from && isLabelCharacter(text.charAt(start - 1))) {
            start--;
        }
        return start;
    }

    /**
     * Where the run of labels joined by dots that starts at {@code text[start]} ends: label characters,
     * and each dot that one follows.
     */
    private static int labelRunEnd(String text, int start) {
        int end = start;
        while (end < text.length() && (isLabelCharacter(text.charAt(end))
                || text.charAt(end) == '.' && end > start && end + 1 < text.length() && isLabelCharacter(text.charAt(end + 1)))) {
            end++;
        }
        return end;
    }

    /**
     * Where the host in the run of labels {@code text[start, end)} starts as clients linkify it: no
     * label starts or ends with a hyphen, so the host starts after the last hyphen that does
     * ({@code -bit.ly} and {@code spam-.bit.ly} are {@code bit.ly}, as linkifyjs, Element's, reads them).
     */
    private static int hostStart(String text, int start, int end) {
        int first = start;
        for (int i = start; i < end; i++) {
            if (text.charAt(i) == '-' && (i == first || text.charAt(i - 1) == '.')) {
                first = i + 1; // a label's leading hyphen
            } else if (text.charAt(i) == '-' && i + 1 < end && text.charAt(i + 1) == '.') {
                first = i + 2; // a label's trailing hyphen: the host is what follows its dot
            }
        }
        return first;
    }

    /**
     * Whether the run of labels {@code text[start, end)} is part of something that is no web link: an
     * e-mail address, a path, a Matrix ID's localpart ({@code @bob.io:example.org}) or server.
     */
    private static boolean inAnotherName(String text, int start, int end) {
        char before = start > 0 ? text.charAt(start - 1) : ' ';
        if (before == '@') { // an e-mail address has a local part, a user ID a server: a lone @bit.ly/x shows a link to bit.ly
            return start > 1 && !Character.isWhitespace(text.charAt(start - 2)) || end < text.length() && text.charAt(end) == ':';
        }
        if (before == '/' || before == '\\' || before == '.') {
            return true;
        }
        if (before != ':') {
            return false;
        }
        // back to the sigil: no localpart holds a colon (nor white space), so the colon before the host
        // must be the first after it; stopping at one also reads each character once, however many
        // colons a word holds (x:a.b:a.b:...)
        int word = start - 1;
        while (word > 0 && !Character.isWhitespace(text.charAt(word - 1)) && text.charAt(word - 1) != ':') {
            word--;
        }
        return "@#!+".indexOf(text.charAt(word)) >= 0; // @user:server, #alias:server, !room:server, +group:server
    }

    /**
     * Reads the Public Suffix List now, while a module is built: it takes about 40 ms once per JVM,
     * which the first message a links rule checks would otherwise wait for.
     */
    static void loadTopLevelDomains() {
        isTopLevelDomain("org");
    }

    /** Whether {@code label} is a top-level domain: the last label of a name under a public suffix. */
    static boolean isTopLevelDomain(String label) {
        String name = "x." + label; // a wildcard rule (*.ck) needs a label in front
        try {
            return InternetDomainName.from(name).hasPublicSuffix();
        } catch (IllegalArgumentException notADomainName) { // what isValid would catch, after parsing it once more
            return false;
        }
    }

    /**
     * A character of a label of a host written without a scheme: not {@code _}, which clients do not
     * read in such a host ({@code x_bit.ly/a} shows a link to {@code bit.ly/a}).
     */
    private static boolean isLabelCharacter(char c) {
        return c < 0x80 ? c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '-'
                : Character.isLetterOrDigit(c);
    }

    /**
     * Where the link in {@code text[authority, end)} ends as clients linkify it (linkify-it, Element's):
     * before the first {@code )} or {@code ]} that closes nothing the link opened, and without its
     * trailing punctuation ({@code .,;:!?*}), so that a Markdown link {@code [a](https://example.com/a)}
     * is the link its {@code href} carries, and counts once, and {@code [bit.ly/a](https://bit.ly/b)}
     * holds two.
     */
    static int linkEnd(String text, int authority, int end) {
        int parentheses = 0;
        int brackets = 0;
        for (int i = authority; i < end; i++) {
            char c = text.charAt(i);
            parentheses += c == '(' ? 1 : c == ')' ? -1 : 0;
            brackets += c == '[' ? 1 : c == ']' ? -1 : 0;
            if (parentheses < 0 || brackets < 0) {
                end = i;
            }
        }
        while (end > authority && ".,;:!?*".indexOf(text.charAt(end - 1)) >= 0) {
            end--;
        }
        return end;
    }

    /**
     * The URLs met so far, as places in the text, by a hash of their characters: a link that a text
     * repeats (the body and the formatted body's {@code href} carry the same ones) is told apart from
     * a new one without a copy of it.
     */
    private static final class Seen {
        /** Open addressing: each slot holds an entry's index plus one, 0 when empty. */
        private int[] slots = new int[16];
        private int[] starts = new int[8];
        private int[] ends = new int[8];
        private int[] hashes = new int[8];
        private int size;

        /** Adds {@code text[from, to)}; answers whether it is new. */
        boolean add(String text, int from, int to, int hash) {
            int mask = slots.length - 1;
            int slot = (hash ^ hash >>> 16) & mask;
            for (; slots[slot] != 0; slot = (slot + 1) & mask) {
                int entry = slots[slot] - 1;
                if (hashes[entry] == hash && ends[entry] - starts[entry] == to - from
                        && text.regionMatches(starts[entry], text, from, to - from)) {
                    return false;
                }
            }
            if (size == starts.length) {
                starts = Arrays.copyOf(starts, size * 2);
                ends = Arrays.copyOf(ends, size * 2);
                hashes = Arrays.copyOf(hashes, size * 2);
            }
            starts[size] = from;
            ends[size] = to;
            hashes[size] = hash;
            slots[slot] = ++size;
            if (size * 2 > slots.length) {
                rehash();
            }
            return true;
        }

        private void rehash() {
            slots = new int[slots.length * 2];
            int mask = slots.length - 1;
            for (int entry = 0; entry < size; entry++) {
                int slot = (hashes[entry] ^ hashes[entry] >>> 16) & mask;
                while (slots[slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                slots[slot] = entry + 1;
            }
        }
    }

    /**
     * Where the authority of the URL whose {@code http} is at {@code at} starts: after {@code http:}
     * or {@code https:} and any run of slashes and backslashes, one at least, which a browser reads
     * alike ({@code https:\\\\bit.ly}, {@code https:/\\bit.ly}); -1 when it is no URL.
     */
    private static int authority(String text, int at) {
        int colon = text.startsWith("s:", at + 4) ? at + 5 : text.startsWith(":", at + 4) ? at + 4 : -1;
        if (colon < 0) {
            return -1;
        }
        int authority = colon + 1;
        while (authority < text.length() && (text.charAt(authority) == '/' || text.charAt(authority) == '\\')) {
            authority++;
        }
        return authority > colon + 1 ? authority : -1;
    }

    /**
     * The host of an authority and what follows it, with its percent-escapes of ASCII decoded and
     * folded to lower case as a browser does ({@code bit%2Ely} is {@code bit.ly}); empty when none can
     * be read ({@code [::1]}).
     */
    static String host(String rest) {
        String authority = asHostsAreRead(percentDecoded(rest.substring(0, endOfAuthority(rest, 0))));
        authority = authority.substring(authority.lastIndexOf('@') + 1).replace((char) IDEOGRAPHIC_FULL_STOP, '.');
        int end = 0;
        while (end < authority.length() && isHostCharacter(authority.charAt(end))) {
            end++;
        }
        while (end > 0 && authority.charAt(end - 1) == '.') {
            end--;
        }
        return authority.substring(0, end);
    }

    /**
     * A {@linkplain #host host} with its labels in IDNA's ASCII form ({@code xn--bcher-kva}) decoded,
     * then normalised as text is, so that a domain is one whichever way it is written in a link or in
     * the configuration ({@code bücher.example}, {@code xn--bcher-kva.example}). A host with no such
     * label, or whose labels do not decode to a host name, is returned as written.
     */
    static String unicode(String host, Normaliser normaliser) {
        if (!host.startsWith("xn--") && !host.contains(".xn--")) {
            return host;
        }
        String decoded;
        try {
            decoded = normaliser.normalise(IDN.toUnicode(host, IDN.ALLOW_UNASSIGNED));
        } catch (IllegalArgumentException notIdna) {
            return host;
        }
        return !decoded.isEmpty() && decoded.chars().allMatch(c -> isHostCharacter((char) c)) ? decoded : host;
    }

    /** Where the authority starting at {@code from} ends: at the first {@code / ? # \}, or the end. */
    static int endOfAuthority(String url, int from) {
        int end = from;
        while (end < url.length() && "/?#\\".indexOf(url.charAt(end)) < 0) {
            end++;
        }
        return end;
    }

    /**
     * {@code text} with its percent-escapes decoded as a browser decodes a host's: the bytes of each
     * run of escapes read as UTF-8 ({@code %EF%BD%82} is {@code ｂ}), ASCII ones in lower case; a run
     * that is not UTF-8 keeps its escapes of other bytes as written.
     */
    static String percentDecoded(String text) {
        if (text.indexOf('%') < 0) {
            return text;
        }
        StringBuilder decoded = new StringBuilder(text.length());
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        int runStart = 0;
        for (int i = 0; i <= text.length(); i++) {
            int high = i + 2 < text.length() && text.charAt(i) == '%' ? Character.digit(text.charAt(i + 1), 16) : -1;
            int low = high >= 0 ? Character.digit(text.charAt(i + 2), 16) : -1;
            if (low >= 0) {
                if (run.size() == 0) {
                    runStart = i;
                }
                run.write(high * 16 + low);
                i += 2;
                continue;
            }
            if (run.size() > 0) {
                decoded.append(utf8OrAsWritten(run.toByteArray(), text.substring(runStart, i)));
                run.reset();
            }
            if (i < text.length()) {
                decoded.append(text.charAt(i));
            }
        }
        return decoded.toString();
    }

    private static String utf8OrAsWritten(byte[] bytes, String written) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString().toLowerCase(Locale.ROOT);
        } catch (CharacterCodingException notUtf8) { // each ASCII byte decoded, the others left escaped
            StringBuilder ascii = new StringBuilder(written.length());
            for (int b = 0; b < bytes.length; b++) {
                ascii.append(bytes[b] >= 0 ? String.valueOf(Character.toLowerCase((char) bytes[b])) : written.substring(3 * b, 3 * b + 3));
            }
            return ascii.toString();
        }
    }

    /**
     * A host as a browser maps it before it looks it up (UTS #46, in the main): compatibility forms
     * folded ({@code ｂ} is {@code b}), what shows as nothing dropped (a soft hyphen), lower case.
     * Folding the text does that for a host written out; one written in escapes is decoded after it.
     */
    private static String asHostsAreRead(String authority) {
        if (authority.chars().allMatch(c -> c < 0x80)) {
            return authority;
        }
        StringBuilder mapped = new StringBuilder(authority.length());
        Normalizer.normalize(authority, Normalizer.Form.NFKC).codePoints().filter(codePoint -> !Normaliser.isInvisible(codePoint))
                .forEach(mapped::appendCodePoint);
        return mapped.toString().toLowerCase(Locale.ROOT);
    }

    private static boolean endsUrl(char c) {
        return c == ' ' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`';
    }

    private static boolean isHostCharacter(char c) {
        return c == '.' || c == '-' || c == '_' || Character.isLetterOrDigit(c);
    }
}
