package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.callbacks.ArgsJson;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.PolicyModule;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.WorstCase;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.module.BackendClient;
import dev.matrixpolicy.gateway.module.BackendFailures;
import dev.matrixpolicy.gateway.module.BackendTimer;
import dev.matrixpolicy.gateway.module.BackendTimer.Outcome;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.modules.http.HttpConfig.CircuitBreakerSettings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.client.RestClient;
import org.springframework.web.client.RestClientException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Forwards callbacks to a remote policy service that speaks the gateway's own REST contract, so a
 * policy can be written in any language. One code path serves every callback: the arguments are
 * written with {@link ArgsJson}, the answer is read with the callback's result type.
 *
 * <p>Questions are retried on connection failures, timeouts, 5xx and 429; notifications are sent
 * once, since the remote side may have acted on a request whose answer was lost. One circuit
 * breaker guards the whole instance (one remote service): while it is open, the failure mode
 * answers without a request.
 */
final class HttpForwarder implements PolicyModule, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpForwarder.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int MAX_DESCRIPTION = 300;

    /** Where one callback goes and how patiently: {@code timeout} is the read timeout of {@code client}. */
    private record Route(URI uri, RestClient client, Duration timeout, int attempts) {
    }

    /**
     * Everything the module needs, checked and resolved by the module type.
     *
     * @param baseUrl    the service's base URL, without a trailing slash
     * @param callbacks  the forwarded callbacks, each with its timeout
     * @param loginTypes the login types whose {@code check_auth} is forwarded, each with its timeout
     * @param token      the bearer token for the service, if any
     * @see HttpConfig for the other settings
     */
    record Settings(String baseUrl, Map<CallbackType<?, ?, ?>, Duration> callbacks, Map<LoginType, Duration> loginTypes,
                    Optional<String> token, Duration connectTimeout, int retries, Duration retryBackoff,
                    CircuitBreakerSettings circuitBreaker, FailureMode failureMode) {
    }

    private final String name;
    private final FailureMode failureMode;
    private final Duration retryBackoff;
    private final Duration connectTimeout;
    private final BackendClient http;
    private final CircuitBreaker breaker;
    private final BackendTimer backendTimer;
    private final Map<CallbackType<?, ?, ?>, Route> routes = new HashMap<>();
    private final Map<LoginType, CheckAuth> authCheckers = new LinkedHashMap<>();
    private final WorstCase worstCase;

    HttpForwarder(Settings settings, ModuleContext context) {
        this.name = context.instanceName();
        this.failureMode = settings.failureMode();
        this.retryBackoff = settings.retryBackoff();
        this.connectTimeout = settings.connectTimeout();
        // One client per instance: the JDK client pools connections and keeps them alive between calls.
        this.http = new BackendClient(HttpClient.Version.HTTP_1_1, settings.connectTimeout());
        this.breaker = circuitBreaker(name, settings.circuitBreaker(), context);
        this.backendTimer = new BackendTimer(name, context.meterRegistry());

        Map<Duration, RestClient> clientsByTimeout = new HashMap<>();
        Function<Duration, RestClient> clients = timeout -> clientsByTimeout.computeIfAbsent(timeout,
                readTimeout -> restClient(readTimeout, settings.token()));
        List<WorstCase> worstCases = new ArrayList<>();
        settings.callbacks().forEach((callback, timeout) -> {
            Route route = route(settings, callback, clients.apply(timeout), timeout);
            routes.put(callback, route);
            worstCases.add(worstCase(callback, route));
        });
        settings.loginTypes().forEach((loginType, timeout) -> {
            Route route = route(settings, CheckAuth.TYPE, clients.apply(timeout), timeout);
            authCheckers.put(loginType, forwarding(CheckAuth.TYPE, route));
            worstCases.add(worstCase(CheckAuth.TYPE, route));
        });
        this.worstCase = worstCases.stream().max(Comparator.comparing(WorstCase::time)).orElseThrow();
    }

    @Override
    public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
        Route route = routes.get(callback);
        return route == null ? Optional.empty() : Optional.of(forwarding(callback, route));
    }

    @Override
    public Map<LoginType, CheckAuth> authCheckers() {
        return authCheckers;
    }

    /** The slowest of the forwarded callbacks: each has its own timeout, and questions are retried. */
    @Override
    public Optional<WorstCase> worstCase() {
        return Optional.of(worstCase);
    }

    /**
     * Every attempt waits out both timeouts, with the retry pauses in between; the read timeout is
     * measured from the request's start by Spring's client today, but the sum stays a bound whatever
     * the client counts in it.
     */
    private WorstCase worstCase(CallbackType<?, ?, ?> callback, Route route) {
        WorstCase attempt = WorstCase.ofRequest(connectTimeout, route.timeout());
        Duration time = attempt.time().multipliedBy(route.attempts());
        List<String> pauses = new ArrayList<>();
        for (int retry = 1; retry < route.attempts(); retry++) {
            Duration pause = backoff(retry);
            time = time.plus(pause);
            pauses.add(WorstCase.format(pause));
        }
        return new WorstCase(time, callback.name() + ": " + (pauses.isEmpty() ? attempt.computation()
                : route.attempts() + " attempts × (" + attempt.computation() + ") + retry-backoff " + String.join(" + ", pauses)));
    }

    private <M, A, R> M forwarding(CallbackType<M, A, R> callback, Route route) {
        return callback.fromFunction().apply(args -> forward(callback, route, args));
    }

    /** Asks the service, retrying where allowed; any failure is answered by the failure mode. */
    private <A, R> R forward(CallbackType<?, A, R> callback, Route route, A args) {
        byte[] body = JSON.writeValueAsBytes(ArgsJson.write(args));
        BackendFailure failure = null;
        int attempts = 0;
        while (attempts < route.attempts() && (attempts == 0 || pauseBeforeRetry(attempts))) {
            if (!breaker.tryAcquirePermission()) {
                log.debug("Module {}: circuit open, {} not forwarded", name, callback.name());
                break;
            }
            attempts++;
            long start = System.nanoTime();
            try {
                R answer = ask(callback, route, body);
                long nanos = System.nanoTime() - start;
                breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
                backendTimer.record(Outcome.SUCCESS, nanos);
                return answer;
            } catch (BackendFailure failed) {
                long nanos = System.nanoTime() - start;
                breaker.onError(nanos, TimeUnit.NANOSECONDS, failed);
                backendTimer.record(Outcome.failure(failed.timedOut()), nanos);
                failure = failed;
                if (!failed.retryable() || Thread.currentThread().isInterrupted()) {
                    break;
                }
            } catch (RuntimeException bug) {
                breaker.releasePermission();
                throw bug;
            }
        }
        R answer = FailureAnswers.answer(callback, args, failureMode);
        if (failure != null && !Thread.currentThread().isInterrupted()) { // interrupted: the chain gave up and logs it
            log.atWarn().addKeyValue("module", name).addKeyValue("callback", callback.name())
                    .addKeyValue("failure", Outcome.failure(failure.timedOut()).tag())
                    .log("Module {}: {} failed after {} attempt(s) ({}); failing {}: answered {}", name, callback.name(),
                            attempts, describe(failure), failureMode == FailureMode.FAIL_OPEN ? "open" : "closed",
                            callback.resultType().outcome(answer));
        }
        return answer;
    }

    private <R> R ask(CallbackType<?, ?, R> callback, Route route, byte[] body) {
        try {
            return route.client().post().uri(route.uri())
                    .contentType(MediaType.APPLICATION_JSON).accept(MediaType.APPLICATION_JSON)
                    .body(body)
                    .exchange((request, response) -> RemoteAnswer.read(callback.resultType(),
                            response.getStatusCode().value(), response.getBody().readAllBytes()));
        } catch (RestClientException unreachable) {
            throw BackendFailure.unreachable(BackendFailures.causes(unreachable), BackendFailures.isTimeout(unreachable),
                    unreachable);
        }
    }

    /** Pauses for {@link #backoff}; false when the caller was interrupted meanwhile. */
    private boolean pauseBeforeRetry(int attemptsSoFar) {
        try {
            Thread.sleep(backoff(attemptsSoFar));
            return true;
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The pause before retry number {@code retry} (from 1): {@code retry-backoff}, doubling for each further retry. */
    private Duration backoff(int retry) {
        Duration pause = retryBackoff.multipliedBy(1L << (retry - 1));
        return pause.isNegative() ? Duration.ZERO : pause; // Thread.sleep does not pause for a negative one
    }

    private static Route route(Settings settings, CallbackType<?, ?, ?> callback, RestClient client, Duration timeout) {
        // Notifications are not idempotent: the service may have acted on a request whose answer was lost.
        int attempts = callback.resultType() == ResultTypes.NOTHING ? 1 : 1 + settings.retries();
        return new Route(URI.create(settings.baseUrl() + "/" + callback.path()), client, timeout, attempts);
    }

    private RestClient restClient(Duration readTimeout, Optional<String> token) {
        RestClient client = http.restClient(readTimeout);
        return token.map(secret -> client.mutate().defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + secret).build())
                .orElse(client);
    }

    private static CircuitBreaker circuitBreaker(String name, CircuitBreakerSettings settings, ModuleContext context) {
        CircuitBreakerRegistry registry = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(settings.slidingWindowSize())
                .minimumNumberOfCalls(settings.minimumNumberOfCalls())
                .failureRateThreshold(settings.failureRateThreshold())
                .waitDurationInOpenState(settings.waitInOpenState())
                .permittedNumberOfCallsInHalfOpenState(settings.permittedCallsInHalfOpenState())
                .build());
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry).bindTo(context.meterRegistry());
        CircuitBreaker breaker = registry.circuitBreaker(name);
        breaker.getEventPublisher().onStateTransition(event -> {
            if (event.getStateTransition().getToState() == CircuitBreaker.State.OPEN) {
                log.warn("Module {}: circuit breaker opened ({}% of recent calls failed); the failure mode answers for the next {} s",
                        name, breaker.getMetrics().getFailureRate(), settings.waitInOpenState().toSeconds());
            } else {
                log.info("Module {}: circuit breaker {}", name, event.getStateTransition());
            }
        });
        return breaker;
    }

    /** One line, bounded: an unusable answer quotes what the service sent. */
    private static String describe(BackendFailure failure) {
        String description = failure.getMessage().replaceAll("\\s+", " ");
        return description.length() <= MAX_DESCRIPTION ? description : description.substring(0, MAX_DESCRIPTION) + "...";
    }

    /** Waits for calls in flight (bounded by the timeouts), then releases the pooled connections. */
    @Override
    public void close() {
        http.close();
    }
}
