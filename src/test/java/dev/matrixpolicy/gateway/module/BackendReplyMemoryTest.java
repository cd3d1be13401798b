package dev.matrixpolicy.gateway.module;

import static dev.matrixpolicy.gateway.support.HandWrittenServer.answerEach;
import static dev.matrixpolicy.gateway.support.HandWrittenServer.requestHead;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.matrixpolicy.gateway.module.BackendFailure.Kind;
import dev.matrixpolicy.gateway.replies.HeapBudget;
import dev.matrixpolicy.gateway.replies.JsonTreeCost;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;

/**
 * The share of the heap that the replies of every module backend being read at once may hold
 * ({@link Backend#REPLY_MEMORY}), against a real local server: past it a call fails as any backend
 * failure does, answered by the module's failure handling; the share comes back however a call ends.
 */
class BackendReplyMemoryTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("failed after");

    private static final Duration GENEROUS = Duration.ofSeconds(10);
    /**
     * The heap of the image's default container as its JVM reports it ({@code Runtime.maxMemory()}):
     * 60 % of 512 MiB ({@code -XX:MaxRAMPercentage=60}), less the survivor space the serial collector
     * keeps empty ({@code -Xmn64m}): 301.6 MiB.
     */
    private static final long IMAGE_HEAP = 308_864L * 1024;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<Backend> opened = new ArrayList<>();
    private final List<ServerSocket> servers = new ArrayList<>();
    private final Logger backendLogger = (Logger) LoggerFactory.getLogger(Backend.class);

    @AfterEach
    void close() throws IOException {
        opened.forEach(Backend::close);
        for (ServerSocket server : servers) {
            server.close();
        }
        backendLogger.detachAndStopAllAppenders();
    }

    @Test
    void repliesPastTheShareOfTheHeapFailWithTheModulesFailureAnswerAndTheShareComesBackForTheNextCall() throws Exception {
        byte[] reply = events(100_000);
        HeapBudget memory = new HeapBudget(cost(reply) * 5 / 2); // two such replies at once, not three
        Backend backend = backend(memory);
        URI uri = server(reply);
        CountDownLatch parsed = new CountDownLatch(2);
        CountDownLatch done = new CountDownLatch(1);
        ListAppender<ILoggingEvent> logs = watchLogs();
        ConcurrentLinkedQueue<String> answers = new ConcurrentLinkedQueue<>();
        Backend.ReplyReader<String> holding = r -> {
            JsonNode tree = r.json();
            parsed.countDown();
            await(done);
            return "read " + tree.size();
        };

        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            callers.add(Thread.ofVirtual().start(() -> answers.add(backend.ask(BackendRequest.get("test_callback", uri, GENEROUS),
                    holding, () -> FailureAnswer.of(FailureMode.FAIL_CLOSED, "denied", "denied")))));
        }
        assertThat(parsed.await(10, TimeUnit.SECONDS)).as("two replies read and held").isTrue();
        waitFor(() -> answers.size() == 3);
        done.countDown();
        for (Thread caller : callers) {
            caller.join(10_000);
        }

        assertThat(answers).filteredOn("denied"::equals).hasSize(3);
        assertThat(answers).filteredOn(answer -> answer.startsWith("read ")).hasSize(2);
        assertThat(memory.held()).isZero();
        assertThat(logs.list).filteredOn(event -> event.getLevel() == Level.WARN).first().satisfies(warning -> assertThat(
                warning.getFormattedMessage()).startsWith("Module test: test_callback failed after 1 attempt (not read: the replies being read at once"
                + " hold their share of the heap, "));
        int later = backend.call(BackendRequest.get("test_callback", uri, GENEROUS), r -> r.json().size());
        assertThat(later).isPositive();
        assertThat(memory.held()).isZero();
    }

    @Test
    void aReplyRefusedForTheHeapIsBusyNeitherRetriedNorCountedAgainstTheBackend() throws Exception {
        byte[] reply = events(10_000);
        HeapBudget memory = new HeapBudget(cost(reply) / 2);
        Backend backend = backend(Backend.builder(context(), GENEROUS).replyMemory(memory)
                .retryPolicy(new RetryPolicy(3, new Backoff(Duration.ofMillis(10), Duration.ofMillis(20)))));

        BackendFailure failure = catchThrowableOfType(BackendFailure.class,
                () -> backend.call(BackendRequest.get("test_callback", server(reply), GENEROUS), BackendReply::json));

        assertThat(failure.kind()).isEqualTo(Kind.BUSY);
        assertThat(failure.attempts()).isEqualTo(1);
        assertThat(failure.retryable()).isFalse();
        assertThat(BackendFailures.countsAgainstTheBackend(failure)).isFalse();
        assertThat(memory.held()).isZero();
    }

    @Test
    void aBodyCountsAsItComesSoThatOneLongerThanTheShareIsRefusedBeforeItHasAllCome() throws Exception {
        HeapBudget memory = new HeapBudget(64 * 1024);
        Backend backend = backend(Backend.builder(context(), GENEROUS).replyMemory(memory).maxReplySize(DataSize.ofMegabytes(8)));
        URI chunked = rawServer(socket -> {
            OutputStream out = socket.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 100; i++) {
                out.write(("4000\r\n" + " ".repeat(0x4000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        });

        BackendFailure failure = catchThrowableOfType(BackendFailure.class,
                () -> backend.call(BackendRequest.get("test_callback", chunked, GENEROUS), BackendReply::body));

        assertThat(failure.kind()).isEqualTo(Kind.BUSY);
        assertThat(memory.held()).isZero();
    }

    @Test
    void theShareIsGivenBackHoweverTheCallFails() throws Exception {
        HeapBudget memory = new HeapBudget(64L * 1024 * 1024);
        Backend backend = backend(Backend.builder(context(), GENEROUS).replyMemory(memory).maxReplySize(DataSize.ofKilobytes(64)));
        String chunkedHead = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
        URI notJson = server("{\"a\": [1, 2".getBytes(StandardCharsets.US_ASCII));
        URI tooLarge = rawServer(socket -> {
            OutputStream out = socket.getOutputStream();
            out.write(chunkedHead.getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < 8; i++) {
                out.write(("2800\r\n" + " ".repeat(0x2800) + "\r\n").getBytes(StandardCharsets.US_ASCII)); // 10 KiB each
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        });
        URI stalling = rawServer(socket -> {
            OutputStream out = socket.getOutputStream();
            out.write(chunkedHead.getBytes(StandardCharsets.US_ASCII));
            out.write(("2000\r\n[" + " ".repeat(0x1fff) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            while (socket.getInputStream().read() >= 0) {
                // holds the rest until the client hangs up
            }
        });

        assertThat(kindOf(() -> backend.call(BackendRequest.get("test_callback", notJson, GENEROUS), BackendReply::json)))
                .isEqualTo(Kind.UNUSABLE);
        assertThat(memory.held()).isZero();
        assertThat(kindOf(() -> backend.call(BackendRequest.get("test_callback", tooLarge, GENEROUS), BackendReply::json)))
                .isEqualTo(Kind.TOO_LARGE);
        assertThat(memory.held()).isZero();
        assertThat(kindOf(() -> backend.call(BackendRequest.get("test_callback", stalling, Duration.ofMillis(500)), BackendReply::json)))
                .isEqualTo(Kind.TIMEOUT);
        assertThat(memory.held()).isZero();
        URI small = server(events(1_000));
        assertThat(kindOf(() -> backend.call(BackendRequest.get("test_callback", small, GENEROUS), reply -> {
            reply.json();
            throw BackendFailure.unusable("not what the contract says");
        }))).isEqualTo(Kind.UNUSABLE);
        assertThat(memory.held()).isZero();

        AtomicReference<Kind> interrupted = new AtomicReference<>();
        Thread caller = Thread.ofVirtual().start(() -> interrupted.set(
                kindOf(() -> backend.call(BackendRequest.get("test_callback", stalling, GENEROUS), BackendReply::json))));
        waitFor(() -> memory.held() > 0 || !caller.isAlive());
        caller.interrupt();
        caller.join(10_000);
        assertThat(interrupted.get()).isEqualTo(Kind.INTERRUPTED);
        assertThat(memory.held()).isZero();
    }

    @Test
    void twoHundredConcurrentRepliesOf64KiBAllHeldAtOnceFitTheDefaultShareOfTheImagesHeap() throws Exception {
        // the default share, as REPLY_MEMORY takes it of the image's heap; replies of small fields, the densest realistic shape
        HeapBudget memory = new HeapBudget(IMAGE_HEAP / 3);
        byte[] reply = events(64 * 1024);
        Backend backend = backend(memory);
        URI uri = server(reply);
        int calls = 200;
        CountDownLatch parsed = new CountDownLatch(calls);
        CountDownLatch done = new CountDownLatch(1);
        List<CompletableFuture<Object>> outcomes = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            outcomes.add(outcome);
            Thread.ofVirtual().start(() -> {
                try {
                    outcome.complete(backend.call(BackendRequest.get("test_callback", uri, Duration.ofSeconds(60)), r -> {
                        JsonNode tree = r.json();
                        parsed.countDown();
                        await(done);
                        return tree.size();
                    }));
                } catch (BackendFailure failure) {
                    parsed.countDown();
                    outcome.complete(failure.getMessage());
                }
            });
        }
        boolean allHeldAtOnce = parsed.await(60, TimeUnit.SECONDS);
        long heldAtOnce = memory.held();
        done.countDown();

        assertThat(allHeldAtOnce).isTrue();
        for (CompletableFuture<Object> outcome : outcomes) {
            assertThat(outcome.get(60, TimeUnit.SECONDS)).isInstanceOf(Integer.class);
        }
        assertThat(heldAtOnce).as("what 200 such replies hold at once, of %d", memory.bytes()).isLessThan(memory.bytes());
        assertThat(memory.held()).isZero();
    }

    // ---- helpers

    /** A list of small events, as a backend might answer with a batch of them: {@code size} bytes of JSON, about. */
    private static byte[] events(int size) {
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; json.length() < size - 300; i++) {
            json.append(i == 0 ? "" : ",").append("{\"type\":\"m.room.message\",\"sender\":\"@user").append(i)
                    .append(":example.com\",\"room_id\":\"!abcdefghijklmnop:example.com\",\"event_id\":\"$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
                    .append(i).append("\",\"origin_server_ts\":1700000000000,\"content\":{\"msgtype\":\"m.text\",\"body\":\"hello world, message ")
                    .append(i).append("\"}}");
        }
        return json.append("]").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** What one reply holds once its tree is made: its body, and its tree. */
    private static long cost(byte[] reply) {
        return reply.length + JsonTreeCost.of(reply).tree();
    }

    private static Kind kindOf(Runnable call) {
        return catchThrowableOfType(BackendFailure.class, call::run).kind();
    }

    private ModuleContext context() {
        return new ModuleContext("test", "example.com", registry);
    }

    private Backend backend(HeapBudget memory) {
        return backend(Backend.builder(context(), GENEROUS).replyMemory(memory));
    }

    private Backend backend(Backend.Builder builder) {
        Backend backend = builder.build();
        opened.add(backend);
        return backend;
    }

    /** A server that answers every request with {@code body}, of its declared length. */
    private URI server(byte[] body) throws IOException {
        return rawServer(socket -> {
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        });
    }

    private URI rawServer(Exchange exchange) throws IOException {
        ServerSocket listener = new ServerSocket(0, 500, InetAddress.getLoopbackAddress());
        servers.add(listener);
        answerEach(listener, socket -> {
            requestHead(socket);
            exchange.answer(socket);
            socket.getOutputStream().flush();
            socket.shutdownOutput();
            while (socket.getInputStream().read() >= 0) {
                // until the client hangs up
            }
        });
        return URI.create("http://127.0.0.1:" + listener.getLocalPort() + "/reply");
    }

    private interface Exchange {
        void answer(java.net.Socket socket) throws IOException, InterruptedException;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited for the condition").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private ListAppender<ILoggingEvent> watchLogs() {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        backendLogger.addAppender(logs);
        return logs;
    }
}
