package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.chain.DryRun;
import dev.matrixpolicy.gateway.module.BackendFailure.Kind;
import dev.matrixpolicy.gateway.module.BackendTimer.Outcome;
import dev.matrixpolicy.gateway.replies.FailureCauses;
import dev.matrixpolicy.gateway.replies.HeapBudget;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.util.unit.DataSize;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;

/**
 * The one way a module calls its HTTP backend, so that every module times out, caps the reply,
 * retries, classifies failures, times its calls and logs them alike. One per module instance, made
 * when the module is made and closed with it.
 *
 * <ul>
 *   <li><b>Timeouts:</b> the instance's connect timeout, and each request's read timeout.</li>
 *   <li><b>Reply cap:</b> a reply body is read into memory up to {@code max-reply-size}
 *       (1 MiB unless the module's configuration says otherwise, at most 8 MiB); a longer one is a failure, never retried.</li>
 *   <li><b>Reply memory:</b> the bodies and trees of all the replies being read at once share
 *       {@link #REPLY_MEMORY}; a reply past it is a {@link BackendFailure.Kind#BUSY} failure, never retried.</li>
 *   <li><b>Retries:</b> by the instance's {@link RetryPolicy}, with Resilience4j's retry, for
 *       requests that are {@linkplain BackendRequest#retried() retried} and failures that are
 *       {@linkplain BackendFailure#retryable() retryable}, pausing by the policy's {@link Backoff}, and
 *       at least the {@code Retry-After} of a 429 or 503 when that fits the longest pause.</li>
 *   <li><b>Circuit breaker</b> (optional): every attempt goes through it; while it is open, no request
 *       is made. Only failures that say the backend is unavailable count against it.</li>
 *   <li><b>Explanations</b> ({@link DryRun}): the backend is asked for real, since the module's
 *       answer is the backend's, but nothing is recorded: no timer sample, nothing counted by the
 *       breaker; an open breaker still answers without a request. The request carries
 *       {@value #DRY_RUN_HEADER}{@code : true}, so that a backend that counts what it is asked (failed
 *       logins, a rate limit of its own) can answer without counting: an admin explaining a login
 *       must not lock the account.</li>
 *   <li><b>Classification:</b> every way a call can fail ends as one {@link BackendFailure}, a
 *       runtime exception of the HTTP client included (described by its types alone); only a bug of
 *       the module's {@link ReplyReader} goes up as it is.</li>
 *   <li><b>Timing:</b> every attempt is one sample of {@value BackendTimer#NAME}.</li>
 *   <li><b>Log line:</b> {@link #ask} logs a failed call as one WARN line,
 *       {@code Module <name>: <callback> failed after <n> attempt(s) (<cause>); <consequence>}, with the
 *       {@code module}, {@code callback} and {@code failure} keys; never the URL, the request or a token.
 *       One such line a {@value RepeatedWarnings#INTERVAL_SECONDS} s for each callback and failure, the
 *       rest at DEBUG ({@link RepeatedWarnings}).</li>
 * </ul>
 */
public final class Backend implements AutoCloseable {
    /** The reply cap of every module, 1 MiB, unless its {@code max-reply-size} says otherwise. */
    public static final DataSize DEFAULT_MAX_REPLY_SIZE = DataSize.ofMegabytes(1);
    /** The highest {@code max-reply-size}, 8 MiB: the Synapse module reads no more of the gateway's own answer. */
    public static final DataSize MAX_MAX_REPLY_SIZE = DataSize.ofMegabytes(8);
    /**
     * What the replies of every module backend being read at once may hold of the heap, bodies and
     * the trees parsed from them, all together: a third of its maximum size (100 MiB in the image's
     * default 512 MiB container, whose old generation of 244 MiB also holds the gateway's own 55 MB
     * and the listeners' bodies; half would leave too little for the rest). Past it, a call fails as
     * {@link BackendFailure.Kind#BUSY}, answered by its module's failure handling as any other
     * failure, rather than run the heap out for every callback. A body counts as it comes, its tree
     * by {@link dev.matrixpolicy.gateway.replies.JsonTreeCost}'s estimate before it is built; both
     * until the module's {@link ReplyReader} has made its answer (the answer is made from the tree at
     * once, without waiting on anything: holding them that long costs no concurrency, and counts the
     * tree for as long as the call can reach it). See {@code docs/modules/backend-calls.md}.
     */
    public static final HeapBudget REPLY_MEMORY = HeapBudget.ofHeap(3);
    /** The header that marks a request made for an explanation ({@link DryRun}). */
    public static final String DRY_RUN_HEADER = "X-Policy-Gateway-Dry-Run";

