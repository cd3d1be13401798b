package dev.matrixpolicy.gateway.policylist;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static dev.matrixpolicy.gateway.support.HandWrittenServer.answerEach;
import static dev.matrixpolicy.gateway.support.HandWrittenServer.requestHead;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.MovableClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;

/** File and URL sources: read when changed, and their last good rules kept when they fail. */
class PollingSourcesTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("could not be read, keeping its last good rules");

    private final List<Collection<PolicyRule>> updates = new CopyOnWriteArrayList<>();
    private final WireMockServer server = new WireMockServer(WireMockConfiguration.options().dynamicPort());

    @TempDir
    Path directory;

    @AfterEach
    void stop() {
        server.stop();
    }

    @Test
    void aListsUrlIsShownWithoutItsQueryWhichMayHoldAToken() {
        assertThat(UrlSource.shown(URI.create("https://lists.example:8443/bans.txt?token=s3cret&list=a")))
                .isEqualTo("https://lists.example:8443/bans.txt?…");
        assertThat(UrlSource.shown(URI.create("http://[::1]/bans.json"))).isEqualTo("http://[::1]/bans.json");
        assertThat(UrlSource.shown(URI.create("https://lists.example"))).isEqualTo("https://lists.example");
        assertThat(UrlSource.shown(URI.create("https://my_lists.example/bans.txt?t=1"))).isEqualTo("https://my_lists.example/bans.txt?…");
    }

    @Test
    void aFileIsReadAgainOnlyWhenItChanges() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @a:example.com\n");
        try (FileSource source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 1);
            awaitACheckBegunNow(source);
            assertThat(updates).hasSize(1);

            Files.writeString(file, "ban user @a:example.com\nban user @b:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 2);
            assertThat(updates.get(1)).hasSize(2);
            assertThat(source.status().lastSuccess()).isPresent();
        }
    }

    @Test
    void aListOfManyChunksIsReadWhole() throws Exception {
        Path file = directory.resolve("bans.txt");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 5_000; i++) { // about 150 KiB: more than one chunk of the check that the file settled
            text.append("ban user @spammer").append(i).append(":example.com spam\n");
        }
        Files.writeString(file, text);
        try (FileSource source = new FileSource("local", file, Duration.ofHours(1), Clock.systemUTC())) {
            assertThat(source.readIfChanged()).isInstanceOfSatisfying(PollingSource.Read.Content.class,
                    read -> assertThat(RuleText.parse(read.bytes(), "local").rules()).hasSize(5_000));
        }
    }

    @Test
    void aRewriteWithTheSameSizeAndModificationTimeIsStillSeen() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @a:example.com\n");
        FileTime written = Files.getLastModifiedTime(file);
        try (FileSource source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 1);

            // a file system that keeps modification times to the second: the rewrite looks untouched
            Files.writeString(file, "ban user @b:example.com\n");
            Files.setLastModifiedTime(file, written);
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 2);
            assertThat(updates.get(1)).extracting(rule -> rule.entity().value()).containsExactly("@b:example.com");
            awaitACheckBegunNow(source);
            assertThat(updates).as("unchanged bytes are not parsed again").hasSize(2);
        }
    }

    @Test
    void aRewriteInTheTickOfTheLastReadIsSeenHoweverLateTheNextCheckRuns() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @a:example.com\n");
        FileTime written = Files.getLastModifiedTime(file);
        MovableClock clock = new MovableClock(written.toInstant().plusMillis(100));
        try (FileSource source = new FileSource("local", file, Duration.ofHours(1), clock)) {
            assertThat(source.readIfChanged()).isInstanceOf(PollingSource.Read.Content.class);
            source.took();

            // rewritten within the tick of that read; the next check runs long after (a busy machine)
            Files.writeString(file, "ban user @b:example.com\n");
            Files.setLastModifiedTime(file, written);
            clock.advance(Duration.ofSeconds(10));

            assertThat(source.readIfChanged()).isInstanceOfSatisfying(PollingSource.Read.Content.class,
                    read -> assertThat(RuleText.parse(read.bytes(), "local").rules())
                            .extracting(rule -> rule.entity().value()).containsExactly("@b:example.com"));
            source.took();
            assertThat(source.readIfChanged()).as("read long after its modification time: settled").isEqualTo(PollingSource.Read.UNCHANGED);
        }
    }

    @Test
    void aBrokenFileKeepsTheLastGoodRulesAndSaysWhyUntilItIsFixed() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @a:example.com\n");
        try (FileSource source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 1);

            Files.writeString(file, "ban user @a:example.com\nbna user @b:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            assertThat(source.status().lastError()).contains(file + ": line 2: 'bna' is not ban, takedown or allow");
            assertThat(updates).hasSize(1);

            Files.writeString(file, "ban user @b:example.com\nban user @c:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 2);
            assertThat(updates.get(1)).hasSize(2);
            // the source hands the rules over, then records the good read
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isEmpty());
            assertThat(source.status().failures()).isPositive();
        }
    }

    @Test
    void aBrokenFileLeftAsItIsIsOneFailureNotOneACheck() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @a:example.com\n");
        try (FileSource source = new FileSource("local", file, Duration.ofMillis(20), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 1);

            Files.writeString(file, "ban user @a:example.com\nbna user @b:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            awaitACheckBegunNow(source); // of the same broken content, read again (its time is within the tick)

            assertThat(source.status().failures()).as("the content refused is neither parsed nor counted again").isEqualTo(1);
            assertThat(source.status().lastError()).contains(file + ": line 2: 'bna' is not ban, takedown or allow");

            Files.delete(file);
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().orElse("").contains("does not exist"));
            Files.writeString(file, "ban user @a:example.com\nbna user @b:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().orElse("").contains("'bna'"));
        }
    }

    @Test
    void rulesThatCouldNotBeTakenAreReadAndHandedOverAgainEvenAfterAnError() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @a:example.com\n");
        AtomicBoolean outOfMemory = new AtomicBoolean(true);
        try (FileSource source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> {
                if (outOfMemory.get()) {
                    throw new OutOfMemoryError("Java heap space"); // as compiling a huge list could
                }
                updates.add(rules);
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().failures() >= 2);
            assertThat(source.status().lastError()).contains("OutOfMemoryError: Java heap space");

            outOfMemory.set(false);
            await("the unchanged file handed over again").atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 1);
            assertThat(updates.getFirst()).extracting(rule -> rule.entity().value()).containsExactly("@a:example.com");
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isEmpty());

            Files.writeString(file, "ban user @b:example.com\n");
            await("still checked after the errors").atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 2);
        }
    }

    @Test
    void aMissingFileIsAFailureNotAnEmptyList() {
        try (FileSource source = new FileSource("local", directory.resolve("absent.txt"), Duration.ofMillis(50), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            assertThat(source.status().lastError()).contains(directory.resolve("absent.txt") + " does not exist: create it, or correct the path");
            assertThat(updates).isEmpty();
        }
    }

    @Test
    void anUnchangedUrlAnswers304AndIsNotParsedAgain() {
        server.start();
        server.stubFor(get("/bans").willReturn(aResponse().withBody("ban user @a:example.com").withHeader("ETag", "\"v1\"")));
        server.stubFor(get("/bans").withHeader("If-None-Match", matching("\"v1\"")).willReturn(aResponse().withStatus(304)));
        try (UrlSource source = new UrlSource("community", URI.create(server.baseUrl() + "/bans"), Duration.ofMillis(100),
                Duration.ofSeconds(5), 1 << 20, Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.findAll(getRequestedFor(urlEqualTo("/bans"))).size() >= 3);
            assertThat(updates).hasSize(1);
        }
    }

    @Test
    void aServerRefusingItsOwnEtagWith412IsAskedAgainForTheWholeListAndNoPollFails() {
        server.start();
        server.stubFor(get("/bans").willReturn(aResponse().withBody("ban user @a:example.com").withHeader("ETag", "\"v1\"")));
        server.stubFor(get("/bans").withHeader("If-None-Match", matching(".*")).willReturn(aResponse().withStatus(412)));
        try (UrlSource source = new UrlSource("community", URI.create(server.baseUrl() + "/bans"), Duration.ofMillis(100),
                Duration.ofSeconds(5), 1 << 20, Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.findAll(getRequestedFor(urlEqualTo("/bans"))
                    .withHeader("If-None-Match", matching(".*"))).size() >= 3);

            assertThat(source.status().lastError()).as("no poll failed").isEmpty();
            assertThat(updates).as("the same list, handed over once").hasSize(1);
        }
    }

    @Test
    void a304ToARequestThatAskedForNoComparisonIsAFailedReadNotAFreshList() {
        server.start();
        server.stubFor(get("/bans").willReturn(aResponse().withStatus(304)));
        try (UrlSource source = new UrlSource("community", URI.create(server.baseUrl() + "/bans"), Duration.ofMillis(100),
                Duration.ofSeconds(5), 1 << 20, Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            assertThat(source.status().lastError()).contains("HTTP 304 Not Modified to a request without If-None-Match or If-Modified-Since");
            assertThat(source.status().lastSuccess()).as("never read").isEmpty();
            assertThat(updates).isEmpty();
        }
    }

    @Test
    void aReplyWithAControlCharacterInAHeaderIsAFailedReadShownEscaped() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            answerEach(listener, socket -> {
                requestHead(socket);
                byte[] body = "ban user @a:example.com\n".getBytes(StandardCharsets.US_ASCII);
                socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nETag: \"v1\u001b[31m\"\r\nConnection: close\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().write(body);
            });
            try (UrlSource source = new UrlSource("community", urlOf(listener), Duration.ofMillis(100),
                    Duration.ofSeconds(5), 1 << 20, Clock.systemUTC())) {
                source.start((from, rules, skipped) -> updates.add(rules));
                await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
                assertThat(source.status().lastError().orElseThrow()).contains("v1\\u001B[31m").doesNotContain("\u001b");
                assertThat(updates).isEmpty();
            }
        }
    }

    @Test
    void aFailureQuotingTheListIsShownWithItsControlCharactersEscaped() throws Exception {
        Path file = directory.resolve("bans.json");
        Files.writeString(file, "[nul\u0085\u2028WARN forged line]");
        try (FileSource source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            assertThat(source.status().lastError().orElseThrow())
                    .startsWith(file + ": not valid JSON")
                    .contains("'nul\\u0085'")
                    .doesNotContain("\u0085", "\u2028");
        }
    }

    @Test
    void anEmptyReplyFromAUrlIsAFailedReadNotAListWithNoRules() {
        server.start();
        server.stubFor(get("/bans").willReturn(aResponse().withBody("ban user @a:example.com")));
        try (UrlSource source = new UrlSource("community", URI.create(server.baseUrl() + "/bans"), Duration.ofMillis(100),
                Duration.ofSeconds(5), 1 << 20, Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 1);

            server.stubFor(get("/bans").willReturn(aResponse().withBody("\uFEFF \n")));
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            assertThat(source.status().lastError()).contains("the list is empty; a list with no rules is written as [] or a comment line");

            server.stubFor(get("/bans").willReturn(aResponse().withBody("# no rules today\n")));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 2);
            assertThat(updates.get(1)).isEmpty();
        }
    }

    @Test
    void aCheckThatFindsTheContentStillChangingLeavesTheStatusAsItWas() throws Exception {
        AtomicInteger checks = new AtomicInteger();
        try (PollingSource source = checked("bans.txt", Duration.ofMillis(20), () -> {
            if (checks.incrementAndGet() == 1) {
                throw new IOException("the list is empty");
            }
            return PollingSource.Read.CHANGING; // a file caught while it is written, check after check
        })) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> checks.get() >= 5);

            assertThat(source.status().lastError()).as("no read happened since the failure").contains("the list is empty");
            assertThat(source.status().lastSuccess()).isEmpty();
            assertThat(updates).isEmpty();
        }
    }

    /** A reload closes the instance it replaces, in the middle of a slow read: the source did not fail. */
    @Test
    void aReadCutShortByClosingTheSourceIsNoFailure(CapturedOutput logged) throws Exception {
        CountDownLatch reading = new CountDownLatch(1);
        PollingSource source = checked("https://lists.example/bans.txt", Duration.ofHours(1), () -> {
            reading.countDown();
            try {
                Thread.sleep(Duration.ofMinutes(1)); // a list server sending its body slowly
            } catch (InterruptedException interrupted) {
                throw new IOException("closed", interrupted); // as the JDK's HTTP client's body stream does
            }
            return PollingSource.Read.UNCHANGED;
        });
        source.start((from, rules, skipped) -> updates.add(rules));
        assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();

        source.close();

        assertThat(source.status().lastError()).isEmpty();
        assertThat(logged.getAll()).doesNotContain("could not be read");
    }

    /**
     * A read the closing does not interrupt (a file read: the JDK's file channels do not stop for an
     * interruption) ends after the source's close began: what it read is handed over to no one, and
     * the source says nothing more, neither a good read nor that it reads again.
     */
    @Test
    void aReadThatEndsAfterTheSourceIsClosedHandsNothingOverAndLogsNothing(CapturedOutput logged) throws Exception {
        CountDownLatch reading = new CountDownLatch(1);
        AtomicBoolean failing = new AtomicBoolean(true);
        PollingSource source = checked("https://lists.example/bans.txt", Duration.ofMillis(20), () -> {
            if (failing.get()) {
                throw new IOException("the list server is down");
            }
            reading.countDown();
            try {
                Thread.sleep(Duration.ofMinutes(1));
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt(); // and goes on: the read was under way, and ends
            }
            return new PollingSource.Read.Content("ban user @a:example.com\n".getBytes(StandardCharsets.UTF_8));
        });
        source.start((from, rules, skipped) -> updates.add(rules));
        await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
        failing.set(false);
        assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();

        source.close();

        assertThat(updates).isEmpty();
        assertThat(logged.getAll()).doesNotContain("reads again");
    }

    @Test
    void aUrlServingTheSameListWithoutValidatorsIsNotParsedOrHandedOverAgain() {
        server.start();
        server.stubFor(get("/bans").willReturn(aResponse().withBody("ban user @a:example.com")));
        try (UrlSource source = new UrlSource("community", URI.create(server.baseUrl() + "/bans"), Duration.ofMillis(100),
                Duration.ofSeconds(5), 1 << 20, Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.findAll(getRequestedFor(urlEqualTo("/bans"))).size() >= 3);
            assertThat(updates).hasSize(1);

            server.stubFor(get("/bans").willReturn(aResponse().withBody("ban user @b:example.com")));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 2);
            assertThat(source.status().lastError()).isEmpty();
        }
    }

    @Test
    void aFileEmptiedForARewriteKeepsTheLastGoodRulesUntilItIsWritten() throws Exception {
        Path file = directory.resolve("bans.txt");
        Files.writeString(file, "ban user @a:example.com\n");
        try (FileSource source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 1);

            Files.writeString(file, ""); // `generate-bans > bans.txt` truncates first, then writes
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            assertThat(source.status().lastError()).contains(file + " is empty; write the file whole and move it into place, and to remove every rule leave a comment line in it");
            assertThat(updates).hasSize(1);

            Files.writeString(file, "ban user @a:example.com\nban user @b:example.com\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 2);
            // the source hands the rules over, then records the good read
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isEmpty());

            Files.writeString(file, "[]");
            await().atMost(Duration.ofSeconds(10)).until(() -> updates.size() == 3);
            assertThat(updates.get(2)).as("a list with no rules, written as one").isEmpty();
        }
    }

    @Test
    void aListLargerThanMaxSizeIsRefusedAndTheLastGoodOneKept() {
        server.start();
        server.stubFor(get("/bans").willReturn(aResponse().withBody("ban user @a:example.com\n".repeat(100))));
        try (UrlSource source = new UrlSource("community", URI.create(server.baseUrl() + "/bans"), Duration.ofMillis(100),
                Duration.ofSeconds(5), 1000, Clock.systemUTC())) {
            source.start((from, rules, skipped) -> updates.add(rules));
            await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
            assertThat(source.status().lastError()).contains("reply larger than max-size 1000B");
            assertThat(updates).isEmpty();
        }
    }

    @Test
    void aListWhoseBodyStopsComingIsAFailureAndTheSourceKeepsPolling() throws Exception {
        // Headers at once, then a few bytes of the body, then nothing: the request timeout is over once
        // the headers arrive, so only the body's own guard can end such a read.
        AtomicInteger requests = new AtomicInteger();
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                List<Socket> held = new CopyOnWriteArrayList<>();
                try {
                    while (true) {
                        Socket socket = listener.accept();
                        held.add(socket);
                        requests.incrementAndGet();
                        requestHead(socket);
                        socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nban user @a")
                                .getBytes(StandardCharsets.US_ASCII));
                        socket.getOutputStream().flush();
                    }
                } catch (IOException closed) {
                    held.forEach(socket -> {
                        try {
                            socket.close();
                        } catch (IOException ignored) {
                            // closing anyway
                        }
                    });
                }
            });
            try (UrlSource source = new UrlSource("community", urlOf(listener), Duration.ofMillis(100),
                    Duration.ofMillis(300), 1 << 20, Clock.systemUTC())) {
                source.start((from, rules, skipped) -> updates.add(rules));
                await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
                assertThat(source.status().lastError()).contains("the list stopped coming for 300ms");
                await().atMost(Duration.ofSeconds(10)).until(() -> requests.get() >= 3);
                assertThat(updates).isEmpty();
            }
        }
    }

    @Test
    void aListCutShortOfItsEndIsAFailureThatSaysSoOnceWhereverItIsCut() throws Exception {
        // The JDK says "closed" of a body that ends short of its Content-Length or its last chunk; so did the
        // WARN line and the status. The cut comes at another byte each time: still one failure, one line.
        AtomicInteger answered = new AtomicInteger();
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            answerEach(listener, socket -> {
                requestHead(socket);
                String rules = "ban user @a:example.com\nban user @b:example.com\n";
                String cut = rules.substring(0, 10 + answered.getAndIncrement() % 20);
                socket.getOutputStream().write((answered.get() % 2 == 0
                        ? "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + cut
                        : "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(cut.length()) + "\r\n" + cut + "\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
            });
            try (UrlSource source = new UrlSource("community", urlOf(listener), Duration.ofMillis(50),
                    Duration.ofSeconds(5), 1 << 20, Clock.systemUTC())) {
                source.start((from, rules, skipped) -> updates.add(rules));
                await().atMost(Duration.ofSeconds(10)).until(() -> source.status().failures() >= 4);
                // the same words at every cut: the outage's one condition, so one WARN line
                assertThat(source.status().lastError()).hasValue("the list broke off before its end");
                assertThat(updates).isEmpty();
            }
        }
    }

    @Test
    void aRedirectThatIsNotFollowedSaysWhereItPointsAndWhy() throws Exception {
        // A loop ends at the JDK's limit, and a redirect to file: or ftp: is never followed: each was "HTTP 302" alone.
        for (String location : List.of("/bans?token=secret", "file:///etc/passwd", "ftp://lists.example/bans?token=secret")) {
            updates.clear();
            try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                answerEach(listener, socket -> {
                    requestHead(socket);
                    socket.getOutputStream().write(("HTTP/1.1 302 Found\r\nLocation: " + location + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                });
                URI url = urlOf(listener);
                try (UrlSource source = new UrlSource("community", url, Duration.ofSeconds(60), Duration.ofSeconds(5), 1 << 20,
                        Clock.systemUTC())) {
                    source.start((from, rules, skipped) -> updates.add(rules));
                    await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
                    String target = location.startsWith("/") ? url + "?…" : location.startsWith("file") ? "file:…" : "ftp://lists.example/bans?…";
                    assertThat(source.status().lastError()).as(location).contains("HTTP 302, a redirect not followed (to " + target
                            + "): a source follows 5 in a row at most, from http or https to http or https, never from https to http");
                    assertThat(updates).isEmpty();
                }
            }
        }
    }

    /**
     * A list served over plain http is asked for in HTTP/1.1 alone, as a homeserver is: the JDK's
     * client otherwise offers an h2c upgrade, which some servers and proxies answer with an error.
     */
    @Test
    void aPlainHttpListIsAskedForWithoutAnUpgradeToHttp2() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            answerEach(listener, socket -> {
                String head = requestHead(socket).toLowerCase(Locale.ROOT);
                byte[] body = "ban user @a:example.com\n".getBytes(StandardCharsets.US_ASCII);
                socket.getOutputStream().write((head.contains("upgrade:") ? "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                        : "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n"
                        + new String(body, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
            });
            try (UrlSource source = new UrlSource("community", urlOf(listener), Duration.ofSeconds(60), Duration.ofSeconds(5), 1 << 20,
                    Clock.systemUTC())) {
                source.start((from, rules, skipped) -> updates.add(rules));
                await().atMost(Duration.ofSeconds(10)).until(() -> !updates.isEmpty() || source.status().lastError().isPresent());
                assertThat(source.status().lastError()).isEmpty();
                assertThat(updates).hasSize(1);
            }
        }
    }

    /**
     * A reload or a stop closes a source while a list server holds its answer: the close gives up the
     * read at once. The JDK client's close() waits for every exchange to end, which a server that never
     * ends it never does (a CI run hung so, in UrlSource.close, in another test of this class).
     */
    @Test
    void aSourceClosedWhileTheServerHoldsItsAnswerClosesAtOnce() throws Exception {
        CountDownLatch asked = new CountDownLatch(1);
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            answerEach(listener, socket -> {
                requestHead(socket);
                asked.countDown();
                Thread.sleep(60_000); // holds its answer, and the connection
            });
            UrlSource source = new UrlSource("community", urlOf(listener), Duration.ofSeconds(60), Duration.ofSeconds(30), 1 << 20,
                    Clock.systemUTC());
            source.start((from, rules, skipped) -> updates.add(rules));
            assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();

            assertTimeoutPreemptively(Duration.ofSeconds(5), source::close);
        }
    }

    /** The JDK's client says ConnectException alone to both; an admin needs to know which to fix. */
    @Test
    void aListServerThatDoesNotListenAndAHostThatDoesNotResolveReadApart() throws Exception {
        URI nobody;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nobody = URI.create("http://127.0.0.1:" + closed.getLocalPort() + "/bans");
        }
        Map<URI, String> expected = Map.of(nobody, "ConnectException <- ClosedChannelException",
                URI.create("http://lists.invalid/bans"), "ConnectException <- UnresolvedAddressException");
        for (Map.Entry<URI, String> server : expected.entrySet()) {
            try (UrlSource source = new UrlSource("community", server.getKey(), Duration.ofSeconds(60), Duration.ofSeconds(5), 1 << 20,
                    Clock.systemUTC())) {
                source.start((from, rules, skipped) -> updates.add(rules));
                await().atMost(Duration.ofSeconds(10)).until(() -> source.status().lastError().isPresent());
                assertThat(source.status().lastError()).as(server.getKey().toString()).contains(server.getValue());
            }
        }
    }

    @Test
    void aListThatTricklesInIsAFailureOnceItsDeadlineIsOver() throws Exception {
        // A byte every 100 ms never stalls for the 2 s timeout (a margin a loaded machine's late wake-ups
        // never used up; 300 ms did); the whole body must still come within its deadline (here 1 s, and the
        // timeout), so that the source's one thread is not held for good.
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            answerEach(listener, PollingSourcesTest::trickle);
            try (UrlSource source = new UrlSource("community", urlOf(listener), Duration.ofMillis(100),
                    Duration.ofSeconds(2), 1 << 20, Duration.ofSeconds(1), Clock.systemUTC())) {
                source.start((from, rules, skipped) -> updates.add(rules));
                await().atMost(Duration.ofSeconds(15)).until(() -> source.status().lastError().isPresent());
                assertThat(source.status().lastError()).contains("the list took longer than 3s to come");
                assertThat(updates).isEmpty();
            }
        }
    }

    private static void trickle(Socket socket) throws IOException, InterruptedException {
        requestHead(socket);
        var out = socket.getOutputStream();
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < 100_000; i++) {
            out.write('#');
            out.flush();
            Thread.sleep(100);
        }
    }

    /** Waits for a check that began after this call to end: one that found the source as it is now. */
    private static void awaitACheckBegunNow(PollingSource source) {
        long ended = source.checksEnded(); // the check under way, if any, may end next
        await().atMost(Duration.ofSeconds(10)).until(() -> source.checksEnded() >= ended + 2);
    }

    private static URI urlOf(ServerSocket listener) {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/bans");
    }

    /** What one check of a test source does. */
    @FunctionalInterface
    private interface Check {
        PollingSource.Read read() throws IOException;
    }

    /** A source at {@code location} whose every check is {@code check}, and which keeps nothing between checks. */
    private static PollingSource checked(String location, Duration interval, Check check) {
        return new PollingSource("local", interval, Clock.systemUTC(), false) {
            @Override
            Read readIfChanged() throws IOException {
                return check.read();
            }

            @Override
            void took() {
            }

            @Override
            void forget() {
            }

            @Override
            String location() {
                return location;
            }
        };
    }
}
