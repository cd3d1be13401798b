package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.replies.HeapBudget;
import dev.matrixpolicy.gateway.replies.JsonTreeCost;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatusCode;
import org.springframework.mock.http.client.MockClientHttpResponse;
import org.springframework.util.unit.DataSize;

/** How one attempt's reply ends: its body is always closed, since Spring is not asked to close it. */
class BackendReplyTest {
    private final WatchedBody body = new WatchedBody("{\"errcode\": \"M_UNKNOWN\"}");

    @Test
    void aResponseNoReplyCanBeMadeOfStillHasItsBodyClosed() {
        // a status Spring refuses: HttpStatusCode takes 100 to 999 only
        MockClientHttpResponse unreadable = new MockClientHttpResponse(body, 200) {
            @Override
            public HttpStatusCode getStatusCode() {
                throw new IllegalArgumentException("Status code '1000' should be a three-digit positive integer");
            }
        };

        assertThatThrownBy(() -> BackendReply.readThenRelease(unreadable, DataSize.ofKilobytes(1), HeapBudget.NONE, BackendReply::status))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(body.closed).as("body closed").isTrue();
    }

    @Test
    void aBodyTheReaderDoesNotAskForIsReadToItsEndThenClosed() throws IOException {
        int status = BackendReply.readThenRelease(new MockClientHttpResponse(body, 503), DataSize.ofKilobytes(1), HeapBudget.NONE, BackendReply::status);

        assertThat(status).isEqualTo(503);
        assertThat(body.available()).as("bytes left unread").isZero();
        assertThat(body.closed).as("body closed").isTrue();
    }

    @Test
    void aReaderThatFailsStillHasTheBodyClosed() {
        assertThatThrownBy(() -> BackendReply.readThenRelease(new MockClientHttpResponse(body, 200), DataSize.ofKilobytes(1), HeapBudget.NONE,
                reply -> {
                    throw BackendFailure.unusable("not what was asked");
                })).isInstanceOf(BackendFailure.class);
        assertThat(body.closed).as("body closed").isTrue();
    }

    @Test
    void theNamesOfAReplyAreNotKeptPastTheNextMebibyteOfReplies() throws IOException {
        // a mapper's table of names would otherwise outlive the call: a backend's distinct names of 60 KB each would stay in the heap
        String name = "n".repeat(1000);
        String first = nameOfReply("{\"" + name + "\": 1}");
        String filler = "{\"filler\": \"" + "x".repeat(16_384) + "\"}";
        for (int i = 0; i < 65; i++) {
            nameOfReply(filler);
        }

        assertThat(nameOfReply("{\"" + name + "\": 1}")).isEqualTo(first).isNotSameAs(first);
    }

    private static String nameOfReply(String body) throws IOException {
        return BackendReply.readThenRelease(new MockClientHttpResponse(new WatchedBody(body), 200), DataSize.ofKilobytes(32),
                HeapBudget.NONE, r -> r.json().propertyNames().iterator().next());
    }

    @Test
    void readingAReplyOfDistinctNamesAllocatesNoMoreThanItsTreeIsCounted() throws IOException {
        // a table of names, even one per reply, holds each name again while the reply is read, and grows its
        // store of long names a block at a time: 57 MB allocated for this 1 MiB against the 2.4 MB counted
        StringBuilder json = new StringBuilder("{");
        for (int i = 0; json.length() < 1 << 20; i++) {
            json.append(i == 0 ? "" : ",").append('"').append("n".repeat(100)).append(i).append("\":1");
        }
        byte[] reply = json.append('}').toString().getBytes(StandardCharsets.UTF_8);
        JsonTreeCost cost = JsonTreeCost.of(reply);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 3; attempt++) { // the least of three: the first loads classes
            allocated = Math.min(allocated, BackendReply.readThenRelease(new MockClientHttpResponse(reply, 200), DataSize.ofMegabytes(2),
                    HeapBudget.NONE, r -> {
                        r.body();
                        long read = threads.getCurrentThreadAllocatedBytes();
                        r.json();
                        return threads.getCurrentThreadAllocatedBytes() - read;
                    }));
        }

        assertThat(allocated).isLessThanOrEqualTo(cost.tree() + cost.decoding());
    }

    @Test
    void aReplyInUtf16IsUnusableNotParsedPastWhatItsCostCounted() {
        // read as UTF-8, a character whose low byte is a quote (U+0122) hides the structure after it from
        // the estimate: 6 MB of [{},{},...] counted as a 6 MB tree, which took 93 MB
        byte[] reply = ("[\"\u0122\"" + ",{}".repeat(1000) + "]").getBytes(StandardCharsets.UTF_16BE);

        assertThatThrownBy(() -> BackendReply.readThenRelease(new MockClientHttpResponse(reply, 200), DataSize.ofKilobytes(64),
                HeapBudget.NONE, BackendReply::json))
                .isInstanceOf(BackendFailure.class).hasMessageContaining("UTF-16");
    }

    /** A body that notes whether it was closed. */
    private static final class WatchedBody extends ByteArrayInputStream {
        private volatile boolean closed;

        WatchedBody(String text) {
            super(text.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