    private static final Logger log = LoggerFactory.getLogger(Backend.class);

    /**
     * Reads the backend's reply to one attempt into the module's answer. Throws
     * {@link BackendFailure#status} or {@link BackendFailure#unusable} for a reply it cannot use;
     * anything else it throws is a bug of the module, and goes up as it is.
     */
    @FunctionalInterface
    public interface ReplyReader<T> {
        T read(BackendReply reply) throws IOException;
    }

    private final String module;
    private final BackendClient http;
    private final DataSize maxReplySize;
    private final HeapBudget replyMemory;
    private final RetryPolicy retryPolicy;
    private final Optional<Retry> retry;
    private final Optional<CircuitBreaker> circuitBreaker;
    private final Optional<String> bearerToken;
    private final BackendTimer timer;
    private final Map<Duration, RestClient> clients = new ConcurrentHashMap<>();
    private final RepeatedWarnings warnings = new RepeatedWarnings();

    private Backend(Builder builder) {
        this.module = builder.context.instanceName();
        this.http = new BackendClient(builder.version, builder.connectTimeout);
        this.maxReplySize = builder.maxReplySize;
        this.replyMemory = builder.replyMemory;
        this.retryPolicy = builder.retryPolicy;
        this.retry = retryPolicy.maxAttempts() == 1 ? Optional.empty() : Optional.of(retry(module, retryPolicy));
        this.circuitBreaker = builder.circuitBreaker;
        this.bearerToken = builder.bearerToken;
        this.timer = new BackendTimer(module, builder.context.meterRegistry());
    }

    /**
     * @param connectTimeout how long each attempt may take to connect
     */
    public static Builder builder(ModuleContext context, Duration connectTimeout) {
        return new Builder(context, connectTimeout);
    }

    /** The retry policy every retried request follows; a module derives its worst case from it. */
    public RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    /**
     * Sends the request, retrying by the policy, and reads the reply.
     *
     * @throws BackendFailure when there is no usable answer, after the attempts the policy allows; the
     *                        caller answers it by its own failure handling and logs it
     */
    public <T> T call(BackendRequest request, ReplyReader<T> reader) {
        // An explanation asks the backend for real, but leaves the breaker as it stands: it answers by
        // it when the call it explains would not be let through, and adds nothing to it.
        boolean explaining = DryRun.active();
        if (explaining && circuitBreaker.filter(breaker -> !wouldLetThrough(breaker)).isPresent()) {
            throw BackendFailure.of(Kind.CIRCUIT_OPEN, "circuit breaker open");
        }
        AtomicInteger attempts = new AtomicInteger();
        AtomicReference<BackendFailure> last = new AtomicReference<>();
        Supplier<T> attempt = () -> {
            try {
                return attempt(request, reader, attempts.incrementAndGet());
            } catch (BackendFailure failure) {
                last.set(failure);
                throw failure;
            }
        };
        Supplier<T> guarded = circuitBreaker.filter(breaker -> !explaining)
                .map(breaker -> CircuitBreaker.decorateSupplier(breaker, releasingOnError(breaker, attempt))).orElse(attempt);
        Supplier<T> retried = request.retried() ? retry.map(policy -> Retry.decorateSupplier(policy, guarded)).orElse(guarded) : guarded;
        try {
            return retried.get();
        } catch (CallNotPermittedException open) {
            // Opened by the attempts before this one: those are what failed.
            throw Optional.ofNullable(last.get()).orElseGet(() -> BackendFailure.of(Kind.CIRCUIT_OPEN, "circuit breaker open"));
        } catch (BackendFailure failure) {
            if (Thread.currentThread().isInterrupted() && failure.kind() != Kind.INTERRUPTED) {
                // interrupted while pausing before a retry
                throw BackendFailure.of(Kind.INTERRUPTED, "interrupted: the caller stopped waiting").after(failure.attempts());
            }
            throw failure;
        }
    }

