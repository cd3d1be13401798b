package dev.matrixpolicy.gateway.replies;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class ReplyCapTest {
    private static final ReplyCap FOUR_KB = new ReplyCap("max-size", 4096);

    private static InputStream bytes(int length) {
        return new ByteArrayInputStream(new byte[length]);
    }

    @Test
    void aBodyOfExactlyTheCapIsReadWholeAndOneByteMoreIsRefusedNamingTheSetting() throws IOException {
        assertThat(FOUR_KB.read(bytes(4096), -1)).hasSize(4096);
        assertThatThrownBy(() -> FOUR_KB.read(bytes(4097), -1)).isInstanceOf(ReplyTooLargeException.class)
                .hasMessage("reply larger than max-size 4KB");
    }

    @Test
    void aDeclaredLengthOverTheCapIsRefusedWithoutReadingTheBody() {
        InputStream untouchable = new InputStream() {
            @Override
            public int read() {
                throw new AssertionError("the body was read");
            }
        };
        assertThatThrownBy(() -> FOUR_KB.read(untouchable, 4097)).isInstanceOf(ReplyTooLargeException.class);
        assertThatThrownBy(() -> FOUR_KB.stream(untouchable, 4097)).isInstanceOf(ReplyTooLargeException.class);
    }

    @Test
    void aStreamedBodyEndsCleanlyAtTheCapAndFailsAtItsFirstExtraByteThroughAParser() throws IOException {
        try (InputStream exact = FOUR_KB.stream(bytes(4096), -1)) {
            assertThat(exact.readAllBytes()).hasSize(4096);
        }
        try (InputStream longer = FOUR_KB.stream(bytes(4097), -1)) {
            assertThat(longer.readNBytes(4096)).hasSize(4096);
            assertThatThrownBy(longer::read).isInstanceOf(ReplyTooLargeException.class);
        }
        String json = "[" + "1,".repeat(3000) + "1]";
        Throwable parsed = catchThrowable(() -> JsonMapper.builder().build()
                .readTree(FOUR_KB.stream(new ByteArrayInputStream(json.getBytes()), -1)));
        assertThat(parsed).isNotNull();
        assertThat(ReplyTooLargeException.in(parsed)).isNotNull().hasMessage("reply larger than max-size 4KB");
    }

    @Test
    void anEndlessBodyWithoutALengthIsRefusedAtItsFirstBytePastTheCap() {
        ReplyCap cap = new ReplyCap("max-size", 3 << 20); // three blocks
        long[] served = {0};
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                served[0]++;
                return ' ';
            }

            @Override
            public int read(byte[] buffer, int offset, int length) {
                java.util.Arrays.fill(buffer, offset, offset + length, (byte) ' ');
                served[0] += length;
                return length;
            }
        };

        assertThatThrownBy(() -> cap.read(endless, -1)).isInstanceOf(ReplyTooLargeException.class);
        assertThat(served[0]).isEqualTo((3L << 20) + 1);
    }

    @Test
    void aBodyLongerThanItsDeclaredLengthIsRefusedAndOneAsLongIsReadAsIs() throws IOException {
        ReplyCap cap = new ReplyCap("max-size", 100);

        assertThatThrownBy(() -> cap.read(new ByteArrayInputStream(new byte[20]), 10)).isInstanceOf(ReplyTooLargeException.class);
        assertThat(cap.read(new ByteArrayInputStream(new byte[10]), 10)).hasSize(10);
        assertThat(cap.read(new ByteArrayInputStream(new byte[5]), 10)).as("cut short: what came").hasSize(5);
    }

    @Test
    void aLargeDeclaredBodyIsReadInBlocksUpToItsLengthAndNoByteMore() throws IOException {
        ReplyCap cap = new ReplyCap("max-size", 8 << 20);
        int declared = (2 << 20) + 5; // past a block: not allocated before it comes

        assertThat(cap.read(new ByteArrayInputStream(new byte[declared]), declared)).hasSize(declared);
        assertThatThrownBy(() -> cap.read(new ByteArrayInputStream(new byte[declared + 1]), declared))
                .isInstanceOf(ReplyTooLargeException.class);
    }

    @Test
    void aBodyHoldsOfItsHeapBudgetItsDeclaredArrayAtOnceOrItsBytesAsTheyComeAndItsJoinedCopyNoLonger() throws IOException {
        ReplyCap cap = new ReplyCap("max-reply-size", 8L * 1024 * 1024);
        HeapBudget budget = new HeapBudget(100L * 1024 * 1024);
        int length = 5 * 1024 * 1024 / 2; // three blocks, joined

        HeapBudget.Share declared = budget.share();
        cap.read(new ByteArrayInputStream(new byte[1000]), 1000, declared, IllegalStateException::new);
        HeapBudget.Share unsized = budget.share();
        byte[] read = cap.read(new ByteArrayInputStream(new byte[length]), -1, unsized, IllegalStateException::new);

        assertThat(read).hasSize(length);
        assertThat(declared.held()).isEqualTo(1000);
        assertThat(unsized.held()).isEqualTo(length);
        assertThat(budget.held()).isEqualTo(length + 1000);
    }

    @Test
    void aBodyTheBudgetHasNoRoomForIsRefusedAsTheCallerSays() {
        ReplyCap cap = new ReplyCap("max-reply-size", 8L * 1024 * 1024);
        HeapBudget budget = new HeapBudget(1024);

        assertThatThrownBy(() -> cap.read(new ByteArrayInputStream(new byte[2000]), 2000, budget.share(),
                () -> new IllegalStateException("no room"))).hasMessage("no room");
        assertThatThrownBy(() -> cap.read(new ByteArrayInputStream(new byte[2000]), -1, budget.share(),
                () -> new IllegalStateException("no room"))).hasMessage("no room");
        assertThat(budget.held()).as("what the refused shares held until they were refused").isLessThanOrEqualTo(1024);
    }

    @Test
    void theCapIsBetweenOneByteAndTheLargestArray() {
        assertThatIllegalArgumentException().isThrownBy(() -> new ReplyCap("max-size", 0))
                .withMessage("must be between 1B and 2047MB, not 0B");
        assertThatIllegalArgumentException().isThrownBy(() -> new ReplyCap("max-size", 2048L * 1024 * 1024))
                .withMessage("must be between 1B and 2047MB, not 2048MB");
        assertThat(new ReplyCap("max-reply-size", 1024 * 1024)).hasToString("max-reply-size 1MB");
    }
}
