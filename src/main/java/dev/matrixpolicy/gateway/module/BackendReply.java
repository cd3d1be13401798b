package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.matrix.BoundedNames;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.matrix.StrictUtf8;
import dev.matrixpolicy.gateway.replies.HeapBudget;
import dev.matrixpolicy.gateway.replies.JsonTreeCost;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import dev.matrixpolicy.gateway.replies.ReplyTooLargeException;
import dev.matrixpolicy.gateway.replies.RetryAfter;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.springframework.http.HttpHeaders;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.util.unit.DataSize;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamFactory;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

/**
 * The backend's reply to one attempt, as a module's {@link Backend.ReplyReader} sees it: the status,
 * and the body, read into memory by the gateway's one {@link ReplyCap} rule, up to the module's
 * {@code max-reply-size} (a longer one is a {@link BackendFailure.Kind#TOO_LARGE} failure, found
 * from {@code Content-Length} before reading when the backend declares it). A body the reader never
 * asks for is not kept in memory: it is read past, up to the same limit and for a moment at most, only
 * so that its connection can serve the next call. The body, as it comes, and its tree, before it is
 * built ({@link JsonTreeCost}), take their share of {@link Backend#REPLY_MEMORY}, held until the
 * module's reader has made its answer; a reply with no room there is a
 * {@link BackendFailure.Kind#BUSY} failure.
 */
public final class BackendReply {
    /**
     * Strict: trailing content after the JSON value makes the reply unusable, not half-read. Events as
     * deep as Synapse takes them: a service that answers with the event it was sent must not fail.
     * Names are kept in no table, not the mapper's (a backend's distinct names of 60 KB would stay there:
     * 343 MB for 3,000 replies) nor one per reply, which {@link JsonTreeCost} does not count: it holds
     * each name again while the reply is read, and grows its store of long names a block at a time
     * (1 MiB of distinct names of 100 bytes allocated 57 MB and took 35 ms, against 1.9 MB and 12 ms;
     * 8 MiB of names of 4 KB, 523 against 16 ms). Jackson reads the bytes as characters then: 2.4 against
     * 1.8 to 2.3 µs for an event of 2 KB, nothing a call over the network notices.
     */
    private static final JsonMapper JSON = JsonMapper.builder(BoundedNames.of(((JsonFactory) EventJson.mapper().build().tokenStreamFactory())
                    .rebuild().disable(TokenStreamFactory.Feature.CANONICALIZE_PROPERTY_NAMES)))
            .addModule(EventJson.module()).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    private static final int DRAIN_BUFFER = 8192;
    /** How long the rest of a body nobody asked for is waited for, to keep its connection: a LAN reads a megabyte in far less. */
    private static final Duration DRAIN_WAIT = Duration.ofMillis(250);

    private final ClientHttpResponse response;
    private final int status;
    private final ReplyCap cap;
    /** What the body and its tree hold of the module backends' {@link Backend#REPLY_MEMORY}, until {@link #release}. */
    private final HeapBudget.Share memory;
    private byte[] body;
    private boolean bodyAsked;

    /**
     * Made by {@link Backend} for each attempt; public for tests of a module's reply reader.
     *
     * @param maxReplySize the module's {@code max-reply-size}, at most {@link Backend#MAX_MAX_REPLY_SIZE}
     */
    public BackendReply(ClientHttpResponse response, DataSize maxReplySize) throws IOException {
        this(response, maxReplySize, HeapBudget.NONE.share());
    }

    private BackendReply(ClientHttpResponse response, DataSize maxReplySize, HeapBudget.Share memory) throws IOException {
        this.response = response;
        this.status = response.getStatusCode().value();
        this.cap = new ReplyCap("max-reply-size", maxReplySize.toBytes());
        this.memory = memory;
    }

    public int status() {
        return status;
    }

    /** Whether the status is 2xx. Redirects are never followed: a 3xx is the answer. */
    public boolean isSuccessful() {
        return status >= 200 && status < 300;
    }

    /**
     * How long a 429 or 503 asks to wait before the next request: its {@code Retry-After}, in
     * seconds or as an HTTP date (rounded up to whole seconds, none when it is past). Empty for
     * another status, or when the header is missing or malformed.
     */
    Optional<Duration> retryAfter() {
        return status == 429 || status == 503
                ? RetryAfter.of(response.getHeaders().getFirst(HttpHeaders.RETRY_AFTER), Instant.now()) : Optional.empty();
    }