    /**
     * Sends the request like {@link #call}; when that fails, logs the one WARN line and answers
     * {@code onFailure}. No WARN when the caller was interrupted (the chain logs its own deadline), and
     * DEBUG only for a call the open circuit breaker answered without a request, or a failure of a kind
     * already warned of in the last {@value RepeatedWarnings#INTERVAL_SECONDS} s, so an outage does not
     * flood the log. An explanation's failure ({@link DryRun}) is DEBUG too, and no warning of its kind:
     * the explanation shows it, a WARN would read as the homeserver's call failing, and it would
     * silence the WARN of the homeserver's next failure for the interval.
     */
    public <T> T ask(BackendRequest request, ReplyReader<T> reader, Supplier<FailureAnswer<T>> onFailure) {
        try {
            return call(request, reader);
        } catch (BackendFailure failure) {
            FailureAnswer<T> answer = onFailure.get();
            if (failure.kind() == Kind.CIRCUIT_OPEN) {
                log.debug("Module {}: circuit breaker open, {} not sent; {}", module, request.callback(), answer.consequence());
            } else if (DryRun.active()) {
                log.debug("Module {}: {} failed for an explanation ({}); {}", module, request.callback(), failure.getMessage(),
                        answer.consequence());
            } else if (failure.kind() != Kind.INTERRUPTED) {
                RepeatedWarnings.Line line = warnings.line(log, List.of(request.callback(), failure.outcome().tag()));
                line.event().addKeyValue("module", module).addKeyValue("callback", request.callback())
                        .addKeyValue("failure", failure.outcome().tag())
                        .log(line.withOmitted("Module {}: {} failed after {} ({}); {}"), module, request.callback(),
                                failure.attempts() == 1 ? "1 attempt" : failure.attempts() + " attempts", failure.getMessage(),
                                answer.consequence());
            }
            return answer.answer();
        }
    }

    private <T> T attempt(BackendRequest request, ReplyReader<T> reader, int attempt) {
        long start = System.nanoTime();
        try {
            RestClient.RequestBodySpec spec = client(request.timeout()).method(request.method()).uri(request.uri())
                    .accept(MediaType.APPLICATION_JSON);
            if (DryRun.active()) {
                spec.header(DRY_RUN_HEADER, "true");
            }
            request.body().ifPresent(body -> spec.contentType(MediaType.APPLICATION_JSON).body(body));
            // Not closed by Spring (false), whose close reads the rest of any body: the reply ends itself.
            T answer = spec.exchange((sent, response) -> BackendReply.readThenRelease(response, maxReplySize,
                    replyMemory, reply -> read(reader, reply)), false);
            time(Outcome.SUCCESS, start);
            return answer;
        } catch (BackendFailure failure) {
            return fail(failure, attempt, start);
        } catch (ReaderBug escaped) {
            throw escaped.bug;
        } catch (RestClientException failure) {
            return fail(classify(failure, System.nanoTime() - start, request.timeout()), attempt, start);
        } catch (RuntimeException failure) {
            // The JDK client's own failure on a reply it cannot parse (a NumberFormatException for
            // "Content-Length: abc"). Its message may quote a header, the token's included: types only.
            return fail(BackendFailure.of(Kind.UNREACHABLE, "the HTTP client failed: " + FailureCauses.types(failure)), attempt, start);
        }
    }

    /**
     * The module's reader on the reply. A status failure it throws learns the reply's
     * {@code Retry-After}; a bug is carried past the client's failures, to go up as it is.
     */
    private static <T> T read(ReplyReader<T> reader, BackendReply reply) throws IOException {
        try {
            return reader.read(reply);
        } catch (BackendFailure failure) {
            throw failure.retryAfter(reply.retryAfter());
        } catch (RuntimeException bug) {
            throw new ReaderBug(bug);
        }
    }

