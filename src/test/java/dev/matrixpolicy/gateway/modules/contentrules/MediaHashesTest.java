package dev.matrixpolicy.gateway.modules.contentrules;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.ok;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.MovableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class MediaHashesTest {
    /** Long enough that only the test's own {@code reload()} calls look at the file. */
    private static final Duration NEVER = Duration.ofHours(1);
    private static final String FIRST = "a".repeat(64);
    private static final String SECOND = "b".repeat(64);
    private static final String THIRD = "c".repeat(64);

    /** The list's lines, DEBUG up, kept off the console. */
    @RegisterExtension
    final LoggedLines logged = LoggedLines.of(MediaHashes.class, Level.DEBUG);

    @RegisterExtension
    static final WireMockExtension hashServer = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("media: keeping the 2 media hashes loaded before");

    @TempDir
    Path directory;

    /** When the list's file was last written, as its modification time says; the clock stands half a second later. */
    private final Instant written = Instant.parse("2025-01-01T00:00:00Z");
    private final MovableClock clock = new MovableClock(written.plusMillis(500));
    private MediaHashes hashes;

    @AfterEach
    void stopWatching() {
        if (hashes != null) {
            hashes.close();
        }
    }

    /** The hashes of {@code file}, read at startup half a second after its modification time. */
    private MediaHashes watch(Path file) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(written));
        hashes = MediaHashes.file("media", "media.hashes-file", file, NEVER, List.of(), clock);
        return hashes;
    }

    /** Writes a new version of {@code file} with the modification time {@code modified}. */
    private static void rewrite(Path file, String content, Instant modified) throws IOException {
        Files.writeString(file, content);
        Files.setLastModifiedTime(file, FileTime.from(modified));
    }

    private Path twoHashes() throws IOException {
        return Files.writeString(directory.resolve("hashes.txt"), FIRST + "\n" + SECOND + "\n");
    }

    @Test
    void anEmptiedMediaHashFileKeepsTheHashesLoadedBefore() throws IOException {
        Path file = twoHashes();
        MediaHashes list = watch(file);
        clock.advance(Duration.ofMinutes(1));

        rewrite(file, "", written.plusSeconds(10));
        list.reload();

        assertThat(list.contains(FIRST)).isTrue();
        assertThat(list.size()).isEqualTo(2);
        assertThat(logged.at(Level.WARN)).singleElement().asString()
                .contains("media: keeping the 2 media hashes loaded before; " + file + " is empty; write the file whole");
        assertThat(list.status().lastError()).hasValueSatisfying(error -> assertThat(error).contains(file + " is empty"));
    }

    /** A file truncated before a restart is a list of no hash, as one meant to be empty is, but it is said in a warning. */
    @Test
    void anEmptyMediaHashFileAtStartupIsNoHashAndAWarningWhileACommentedOneIsQuiet() throws IOException {
        Path empty = Files.writeString(directory.resolve("empty.txt"), "");
        assertThat(watch(empty).size()).isZero();
        assertThat(logged.at(Level.WARN)).singleElement().asString()
                .isEqualTo("media: " + empty + " is empty, not even a comment: no hash of it is in force. If it was emptied by"
                        + " accident, restore it; a list meant to be empty says so in a comment line, and this warning goes");
        hashes.close();

        assertThat(watch(Files.writeString(directory.resolve("none.txt"), "# no hash yet\n")).size()).isZero();
        assertThat(logged.at(Level.WARN)).hasSize(1);
    }

    /** As a users file: an empty list is said so in a comment, so an emptied file is never taken for one. */
    @Test
    void aMediaHashFileWithOnlyACommentRemovesEveryHash() throws IOException {
        Path file = twoHashes();
        MediaHashes list = watch(file);
        clock.advance(Duration.ofMinutes(1));

        rewrite(file, "# none, for now\n", written.plusSeconds(10));
        list.reload();

        assertThat(list.size()).isZero();
        assertThat(list.status().lastError()).isEmpty();
    }

    @Test
    void aMediaHashFileRewrittenWithinTheModificationTimesTickIsApplied() throws IOException {
        Path file = twoHashes();
        MediaHashes list = watch(file); // half a second after its modification time: a rewrite in the same tick may follow

        rewrite(file, FIRST + "\n" + THIRD + "\n", written); // the same size and, on a coarse clock, the same time
        clock.advance(Duration.ofMinutes(1));
        list.reload();

        assertThat(list.contains(THIRD)).isTrue();
        assertThat(list.contains(SECOND)).isFalse();
    }

    @Test
    void aRefusedMediaHashFileIsReportedUntilItIsCorrected() throws IOException {
        Path file = twoHashes();
        MediaHashes list = watch(file);
        clock.advance(Duration.ofMinutes(1));

        rewrite(file, FIRST + "\nnot a hash\n", written.plusSeconds(10));
        list.reload();
        list.reload();
        list.reload();

        assertThat(list.status().lastError()).as("the refused file is still there")
                .hasValueSatisfying(error -> assertThat(error).contains("line 2 is not a SHA-256 hash"));
        assertThat(logged.at(Level.WARN)).singleElement().asString().contains("keeping the 2 media hashes loaded before");
        assertThat(list.contains(SECOND)).isTrue();

        rewrite(file, FIRST + "\n" + THIRD + "\n", written.plusSeconds(20));
        list.reload();

        assertThat(list.status().lastError()).isEmpty();
        assertThat(list.contains(THIRD)).isTrue();
    }

    @Test
    void refusedContentBackAfterAFailedReadIsReportedAgain() throws IOException {
        Path file = twoHashes();
        MediaHashes list = watch(file);
        clock.advance(Duration.ofMinutes(1));
        rewrite(file, FIRST + "\nnot a hash\n", written.plusSeconds(10));
        list.reload();
        Files.delete(file);
        list.reload();
        assertThat(list.status().lastError()).hasValueSatisfying(error -> assertThat(error).doesNotContain("not a SHA-256 hash"));

        rewrite(file, FIRST + "\nnot a hash\n", written.plusSeconds(20));
        list.reload();

        assertThat(list.status().lastError()).hasValueSatisfying(error -> assertThat(error).contains("line 2 is not a SHA-256 hash"));
        assertThat(list.contains(SECOND)).isTrue();
    }

    @Test
    void anUnreadableMediaHashFileIsOneWarningUntilItReadsAgain() throws IOException {
        Path file = twoHashes();
        MediaHashes list = watch(file);
        clock.advance(Duration.ofMinutes(1));
        Instant failingSince = clock.instant();
        Files.delete(file);

        list.reload();
        list.reload();
        list.reload();

        assertThat(logged.at(Level.WARN)).containsExactly(
                "media: keeping the 2 media hashes loaded before; " + file + " does not exist: create it, or correct the path");
        assertThat(logged.at(Level.DEBUG)).hasSize(2).last().asString().contains("(3 failed reads)");
        assertThat(list.status().failures()).as("every failed read counts").isEqualTo(3);

        rewrite(file, FIRST + "\n" + THIRD + "\n", written.plusSeconds(10));
        list.reload();
        list.reload();

        assertThat(logged.at(Level.INFO)).filteredOn(line -> line.contains("reads again")).containsExactly(
                "media: " + file + " reads again, after 3 failed attempt(s) since " + failingSince);
        assertThat(list.contains(THIRD)).isTrue();
        assertThat(list.status().lastError()).isEmpty();
    }

    @Test
    void aMediaHashFileStillBeingWrittenIsAppliedOnlyOnceItHoldsStill() throws Exception {
        Path file = twoHashes();
        MediaHashes list = watch(file);
        clock.advance(Duration.ofMinutes(1));
        AtomicBoolean writing = new AtomicBoolean(true);
        CountDownLatch firstWritten = new CountDownLatch(1);
        Path next = directory.resolve("hashes.txt.new");
        Thread writer = Thread.ofPlatform().start(() -> {
            // a new whole list every few milliseconds, each different from the one before: the file never holds still
            for (int version = 0; writing.get(); version++) {
                try {
                    Files.writeString(next, "# version " + version + "\n" + THIRD + "\n");
                    Files.move(next, file, StandardCopyOption.ATOMIC_MOVE);
                    firstWritten.countDown();
                    Thread.sleep(5);
                } catch (IOException | InterruptedException stopped) {
                    return;
                }
            }
        });
        try {
            firstWritten.await();
            list.reload();
        } finally {
            writing.set(false);
            writer.join();
        }
        assertThat(list.contains(THIRD)).as("changing while it was read").isFalse();

        list.reload();

        assertThat(list.contains(THIRD)).as("held still").isTrue();
        assertThat(list.contains(SECOND)).isFalse();
    }

    /** A reload that names a missing or bad file is refused; each attempt used to leave a polling thread behind. */
    @Test
    void aHashesFileThatIsRefusedLeavesNoThreadBehind() throws IOException {
        Path bad = Files.writeString(directory.resolve("bad.txt"), "not a hash\n");

        assertThatThrownBy(() -> MediaHashes.file("refused-1", "media.hashes-file", directory.resolve("missing.txt"), Duration.ofMinutes(1)))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> MediaHashes.file("refused-2", "media.hashes-file", bad, Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(thread -> thread.getName().startsWith("content-rules-media-refused-"));
    }

    @Test
    void aHashesFileReadIsPolledOnItsOwnThreadUntilClosed() throws Exception {
        Path good = Files.writeString(directory.resolve("good.txt"), "A".repeat(64) + " # a known file\n");

        try (MediaHashes hashes = MediaHashes.file("kept", "media.hashes-file", good, Duration.ofMinutes(1))) {
            assertThat(hashes.contains("a".repeat(64))).isTrue();
            assertThat(Thread.getAllStackTraces().keySet()).anyMatch(thread -> thread.getName().equals("content-rules-media-kept"));
        }
    }

    /**
     * A check that runs on after the list's close (one the interruption did not stop, such as a read
     * or a parse that outlasts the close's wait) applies nothing and logs nothing, neither the list
     * loaded nor the file reading again: the list is closed, and the gateway may have said it stopped.
     */
    @Test
    void aCheckThatRunsOnAfterTheListIsClosedAppliesAndLogsNothing() throws IOException {
        Path file = twoHashes();
        MediaHashes list = watch(file);
        clock.advance(Duration.ofMinutes(1));
        Files.delete(file);
        list.reload();
        List<String> before = logged.all();

        rewrite(file, FIRST + "\n" + THIRD + "\n", written.plusSeconds(10));
        list.close();
        list.reload();

        assertThat(logged.all()).isEqualTo(before);
        assertThat(list.contains(THIRD)).isFalse();
    }

    /**
     * A list served behind a token often takes it in its query: the sources page and the console show
     * the URL as a policy list's is shown, its query only as {@code ?…}.
     */
    @Test
    void aHashesUrlIsShownWithoutTheTokenItsQueryMayHold() {
        hashServer.stubFor(get("/hashes.txt?token=s3cret").willReturn(ok(FIRST + "\n")));
        Backend backend = Backend.builder(new ModuleContext("media", "example.com", new SimpleMeterRegistry()), Duration.ofSeconds(1)).build();
        try (MediaHashes list = MediaHashes.url("tokened", "media.hashes-url", URI.create(hashServer.baseUrl() + "/hashes.txt?token=s3cret"),
                Duration.ofSeconds(5), NEVER, backend)) {
            assertThat(list.status().location()).isEqualTo(hashServer.baseUrl() + "/hashes.txt?…");
        } finally {
            backend.shutdownNow();
        }
    }

    /**
     * Closing the list (the module's, at the context's shutdown) interrupts a fetch in flight: that is
     * the closing, not a failure of the URL, so it is no WARN and no failure in the list's status.
     */
    @Test
    void aHashesUrlFetchInterruptedByClosingIsNeitherAFailureNorAWarning() throws InterruptedException {
        hashServer.stubFor(get("/slow-hashes.txt").willReturn(ok(FIRST + "\n").withFixedDelay(10_000)));
        Backend backend = Backend.builder(new ModuleContext("media", "example.com", new SimpleMeterRegistry()), Duration.ofSeconds(1)).build();
        try {
            MediaHashes list = MediaHashes.url("slow", "media.hashes-url", URI.create(hashServer.baseUrl() + "/slow-hashes.txt"),
                    Duration.ofSeconds(30), NEVER, backend);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (hashServer.getAllServeEvents().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10); // until the fetch is in flight: the server holds its reply for 10 s
            }
            assertThat(hashServer.getAllServeEvents()).as("the fetch in flight").isNotEmpty();

            list.close();
            for (Thread thread : Thread.getAllStackTraces().keySet()) {
                if (thread.getName().equals("content-rules-media-slow")) {
                    thread.join(Duration.ofSeconds(5)); // what the list's thread logs on its way out
                }
            }

            assertThat(logged.at(Level.WARN)).isEmpty();
            assertThat(list.status().failures()).isZero();
            assertThat(list.status().lastError()).isEmpty();
        } finally {
            backend.shutdownNow();
        }
    }
}
