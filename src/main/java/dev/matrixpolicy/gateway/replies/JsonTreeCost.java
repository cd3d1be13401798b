package dev.matrixpolicy.gateway.replies;

/**
 * What parsing a JSON text into a Jackson tree costs on the heap, estimated from one pass over its
 * bytes before anything is built, so that a {@link HeapBudget} can refuse a reply whose tree would
 * not fit before the tree is made. An estimate from what drives the cost, not a flat factor of the
 * size: a tree costs per token (a node, a map entry, a list slot), not per byte, and the same 8 MiB
 * takes 8 MB as one string but 258 MB as {@code [{},{},...]}, so a factor high enough for the worst
 * shape would refuse ordinary replies many times over.
 *
 * <ul>
 *   <li><b>{@link #tree()}</b>, what the tree keeps: {@value #BYTES_PER_TOKEN} bytes per token, the
 *       most any shape took per token on a 64-bit JVM with compressed pointers (heaps below 32 GB),
 *       measured with Jackson 3.1 in the gateway's reply mapper, whatever the token (68 for objects
 *       of one distinct name and a decimal, 62 for one of a distinct name and an integer, 60 for a
 *       string, 52 for {@code [} and {@code ]} of nested lists, 4 for a {@code null} in a list; a
 *       realistic event 48 on average). Plus the text's own length, for the characters of its
 *       strings, names and numbers, which take no more bytes as Java strings than as UTF-8 (a
 *       {@code é} is 2 bytes either way, an {@code x} 1); and once more the length of each string or
 *       name holding a character past {@code U+00FF}, which Java keeps in UTF-16, two bytes for every
 *       character, its {@code x}s included (1 MiB of {@code x} and one {@code Ā} is a string of 2 MiB),
 *       or a byte that starts no UTF-8 character, which the reply parser reads as {@code U+FFFD}. Tokens are counted from the structure
 *       alone, outside strings: each {@code &#123;} and {@code [} twice (its start and end), each
 *       {@code :} and {@code ,} once, one more for the first value: never fewer than the parser
 *       reads, and as many for objects and non-empty lists.</li>
 *   <li><b>{@link #decoding()}</b>, what the parser holds besides while it reads:
 *       {@value #DECODING_PER_BYTE} bytes per byte of the longest string or number, which it gathers
 *       in blocks of UTF-16 characters and then copies into one (one 8 MiB string took 47 MB of heap
 *       to read, the 8 MB string it made included). Only one token is read at a time, so the longest
 *       is what counts.</li>
 * </ul>
 *
 * Measured, and the figures behind these numbers: {@code docs/modules/backend-calls.md}.
 *
 * @param tokens   the tokens counted
 * @param longest  the longest string or number, in bytes
 * @param length   the text's length in bytes
 * @param wide     the bytes of the strings and names Java keeps in UTF-16
 */
public record JsonTreeCost(long tokens, long longest, long length, long wide) {
    /** The most a token took of the heap in any shape measured (68), rounded up. */
    public static final int BYTES_PER_TOKEN = 72;
    /** What reading one string or number takes while it is read, per byte of it (47 MB for 8 MiB, rounded up). */
    public static final int DECODING_PER_BYTE = 6;

    /** The cost of a tree parsed from {@code json}, from one pass over its bytes. */
    public static JsonTreeCost of(byte[] json) {
        long tokens = 1;
        long longest = 0;
        long wide = 0;
        int run = 0;
        boolean inString = false;
        boolean wideString = false;
        for (int i = 0; i < json.length; i++) {
            byte b = json[i];
            if (inString) {
                if (b == '"') {
                    inString = false;
                    if (wideString) {
                        wide += run;
                        wideString = false;
                    }
                } else {
                    if (b == '\\' && i + 1 < json.length) {
                        wideString |= isWideEscape(json, i);
                        i++;
                        run++;
                    }
                    if (b < 0) { // past ASCII
                        if ((b == (byte) 0xC2 || b == (byte) 0xC3) && i + 1 < json.length && (json[i + 1] & 0xC0) == 0x80) {
                            i++; // a character of Latin-1, one byte in Java
                            run += 2;
                            continue;
                        }
                        wideString = true; // past U+00FF, or no UTF-8, which a parser of characters reads as U+FFFD
                    }
                    run++;
                    continue;
                }
            } else if (b == '"') {
                inString = true;
                continue;
            }
            switch (b) {
                case '{' -> tokens += 3; // its start, its end, and its table of names
                case '[' -> tokens += 2;
                case ':', ',' -> tokens++;
                case ' ', '\t', '\n', '\r', '}', ']', '"' -> { }
                default -> {
                    run++; // a number's or a literal's
                    continue;
                }
            }
            longest = Math.max(longest, run);
            run = 0;
        }
        return new JsonTreeCost(tokens, Math.max(longest, run), json.length, wide);
    }

    /** Whether the escape at {@code at} is a backslash-u escape of a character past U+00FF (one not of the form 00xx). */
    private static boolean isWideEscape(byte[] json, int at) {
        return at + 3 < json.length && json[at + 1] == 'u' && (json[at + 2] != '0' || json[at + 3] != '0');
    }

    /**
     * What {@link #of} can give a JSON text of {@code length} bytes, at most, without reading it: its
     * {@link #tree()} and {@link #decoding()} together. The densest JSON, {@code [{},{},...]}, has
     * 4 tokens in 3 bytes (and {@code {}} alone 4 in 2, whence the 4 tokens added); every byte may
     * be in a string Java keeps in UTF-16, and in the longest one.
     */
    public static long atMost(long length) {
        return length * (BYTES_PER_TOKEN * 3 / 2 + 2 + DECODING_PER_BYTE) + 4L * BYTES_PER_TOKEN;
    }

    /** What the finished tree keeps of the heap, at most. */
    public long tree() {
        return tokens * BYTES_PER_TOKEN + length + wide;
    }

    /** What reading holds besides the tree until it ends, at most. */
    public long decoding() {
        return longest * DECODING_PER_BYTE;
    }
}