    /** A bug of the module's reader, on its way out of the client's call. */
    private static final class ReaderBug extends RuntimeException {
        private final RuntimeException bug;

        private ReaderBug(RuntimeException bug) {
            super(null, null, false, false);
            this.bug = bug;
        }
    }

    private <T> T fail(BackendFailure failure, int attempt, long start) {
        time(failure.outcome(), start);
        throw failure.after(attempt);
    }

    /** One sample per attempt, but none for an explanation ({@link DryRun}): an explain records nothing. */
    private void time(Outcome outcome, long start) {
        if (!DryRun.active()) {
            timer.record(outcome, System.nanoTime() - start);
        }
    }

    /**
     * The attempt, giving its permission back to the breaker when it ends in an {@link Error} (an
     * out-of-memory reading a reply, a bug): Resilience4j records no Error, and a trial call of a
     * half-open breaker would keep its permission for good, leaving the breaker half-open, refusing
     * every call, until a restart.
     */
    private static <T> Supplier<T> releasingOnError(CircuitBreaker breaker, Supplier<T> attempt) {
        return () -> {
            try {
                return attempt.get();
            } catch (Error error) {
                breaker.releasePermission();
                throw error;
            }
        };
    }

    /**
     * Whether the breaker would let a call through now, its permission given back at once. An open
     * breaker whose wait is over lets the next call through as a trial, which its state does not show
     * until a call asks (it turns half-open then, as it would for that call); a half-open one whose
     * trials are all out lets none through.
     */
    private static boolean wouldLetThrough(CircuitBreaker breaker) {
        if (!breaker.tryAcquirePermission()) {
            return false;
        }
        breaker.releasePermission();
        return true;
    }

    /**
     * What a failure of the client means; its own message names the URL, so it is never used. A read
     * that fails once the request's timeout is over is a timeout, whatever the client throws: past
     * the deadline, Spring's client closes the body of a reply that trickles in, and the read fails
     * with the JDK's {@code IOException: closed}.
     */
    private static BackendFailure classify(RestClientException failure, long nanos, Duration timeout) {
        if (Thread.currentThread().isInterrupted() || BackendFailures.isInterrupted(failure)) {
            return BackendFailure.of(Kind.INTERRUPTED, "interrupted: the caller stopped waiting");
        }
        if (BackendFailures.isTimeout(failure) || nanos >= timeout.toNanos()) {
            return BackendFailure.of(Kind.TIMEOUT, "no answer after " + TimeUnit.NANOSECONDS.toMillis(nanos) + " ms");
        }
        if (BackendFailures.isCertificateRefused(failure)) {
            return BackendFailure.of(Kind.CERTIFICATE, "certificate refused: " + FailureCauses.of(failure));
        }
        return BackendFailure.of(Kind.UNREACHABLE, FailureCauses.of(failure));
    }

