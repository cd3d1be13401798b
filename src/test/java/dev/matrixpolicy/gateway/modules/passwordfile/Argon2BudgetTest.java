package dev.matrixpolicy.gateway.modules.passwordfile;

import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.BUILDER_ARGON2;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.WONDERLAND_BCRYPT;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The heap argon2id verifications share, and what it holds back. */
class Argon2BudgetTest {
    private final PasswordHash argon2 = PasswordHash.parse(BUILDER_ARGON2, Hashes.LIMITS);
    private final PasswordHash bcrypt = PasswordHash.parse(WONDERLAND_BCRYPT, Hashes.LIMITS);

    @Test
    void bcryptTakesNoHeapSoItNeverWaitsBehindArgon2idVerificationsWaitingForIt() throws Exception {
        Argon2Budget budget = new Argon2Budget(argon2.memoryKib()); // room for one argon2id verification at a time
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicReference<Thread> waiting = new AtomicReference<>();
        ExecutorService threads = Executors.newFixedThreadPool(3);
        try {
            threads.submit(() -> budget.holding(argon2, () -> {
                running.countDown();
                try {
                    return finish.await(30, SECONDS);
                } catch (InterruptedException stopped) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }));
            assertThat(running.await(5, SECONDS)).isTrue();
            Future<Boolean> queued = threads.submit(() -> {
                waiting.set(Thread.currentThread());
                return budget.holding(argon2, () -> true);
            });
            while (waiting.get() == null || waiting.get().getState() != Thread.State.WAITING) {
                Thread.onSpinWait();
            }

            Future<Boolean> bcryptLogin = threads.submit(() -> budget.holding(bcrypt, () -> true));

            assertThat(bcryptLogin.get(5, SECONDS)).as("checked while the second argon2id verification waits").isTrue();
            assertThat(queued).isNotDone();
            finish.countDown();
            assertThat(queued.get(5, SECONDS)).isTrue();
        } finally {
            finish.countDown();
            threads.shutdownNow();
        }
    }
}
