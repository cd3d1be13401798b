package dev.matrixpolicy.gateway.matrix;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * UTF-8 as RFC 3629 defines it, checked byte by byte: no overlong form ({@code C0 BA} for {@code :}),
 * no surrogate, nothing above U+10FFFF. JSON between systems must be UTF-8 (RFC 8259), and Jackson's
 * decoder lets overlong forms and code points past U+10FFFF through, so without this check a body
 * could say {@code @bot\xC0\xBAspam.example} and be read as {@code @bot:spam.example}, a user the
 * homeserver (whose Python decoder refuses such bytes) could never have sent.
 *
 * <p>Runs of ASCII are skipped eight bytes at a time, so a body of plain JSON costs a pass of word
 * reads.
 */
public final class StrictUtf8 {
    private static final VarHandle WORD = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long HIGH_BITS = 0x8080_8080_8080_8080L;

    private StrictUtf8() {
    }

    /**
     * Whether a text is in UTF-16 or UTF-32, which JSON between systems may not be (RFC 8259): by its
     * byte order mark, or a zero byte among its first four, which UTF-8 JSON never holds (U+0000 is
     * escaped in a string, and nothing else can be it). Jackson's parser reads such a text as what its
     * marks say, as characters: with no byte offsets (which a request body's fields read later need),
     * and with its structure where one pass over the bytes as UTF-8 does not find it (a reply's cost).
     */
    public static boolean isUtf16Or32(byte[] bytes) {
        if (bytes.length >= 2 && ((bytes[0] == (byte) 0xFE && bytes[1] == (byte) 0xFF) || (bytes[0] == (byte) 0xFF && bytes[1] == (byte) 0xFE))) {
            return true;
        }
        for (int i = 0; i < Math.min(4, bytes.length); i++) {
            if (bytes[i] == 0) {
                return true;
            }
        }
        return false;
    }

    /** The offset of the first byte that starts no well-formed UTF-8 sequence, or -1 when all are well formed. */
    public static int firstInvalid(byte[] bytes) {
        int length = bytes.length;
        int i = 0;
        while (i < length) {
            while (i + Long.BYTES <= length && ((long) WORD.get(bytes, i) & HIGH_BITS) == 0) {
                i += Long.BYTES;
            }
            if (i >= length) {
                break;
            }
            int lead = bytes[i] & 0xFF;
            if (lead < 0x80) {
                i++;
                continue;
            }
            int sequence = sequenceLength(bytes, i, lead);
            if (sequence == 0) {
                return i;
            }
            i += sequence;
        }
        return -1;
    }

    /**
     * The length of the well-formed sequence that {@code lead} starts at {@code at}, or 0: the ranges
     * of RFC 3629's table, whose second byte's bounds rule out the overlong forms, the surrogates and
     * what lies past U+10FFFF.
     */
    private static int sequenceLength(byte[] bytes, int at, int lead) {
        int length;
        int secondMin = 0x80;
        int secondMax = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            secondMin = lead == 0xE0 ? 0xA0 : 0x80;
            secondMax = lead == 0xED ? 0x9F : 0xBF;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            secondMin = lead == 0xF0 ? 0x90 : 0x80;
            secondMax = lead == 0xF4 ? 0x8F : 0xBF;
        } else {
            return 0; // a continuation byte, C0, C1, or F5 to FF
        }
        if (at + length > bytes.length) {
            return 0;
        }
        int second = bytes[at + 1] & 0xFF;
        if (second < secondMin || second > secondMax) {
            return 0;
        }
        for (int k = 2; k < length; k++) {
            int continuation = bytes[at + k] & 0xFF;
            if (continuation < 0x80 || continuation > 0xBF) {
                return 0;
            }
        }
        return length;
    }
}