    /**
     * The whole body, read once.
     *
     * @throws BackendFailure when it is longer than the module's {@code max-reply-size}
     */
    public byte[] body() throws IOException {
        if (body == null) {
            bodyAsked = true;
            try {
                body = cap.read(response.getBody(), response.getHeaders().getContentLength(), memory, this::overBudget);
            } catch (ReplyTooLargeException tooLarge) {
                throw BackendFailure.of(BackendFailure.Kind.TOO_LARGE, tooLarge.getMessage());
            }
        }
        return body;
    }

    /**
     * The body as JSON, read strictly; a {@link MissingNode} for an empty body.
     *
     * @throws BackendFailure when it is too long, or not JSON in UTF-8
     */
    public JsonNode json() throws IOException {
        byte[] bytes = body();
        if (bytes.length == 0) {
            return MissingNode.getInstance();
        }
        if (StrictUtf8.isUtf16Or32(bytes)) {
            // Jackson would read it as what its marks say, its structure where JsonTreeCost's pass over UTF-8 does not look
            throw BackendFailure.unusable("not JSON (in UTF-16 or UTF-32; a reply must be UTF-8)");
        }
        JsonTreeCost cost = JsonTreeCost.of(bytes);
        if (!memory.take(cost.tree() + cost.decoding())) {
            throw overBudget();
        }
        try {
            return JSON.readTree(bytes);
        } catch (JacksonException notJson) {
            throw BackendFailure.unusable("not JSON (" + notJson.getOriginalMessage() + ")");
        } finally {
            memory.giveBack(cost.decoding()); // the parser's buffers are garbage; the tree is held until the release
        }
    }

    private BackendFailure overBudget() {
        return BackendFailure.of(BackendFailure.Kind.BUSY, "not read: the replies being read at once hold their share of the heap, "
                + memory.budget().size());
    }

    /**
     * Reads one attempt's reply with {@code reader}, then {@linkplain #release releases} it, however the
     * reading ends. A response no reply can be made of (a status Spring refuses) has its body closed
     * all the same: Spring does not close it (see {@link Backend}), and an open body holds its
     * connection until the request's timeout.
     */
    static <T> T readThenRelease(ClientHttpResponse response, DataSize maxReplySize, HeapBudget memory, Backend.ReplyReader<T> reader)
            throws IOException {
        BackendReply reply;
        try {
            reply = new BackendReply(response, maxReplySize, memory.share());
        } catch (Throwable unmade) {
            try {
                closeQuietly(response.getBody());
            } catch (IOException noBody) {
                unmade.addSuppressed(noBody);
            }
            throw unmade;
        }
        try {
            return reader.read(reply);
        } finally {
            reply.release();
        }
    }

    /**
     * Ends the reply. What is left of a body nobody asked for is read, up to the limit and for at most
     * {@link #DRAIN_WAIT}, so that the connection can serve the next call; then the body is closed,
     * which drops the connection of a body not read to its end: one longer than the limit, one still
     * coming, one broken, or one cut off at the limit. The answer is known by then: a backend that
     * holds the rest of a body nobody reads must not keep the call until its timeout. Never Spring's
     * {@code close()} of the response, which reads the rest, however long, for as long as the backend
     * keeps sending (up to the request's timeout): a reply over the limit would keep its call waiting,
     * downloading what it will never read.
     */
    private void release() {
        memory.giveBack(); // the reader has made its answer: the body and its tree are garbage now
        try (InputStream rest = response.getBody()) {
            if (!bodyAsked) {
                // closed from the timer's thread if the wait is over first, as Spring's read timeout closes a
                // body; a drain that ends first cancels the timer (its close never runs), and this closes it
                CompletableFuture<Void> waited = new CompletableFuture<>();
                waited.completeOnTimeout(null, DRAIN_WAIT.toMillis(), TimeUnit.MILLISECONDS).thenRun(() -> closeQuietly(rest));
                try {
                    drain(rest);
                } finally {
                    waited.cancel(false);
                }
            }
        } catch (IOException broken) {
            // the answer is already read, or the call has failed; only the connection is lost
        }
    }

    private static void closeQuietly(InputStream body) {
        try {
            body.close();
        } catch (IOException broken) {
            // the connection is dropped either way
        }
    }

    private void drain(InputStream rest) throws IOException {
        byte[] buffer = new byte[DRAIN_BUFFER];
        for (long left = cap.maxBytes(); left > 0; ) {
            int read = rest.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (read < 0) {
                return;
            }
            left -= read;
        }
    }
}