    private RestClient client(Duration readTimeout) {
        return clients.computeIfAbsent(readTimeout, timeout -> {
            RestClient client = http.restClient(timeout);
            return bearerToken.map(token -> client.mutate().defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token).build())
                    .orElse(client);
        });
    }

    /**
     * Retries by the policy's backoff, and no sooner than a 429 or 503 asked ({@code Retry-After}),
     * but never waits longer than the policy's longest pause before that retry, which the module's
     * worst case counts: a backend that asks for more is not asked again, and the module answers
     * its failure now rather than after its deadline. When no caller waits
     * ({@link RetryPolicy#inTheBackground}), it is asked again after the backoff's longest pause.
     */
    private static Retry retry(String module, RetryPolicy policy) {
        Retry retry = Retry.of(module, RetryConfig.custom()
                .maxAttempts(policy.maxAttempts())
                .intervalBiFunction((failedAttempts, outcome) -> policy.pause(failedAttempts,
                        outcome.isLeft() && outcome.getLeft() instanceof BackendFailure failure
                                ? failure.retryAfter().orElse(Duration.ZERO) : Duration.ZERO,
                        ThreadLocalRandom.current()).toMillis())
                .retryOnException(failure -> failure instanceof BackendFailure backend && backend.retryable()
                        && policy.retriesAfter(backend.attempts(), backend.retryAfter().orElse(Duration.ZERO)))
                .failAfterMaxAttempts(false)
                .build());
        retry.getEventPublisher().onRetry(event -> log.debug("Module {}: attempt {} failed ({}); retrying in {} ms", module,
                event.getNumberOfRetryAttempts(), event.getLastThrowable().getMessage(), event.getWaitInterval().toMillis()));
        return retry;
    }


    /** Waits for the calls in flight (each bounded by its timeouts), then releases the connections. */
    @Override
    public void close() {
        http.close();
    }

    /** Aborts the calls in flight and releases the connections at once. */
    public void shutdownNow() {
        http.shutdownNow();
    }

    /** How one module instance calls its backend. */
    public static final class Builder {
        private final ModuleContext context;
        private final Duration connectTimeout;
        private HttpClient.Version version = HttpClient.Version.HTTP_1_1;
        private DataSize maxReplySize = DEFAULT_MAX_REPLY_SIZE;
        private HeapBudget replyMemory = REPLY_MEMORY;
        private RetryPolicy retryPolicy = RetryPolicy.NONE;
        private Optional<String> bearerToken = Optional.empty();
        private Optional<CircuitBreaker> circuitBreaker = Optional.empty();

        private Builder(ModuleContext context, Duration connectTimeout) {
            this.context = Objects.requireNonNull(context, "context");
            this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
        }

        /**
         * {@link HttpClient.Version#HTTP_1_1} (the default) to speak HTTP/1.1 only, with no h2c upgrade
         * attempt at a plain-http backend; {@link HttpClient.Version#HTTP_2} to let the JDK negotiate
         * HTTP/2 where the backend offers it.
         */
        public Builder version(HttpClient.Version version) {
            this.version = Objects.requireNonNull(version, "version");
            return this;
        }

        /**
         * The longest reply body read into memory: the module's {@code max-reply-size} key.
         *
         * @throws ModuleConfigurationException when it is not between 1 byte and {@link #MAX_MAX_REPLY_SIZE}
         */
        public Builder maxReplySize(DataSize maxReplySize) {
            if (maxReplySize == null || maxReplySize.toBytes() < 1 || maxReplySize.compareTo(MAX_MAX_REPLY_SIZE) > 0) {
                throw new ModuleConfigurationException("max-reply-size", "must be between 1B and " + ConfigValues.format(MAX_MAX_REPLY_SIZE)
                        + " (the Synapse module reads no more of the gateway's answer), got "
                        + (maxReplySize == null ? "nothing" : ConfigValues.format(maxReplySize)));
            }
            this.maxReplySize = maxReplySize;
            return this;
        }

        /** What the replies may hold of the heap: {@link #REPLY_MEMORY}, which every module shares, unless a test says otherwise. */
        public Builder replyMemory(HeapBudget replyMemory) {
            this.replyMemory = Objects.requireNonNull(replyMemory, "replyMemory");
            return this;
        }

        /** How retried requests are retried; {@link RetryPolicy#NONE} (the default) never retries. */
        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
            return this;
        }

        /**
         * Sent as {@code Authorization: Bearer <token>} with every request. Check a configured
         * token with {@link ConfigValues#bearerToken} first, for a startup error naming its key.
         *
         * @throws IllegalArgumentException when it is not one word of visible ASCII; the message
         *         never quotes it
         */
        public Builder bearerToken(Optional<String> token) {
            Objects.requireNonNull(token, "token").flatMap(ConfigValues::tokenProblem).ifPresent(problem -> {
                throw new IllegalArgumentException("bearer token: " + problem);
            });
            this.bearerToken = token;
            return this;
        }

        /**
         * Guards every attempt. Configure it to ignore what does not say the backend is unavailable
         * ({@link BackendFailures#countsAgainstTheBackend}), so that a bug, the chain's deadline or a
         * request the backend refuses (a 404) does not open it.
         */
        public Builder circuitBreaker(CircuitBreaker circuitBreaker) {
            this.circuitBreaker = Optional.of(circuitBreaker);
            return this;
        }

        public Backend build() {
            return new Backend(this);
        }
    }
}
