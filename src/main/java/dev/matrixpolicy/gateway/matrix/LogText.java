package dev.matrixpolicy.gateway.matrix;

import java.util.HexFormat;

/**
 * Text from outside the gateway (a client's free text that a homeserver passes on, an ID or alias,
 * a policy list curator's reason, glob or line, an event ID from a list file) as a log argument or in
 * an error a status page shows: every control character (C0, DEL and C1, so a line break, a
 * next-line or an escape sequence) and the Unicode line and paragraph separators written as
 * {@code \}{@code uXXXX}, as are the bidirectional overrides and isolates, and a quote or backslash escaped with a backslash, so that such text
 * cannot forge a log line or recolour a terminal; and cut to {@value #LONGEST} characters, so that one
 * request cannot write a line of a megabyte. Grammars let more through than one might think: a room
 * alias's localpart may hold separators and bidirectional controls.
 *
 * <p>Jackson's JSON string quoting escapes only the C0 characters, not the next-line and separators
 * that some log viewers break lines at, hence this.
 */
public final class LogText {
    static final int LONGEST = 200;
    private static final HexFormat HEX = HexFormat.of().withUpperCase();

    private LogText() {
    }

    /** {@code text} between double quotes, escaped; a longer one cut, with how long it was. */
    public static String quoted(String text) {
        return written(text, true);
    }

    /** {@code text} escaped, without quotes, for a message that quotes it its own way; a longer one cut, with how long it was. */
    public static String escaped(String text) {
        return written(text, false);
    }

    /**
     * {@code text} with only what could forge a log line or recolour a terminal escaped, neither
     * quoted nor cut: for a description of the gateway's own words that quotes outside text its own
     * way (a JDK exception's message quoting a backend's status line).
     */
    public static String controlsEscaped(String text) {
        StringBuilder written = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (isUnsafe(c)) {
                written.append("\\u").append(HEX.toHexDigits(c));
            } else {
                written.append(c);
            }
        }
        return written.toString();
    }

    /**
     * An exception's message as a log argument: what could forge a log line or recolour a terminal
     * escaped, and cut as {@link #quoted} cuts, but quotes and backslashes left as written. A module's
     * message may quote outside text it escaped itself (the built-in modules do, with {@link #quoted})
     * or not (a third-party module quoting a backend's reply): escaped text has nothing left to
     * escape here, so it reads the same, never {@code \\u000A}.
     */
    public static String message(String text) {
        int kept = head(text, LONGEST).length();
        return cut(new StringBuilder(controlsEscaped(text.substring(0, kept))), text, kept);
    }

    /**
     * A control character, a line or paragraph separator, or a bidirectional control: what could
     * forge a log line or turn one round, and what this class escapes.
     */
    public static boolean isUnsafe(char c) {
        return Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || isBidiControl(c);
    }

    /**
     * The bidirectional formatting characters (marks, embeddings, overrides, isolates): a right-to-left
     * override in an ID or reason would show the rest of a log line, the log's own words included,
     * reversed in a viewer, so that it reads as something else.
     */
    private static boolean isBidiControl(char c) {
        return c == '\u061C' || c == '\u200E' || c == '\u200F' || (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069');
    }

    /**
     * The first {@code most} characters of {@code text}, or one fewer where the last would be the
     * first half of a surrogate pair: a cut never leaves half a character, which a UTF-8 encoder
     * (Synapse's among them) refuses.
     */
    public static String head(String text, int most) {
        if (text.length() <= most) {
            return text;
        }
        return text.substring(0, most > 0 && Character.isHighSurrogate(text.charAt(most - 1)) ? most - 1 : most);
    }

    private static String written(String text, boolean quotes) {
        int kept = head(text, LONGEST).length();
        StringBuilder written = new StringBuilder(kept + 2);
        if (quotes) {
            written.append('"');
        }
        for (int i = 0; i < kept; i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                written.append('\\').append(c);
            } else if (isUnsafe(c)) {
                written.append("\\u").append(HEX.toHexDigits(c));
            } else {
                written.append(c);
            }
        }
        if (quotes) {
            written.append('"');
        }
        return cut(written, text, kept);
    }

    /** {@code written}, and for a {@code text} cut to {@code kept} characters, how long it was. */
    private static String cut(StringBuilder written, String text, int kept) {
        return kept == text.length() ? written.toString() : written.append("... (").append(text.length()).append(" characters)").toString();
    }
}
