package dev.matrixpolicy.gateway.modules.http;

import dev.matrixpolicy.gateway.callbacks.ArgsJson;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.Check3pidAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendFailures;
import dev.matrixpolicy.gateway.module.BackendRequest;
import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.FailureAnswer;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.RetryPolicy;
import dev.matrixpolicy.gateway.module.WorstCase;
import dev.matrixpolicy.gateway.modules.http.HttpConfig.CircuitBreakerSettings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.util.unit.DataSize;

/**
 * Forwards callbacks to a remote policy service that speaks the gateway's own REST contract, so a
 * policy can be written in any language. One code path serves every callback: the arguments are
 * written with {@link ArgsJson}, the answer is read with the callback's result type.
 *
 * <p>Every call goes through the instance's {@link Backend}: questions are retried by its policy
 * (connection failures, timeouts, 5xx, 408 and 429); notifications and logins ({@code check_auth},
 * {@code check_3pid_auth}) are sent once, since the remote side may have acted on a request whose answer was lost. One circuit breaker guards the whole
 * instance (one remote service): while it is open, the failure mode answers without a request.
 */
final class HttpForwarder implements PolicyModule {
    private static final Logger log = LoggerFactory.getLogger(HttpForwarder.class);

    /** Where one callback goes and how patiently: {@code timeout} is the read timeout of each attempt. */
    private record Route(String callback, URI uri, Duration timeout, boolean retried) {
        BackendRequest request(byte[] body) {
            BackendRequest request = BackendRequest.post(callback, uri, body, timeout);
            return retried ? request : request.once();
        }
    }

    /**
     * Everything the module needs, checked and resolved by the module type.
     *
     * @param baseUrl    the service's base URL, checked by {@link BackendUrls#require}
     * @param callbacks  the forwarded callbacks, each with its timeout
     * @param loginTypes the login types whose {@code check_auth} is forwarded, each with its timeout
     * @param token      the bearer token for the service, if any
     * @param retries    how questions are retried
     * @see HttpConfig for the other settings
     */
    record Settings(URI baseUrl, Map<CallbackType<?, ?, ?>, Duration> callbacks, Map<LoginType, Duration> loginTypes,
                    Optional<String> token, Duration connectTimeout, DataSize maxReplySize, RetryPolicy retries,
                    CircuitBreakerSettings circuitBreaker, FailureMode failureMode) {
    }

    private final FailureMode failureMode;
    private final Duration connectTimeout;
    private final URI baseUrl;
    private final CircuitBreaker breaker;
    private final Backend backend;
    private final Map<CallbackType<?, ?, ?>, Route> routes = new HashMap<>();
    private final Map<LoginType, CheckAuth> authCheckers = new LinkedHashMap<>();
    private final WorstCase worstCase;

