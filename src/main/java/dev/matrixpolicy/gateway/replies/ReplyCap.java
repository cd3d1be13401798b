package dev.matrixpolicy.gateway.replies;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The most bytes of one reply the gateway reads, and the setting that says so.
 *
 * @param setting  the configuration key that sets the cap, e.g. {@code max-reply-size}, or the name of a
 *                 fixed cap; named in the failure
 * @param maxBytes the cap, from 1 byte to {@link #LARGEST} (the largest array a JVM holds)
 */
public record ReplyCap(String setting, long maxBytes) {
    /** The largest cap, 2047MB: a body read into memory is one array. */
    public static final long LARGEST = 2047L * 1024 * 1024;

    public ReplyCap {
        if (setting == null || setting.isBlank()) {
            throw new IllegalArgumentException("a reply cap names its setting");
        }
        if (maxBytes < 1 || maxBytes > LARGEST) {
            throw new IllegalArgumentException("must be between 1B and " + format(LARGEST) + ", not " + format(maxBytes));
        }
    }

    /**
     * The whole body, read into memory as it comes, refused at the first byte past the cap (or past
     * its declared length). A body of a declared length up to a block is read into one array of that
     * length; any other in blocks, joined once it has all come: a server that announces a large body
     * and then stalls holds a block of memory, not the length it announced.
     *
     * @param declaredLength the reply's {@code Content-Length}, or a negative number when it has none
     * @throws ReplyTooLargeException when the declared length or the body itself exceeds the cap;
     *                                without reading the body in the first case
     */
    public byte[] read(InputStream body, long declaredLength) throws IOException {
        return read(body, declaredLength, HeapBudget.NONE.share(), () -> new IllegalStateException("no budget refuses"));
    }

    /**
     * {@linkplain #read(InputStream, long) The whole body}, with what it holds of the heap taken from
     * {@code share} as it is held: the array of a declared length as it is made, any other body as its
     * bytes come, and the array it is joined into while its blocks are still held (given back once
     * they are garbage).
     *
     * @param refused what to throw when the budget has no room for the body; it holds nothing more then
     */
    public byte[] read(InputStream body, long declaredLength, HeapBudget.Share share, Supplier<? extends RuntimeException> refused)
            throws IOException {
        if (declaredLength > maxBytes) {
            throw new ReplyTooLargeException(this);
        }
        if (declaredLength >= 0 && declaredLength <= BLOCK) {
            take(share, declaredLength, refused);
            byte[] read = new byte[(int) declaredLength];
            int got = body.readNBytes(read, 0, read.length);
            if (got < read.length) {
                return Arrays.copyOf(read, got); // cut short: the caller's client says so, or the parser will
            }
            if (body.read() >= 0) {
                throw new ReplyTooLargeException(this); // more than it declared
            }
            return read;
        }
        InputStream counted = share.counting(body, refused);
        long most = declaredLength >= 0 ? declaredLength : maxBytes;
        List<byte[]> blocks = new ArrayList<>();
        long total = 0;
        while (true) {
            byte[] block = counted.readNBytes((int) Math.min(BLOCK, most + 1 - total));
            if (block.length == 0) {
                break;
            }
            total += block.length;
            if (total > most) {
                throw new ReplyTooLargeException(this);
            }
            blocks.add(block);
        }
        if (blocks.size() == 1) {
            return blocks.getFirst(); // the whole body already, as most are: not copied again
        }
        take(share, total, refused);
        byte[] read = new byte[(int) total];
        int at = 0;
        for (byte[] block : blocks) {
            System.arraycopy(block, 0, read, at, block.length);
            at += block.length;
        }
        share.giveBack(total); // the blocks are garbage now
        return read;
    }

    private static void take(HeapBudget.Share share, long bytes, Supplier<? extends RuntimeException> refused) {
        if (!share.take(bytes)) {
            throw refused.get();
        }
    }

    /** The blocks a body larger than one, or without a declared length, is read in. */
    private static final int BLOCK = 1 << 20;

    /**
     * The body as a stream for a parser that reads as it goes (a reply too large to hold as one
     * tree): reading past the cap throws a {@link ReplyTooLargeException}, which a parser may wrap
     * (find it with {@link ReplyTooLargeException#in}). Closing it closes {@code body}.
     *
     * @param declaredLength the reply's {@code Content-Length}, or a negative number when it has none
     * @throws ReplyTooLargeException at once when the declared length exceeds the cap
     */
    public InputStream stream(InputStream body, long declaredLength) throws ReplyTooLargeException {
        if (declaredLength > maxBytes) {
            throw new ReplyTooLargeException(this);
        }
        return new FilterInputStream(body) {
            private long left = maxBytes;

            @Override
            public int read() throws IOException {
                int read = super.read();
                count(read < 0 ? -1 : 1);
                return read;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                // One byte more than what is left, so that a body of exactly the cap ends cleanly
                // and a longer one is noticed at its first extra byte.
                int read = super.read(buffer, offset, (int) Math.min(length, left + 1));
                count(read);
                return read;
            }

            @Override
            public long skip(long n) throws IOException {
                long skipped = super.skip(Math.min(n, left + 1));
                count(skipped);
                return skipped;
            }

            private void count(long read) throws ReplyTooLargeException {
                if (read > 0 && (left -= read) < 0) {
                    throw new ReplyTooLargeException(ReplyCap.this);
                }
            }
        };
    }

    /** The setting and its value as configuration writes them, e.g. {@code max-reply-size 1MB}. */
    @Override
    public String toString() {
        return setting + " " + format(maxBytes);
    }

    /** A size as configuration writes it: {@code 1MB}, {@code 64KB}, or bytes. */
    public static String format(long bytes) {
        long kilobyte = 1024;
        long megabyte = kilobyte * kilobyte;
        if (bytes == 0) {
            return "0B";
        }
        if (bytes % megabyte == 0) {
            return bytes / megabyte + "MB";
        }
        return bytes % kilobyte == 0 ? bytes / kilobyte + "KB" : bytes + "B";
    }
}
