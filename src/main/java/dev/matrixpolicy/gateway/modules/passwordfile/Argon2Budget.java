package dev.matrixpolicy.gateway.modules.passwordfile;

import java.util.concurrent.Semaphore;

/**
 * The heap, in KiB, that argon2id hashing running at once may hold: each verification, and each
 * dummy hash made (at startup, or when a file reload brings a new cost, on a login's thread), takes its
 * {@code m} for as long as it runs, so however many run they cannot exhaust the heap together. bcrypt
 * takes none. One budget for every instance {@link PasswordFileModuleType} builds, since they share one
 * heap; one hash never needs more than all of it ({@link PasswordHash.Limits}).
 */
final class Argon2Budget {
    private final Semaphore kib;

    Argon2Budget(long kib) {
        this.kib = new Semaphore(Math.toIntExact(kib), true);
    }

    /** A budget nothing waits for: for code that makes hashes outside any module (tests of the credentials). */
    static Argon2Budget unbounded() {
        return new Argon2Budget(Integer.MAX_VALUE);
    }

    /** Hashing, or the wait for the rest of what it needs (a verification's slots). */
    @FunctionalInterface
    interface Work<T> {
        T run() throws InterruptedException;
    }

    /**
     * Runs {@code work} on {@code hash} (verifying it, or making a dummy of its cost) once its memory
     * is free, in turn with the others waiting.
     *
     * @throws InterruptedException when the thread stops waiting (the chain's deadline, shutdown)
     */
    <T> T holding(PasswordHash hash, Work<T> work) throws InterruptedException {
        int memory = Math.toIntExact(hash.memoryKib());
        if (memory == 0) {
            // bcrypt: a fair semaphore would queue even a request for nothing behind the argon2id ones waiting
            return work.run();
        }
        kib.acquire(memory);
        try {
            return work.run();
        } finally {
            kib.release(memory);
        }
    }
}
