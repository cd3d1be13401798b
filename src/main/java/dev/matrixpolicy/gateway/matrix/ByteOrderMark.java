package dev.matrixpolicy.gateway.matrix;

import java.util.ArrayList;
import java.util.List;

/**
 * The byte order mark, U+FEFF, that some editors (Windows Notepad among them) write at the start of a
 * UTF-8 file. In UTF-8 it says nothing, and it is no white space to {@link String#strip()}: left in,
 * it would be the first character of a token, a user name or a key, and make it wrong without a word.
 * Every text file the gateway reads of its own (token, password, user list, key and hash files) is
 * read without it; policy list files drop it as bytes, where they are read.
 */
public final class ByteOrderMark {
    private static final char MARK = '\uFEFF';

    private ByteOrderMark() {
    }

    /** {@code text} without a byte order mark at its start. */
    public static String dropped(String text) {
        return !text.isEmpty() && text.charAt(0) == MARK ? text.substring(1) : text;
    }

    /** {@code lines} without a byte order mark at the start of the first. */
    public static List<String> dropped(List<String> lines) {
        if (lines.isEmpty()) {
            return lines;
        }
        String first = dropped(lines.getFirst());
        if (first.length() == lines.getFirst().length()) {
            return lines; // no mark
        }
        List<String> without = new ArrayList<>(lines);
        without.set(0, first);
        return without;
    }
}
