package dev.matrixpolicy.gateway.replies;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HeapBudgetTest {
    @Test
    void sharesTakeTogetherUpToTheBudgetAndARefusedShareTakesNothing() {
        HeapBudget budget = new HeapBudget(100);
        HeapBudget.Share one = budget.share();
        HeapBudget.Share other = budget.share();

        assertThat(one.take(60)).isTrue();
        assertThat(other.take(50)).isFalse();
        assertThat(other.take(40)).isTrue();

        assertThat(budget.held()).isEqualTo(100);
        assertThat(other.held()).isEqualTo(40);
    }

    @Test
    void aTakeLeavingRoomIsRefusedWhereItWouldLeaveLessFreeAndAPlainTakeStillFits() {
        HeapBudget budget = new HeapBudget(100);
        HeapBudget.Share share = budget.share();

        assertThat(share.takeLeaving(30, 50)).isTrue();
        assertThat(share.takeLeaving(30, 50)).as("would leave 40 free").isFalse();
        assertThat(share.take(30)).isTrue();

        assertThat(budget.held()).isEqualTo(60);
    }

    @Test
    void aShareGivesBackWhatItHoldsAndNoMore() {
        HeapBudget budget = new HeapBudget(100);
        HeapBudget.Share share = budget.share();
        share.take(70);

        share.giveBack(20);
        assertThat(budget.held()).isEqualTo(50);
        share.giveBack(500);
        share.giveBack();

        assertThat(budget.held()).isZero();
        assertThat(share.held()).isZero();
    }

    @Test
    void aCountedBodyTakesItsBytesAsTheyComeAndIsRefusedAtTheFirstReadPastTheBudget() throws Exception {
        HeapBudget budget = new HeapBudget(10);
        HeapBudget.Share share = budget.share();
        InputStream body = share.counting(new ByteArrayInputStream(new byte[16]), () -> new IllegalStateException("full"));

        assertThat(body.readNBytes(8)).hasSize(8);
        assertThat(budget.held()).isEqualTo(8);
        assertThatThrownBy(() -> body.readNBytes(8)).hasMessage("full");
        assertThat(budget.held()).isEqualTo(8);
    }

    @Test
    void aTakeThatFitsIsNeverRefusedBecauseAConcurrentTakeDidNotFit() throws Exception {
        HeapBudget budget = new HeapBudget(100);
        budget.share().take(60);
        AtomicBoolean contending = new AtomicBoolean(true);
        Thread tooLarge = Thread.ofPlatform().start(() -> {
            HeapBudget.Share share = budget.share();
            while (contending.get()) {
                share.take(50);
            }
        });
        try {
            HeapBudget.Share fits = budget.share();
            long refused = 0;
            long deadline = System.nanoTime() + Duration.ofMillis(300).toNanos();
            while (System.nanoTime() < deadline) {
                if (fits.take(40)) {
                    fits.giveBack();
                } else {
                    refused++;
                }
            }
            assertThat(refused).as("takes of 40 refused while 60 of 100 were held").isZero();
        } finally {
            contending.set(false);
            tooLarge.join();
        }
        assertThat(budget.held()).isEqualTo(60);
    }

    @Test
    void aTakeLargerThanWhatIsLeftIsRefusedWithoutOverflowing() {
        HeapBudget budget = new HeapBudget(100);
        budget.share().take(1);

        assertThat(budget.share().take(Long.MAX_VALUE)).isFalse();
        assertThat(budget.held()).isEqualTo(1);
    }

    @Test
    void noBudgetGrantsEveryShareAndCountsNothing() {
        HeapBudget.Share share = HeapBudget.NONE.share();

        assertThat(share.take(Long.MAX_VALUE)).isTrue();
        assertThat(HeapBudget.NONE.held()).isZero();
    }
}