    HttpForwarder(Settings settings, ModuleContext context) {
        this.failureMode = settings.failureMode();
        this.connectTimeout = settings.connectTimeout();
        this.baseUrl = settings.baseUrl();
        this.breaker = circuitBreaker(context.instanceName(), settings.circuitBreaker(), context,
                context.predecessor().filter(HttpForwarder.class::isInstance).map(HttpForwarder.class::cast)
                        .filter(before -> before.baseUrl.equals(settings.baseUrl())).map(before -> before.breaker.getState()));
        // One backend per instance: its client pools connections and keeps them alive between calls.
        this.backend = Backend.builder(context, settings.connectTimeout())
                .maxReplySize(settings.maxReplySize())
                .retryPolicy(settings.retries())
                .bearerToken(settings.token())
                .circuitBreaker(breaker)
                .build();
        List<WorstCase> worstCases = new ArrayList<>();
        settings.callbacks().forEach((callback, timeout) -> {
            Route route = route(settings, callback, timeout);
            routes.put(callback, route);
            worstCases.add(worstCase(route));
        });
        settings.loginTypes().forEach((loginType, timeout) -> {
            Route route = route(settings, CheckAuth.TYPE, timeout);
            authCheckers.put(loginType, forwarding(CheckAuth.TYPE, route));
            worstCases.add(worstCase(route));
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
     * Every attempt waits out both timeouts, with the retry pauses in between, from the same retry
     * policy the backend retries by; the read timeout is measured from the request's start by
     * Spring's client today, but the sum stays a bound whatever the client counts in it.
     */
    private WorstCase worstCase(Route route) {
        WorstCase attempt = WorstCase.ofRequest(connectTimeout, route.timeout());
        WorstCase call = route.retried() ? backend.retryPolicy().worstCase(attempt, "retry-backoff") : attempt;
        return new WorstCase(call.time(), route.callback() + ": " + call.computation());
    }

    private <M, A, R> M forwarding(CallbackType<M, A, R> callback, Route route) {
        return callback.fromFunction(args -> forward(callback, route, args));
    }

    /** Asks the service; any failure is answered by the failure mode. */
    private <A, R> R forward(CallbackType<?, A, R> callback, Route route, A args) {
        byte[] body = ArgsJson.bytes(args);
        return backend.ask(route.request(body), reply -> RemoteAnswer.read(callback.resultType(), reply), () -> {
            R answer = FailureAnswers.answer(callback, args, failureMode);
            return FailureAnswer.of(failureMode, answer, "answered " + callback.resultType().outcome(answer));
        });
    }

    private static Route route(Settings settings, CallbackType<?, ?, ?> callback, Duration timeout) {
        return new Route(callback.name(), BackendUrls.endpoint(settings.baseUrl(), callback.path()), timeout, retried(callback));
    }

    /**
     * Whether a callback is retried: questions are, but not what the service may have acted on
     * although its answer was lost. Notifications are not idempotent, and neither is a login
     * ({@code check_auth}, {@code check_3pid_auth}): an auth service that counts failed logins (to
     * lock an account out) would count one login up to 1 + {@code retries} times.
     */
    private static boolean retried(CallbackType<?, ?, ?> callback) {
        return callback.resultType() != ResultTypes.NOTHING && callback != CheckAuth.TYPE && callback != Check3pidAuth.TYPE;
    }

    /**
     * The instance's breaker. A replacement for the same service ({@code predecessor}: the state of the
     * breaker of the instance it replaces, when that one asked the same {@code url}) starts where that
     * breaker stands: a reload that only rotates the token must not send a full window of calls to a
     * service known to be down. For another service it starts closed, as at startup.
     */
    private static CircuitBreaker circuitBreaker(String name, CircuitBreakerSettings settings, ModuleContext context,
                                                 Optional<CircuitBreaker.State> predecessor) {
        CircuitBreakerRegistry registry = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(settings.slidingWindowSize())
                .minimumNumberOfCalls(settings.minimumNumberOfCalls())
                .failureRateThreshold(settings.failureRateThreshold())
                .waitDurationInOpenState(settings.waitInOpenState())
                .permittedNumberOfCallsInHalfOpenState(settings.permittedCallsInHalfOpenState())
                // Only a service that is unavailable opens it: not a 404 for one callback, a bug, or the chain's deadline.
                .ignoreException(failure -> !BackendFailures.countsAgainstTheBackend(failure))
                .build());
        context.bindMeters(TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry));
        CircuitBreaker breaker = registry.circuitBreaker(name);
        predecessor.filter(state -> state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.HALF_OPEN).ifPresent(state -> {
            // open anew, with this configuration's wait: the breaker replaced was open, or trying whether to close
            breaker.transitionToOpenState();
            log.info("Module {}: circuit breaker open, as the instance it replaces had it ({}); the failure mode answers for the next {} s",
                    name, state, settings.waitInOpenState().toSeconds());
        });
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

    /** Waits for calls in flight (bounded by the timeouts), then releases the pooled connections. */
    @Override
    public void close() {
        backend.close();
    }
}
