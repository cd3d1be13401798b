package dev.matrixpolicy.gateway.module;

import java.util.HexFormat;

/**
 * Text from outside the gateway (a client's free text that a homeserver passes on, a policy list
 * curator's reason or glob, an event ID from a list file) as a log argument: between double quotes,
 * with every control character (C0, DEL and C1, so a line break, a next-line or an escape sequence)
 * and the Unicode line and paragraph separators written as {@code \}{@code uXXXX}, and a quote or
 * backslash escaped with a backslash, so such text cannot forge a log line or recolour a terminal;
 * and cut to {@value #LONGEST} characters, so one request cannot write a line of a megabyte. IDs that
 * a grammar in {@code matrix.MatrixIds} has checked are printable ASCII and need none of this.
 *
 * <p>Jackson's JSON string quoting escapes only the C0 characters, not the next-line and separators
 * that some log viewers break lines at, hence this.
 */
public final class LogText {
    static final int LONGEST = 200;
    private static final HexFormat HEX = HexFormat.of().withUpperCase();

    private LogText() {
    }

    /** {@code text} quoted and escaped; a longer one cut, with how long it was. */
    public static String quoted(String text) {
        int kept = Math.min(text.length(), LONGEST);
        if (kept < text.length() && Character.isHighSurrogate(text.charAt(kept - 1))) {
            kept--; // not half a character
        }
        StringBuilder quoted = new StringBuilder(kept + 2).append('"');
        for (int i = 0; i < kept; i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                quoted.append('\\').append(c);
            } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                quoted.append("\\u").append(HEX.toHexDigits(c));
            } else {
                quoted.append(c);
            }
        }
        quoted.append('"');
        return kept == text.length() ? quoted.toString() : quoted.append("... (").append(text.length()).append(" characters)").toString();
    }
}
