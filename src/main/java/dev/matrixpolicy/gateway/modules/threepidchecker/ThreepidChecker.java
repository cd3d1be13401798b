package dev.matrixpolicy.gateway.modules.threepidchecker;

import com.github.benmanes.caffeine.cache.Cache;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.Is3pidAllowed;
import dev.matrixpolicy.gateway.chain.DryRun;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendFailure;
import dev.matrixpolicy.gateway.module.BackendReply;
import dev.matrixpolicy.gateway.module.BackendRequest;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.FailureAnswer;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.WorstCase;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * One {@code threepid_checker} instance: synapse-3pid-checker's {@code is_3pid_allowed}, with a
 * short cache of the backend's verdicts and a configurable answer for when the backend fails. The
 * backend is asked {@code GET url?medium=...&address=...} through the instance's {@link Backend};
 * neither the address (personal data) nor the URL (it may hold a secret) is ever logged.
 */
final class ThreepidChecker implements PolicyModule, Is3pidAllowed {
    private final String serverName;
    private final boolean onlyCheckAtRegistration;
    private final FailureAnswer<Boolean> onFailure;
    private final String queryPrefix;
    private final Duration timeout;
    private final Backend backend;
    /** Verdicts by 3PID; empty when {@code cache-ttl} is zero. Failures are never cached. */
    private final Optional<Cache<Threepid, Boolean>> verdicts;

    /** The cache key: the question the backend answers does not depend on {@code registration}. */
    record Threepid(String medium, String address) {
    }

    /**
     * @param url     the configured URL, already checked: absolute http(s), no user info, no fragment
     * @param timeout bounds connecting and waiting for the reply, each: the backend's connect timeout too
     */
    ThreepidChecker(String serverName, boolean onlyCheckAtRegistration, FailureMode failureMode, URI url, Duration timeout,
                    Backend backend, Optional<Cache<Threepid, Boolean>> verdicts) {
        this.serverName = serverName;
        this.onlyCheckAtRegistration = onlyCheckAtRegistration;
        this.onFailure = failureMode == FailureMode.FAIL_OPEN
                ? FailureAnswer.of(FailureMode.FAIL_OPEN, true, "3PID allowed, the rest of the chain decides")
                : FailureAnswer.of(FailureMode.FAIL_CLOSED, false, "3PID denied");
        this.queryPrefix = queryPrefix(url);
        this.timeout = timeout;
        this.backend = backend;
        this.verdicts = verdicts;
    }

    @Override
    public Boolean is3pidAllowed(Args args) {
        if (onlyCheckAtRegistration && !args.registration()) {
            return true;
        }
        if (!EventJson.hasUtf8Form(args.medium()) || !EventJson.hasUtf8Form(args.address())) {
            // Half a character, which a JSON escape carries and Synapse passes on, has no UTF-8 form:
            // encoded, it would be '?', and the backend would judge another address (the original's
            // request fails). Nor can mail or a text ever reach it.
            return false;
        }
        Threepid threepid = new Threepid(args.medium(), args.address());
        // An explanation answers as the real check would, but leaves the cache as it was: a verdict it
        // stored would spare the next real check its request, which a backend told "dry run, count
        // nothing" never counts; nor does it add to the cache's hit and miss counts.
        boolean explaining = DryRun.active();
        Optional<Boolean> cached = verdicts.map(cache -> explaining
                ? cache.policy().getIfPresentQuietly(threepid) : cache.getIfPresent(threepid));
        if (cached.isPresent()) {
            return cached.get();
        }
        return backend.ask(BackendRequest.get(Is3pidAllowed.TYPE.name(), target(threepid), timeout), reply -> {
            boolean allowed = read(reply).allows(serverName);
            if (!explaining) {
                verdicts.ifPresent(cache -> cache.put(threepid, allowed));
            }
            return allowed;
        }, () -> onFailure);
    }

    /**
     * One request, never retried: {@code timeout} bounds connecting, and again waiting for the reply.
     * A cached verdict answers at once; asking the backend is the slow path.
     */
    @Override
    public Optional<WorstCase> worstCase() {
        return Optional.of(new WorstCase(timeout.multipliedBy(2), "timeout " + ConfigValues.format(timeout) + " to connect + timeout "
                + ConfigValues.format(timeout) + " for the reply"));
    }

    @Override
    public void close() {
        backend.close();
    }

    private static ThreepidReply read(BackendReply reply) throws IOException {
        if (!reply.isSuccessful()) {
            throw BackendFailure.status(reply.status());
        }
        try {
            return ThreepidReply.parse(reply.json());
        } catch (IllegalArgumentException unusable) {
            throw BackendFailure.unusable(unusable.getMessage());
        }
    }

    /** The request URL: the configured one, its own query string kept, with both parameters form-encoded. */
    private URI target(Threepid threepid) {
        // Form encoding, as Synapse's client sends the original's parameters: '+' becomes %2B and a
        // space '+', so a backend decoding the query string as a form gets the address back exactly.
        return URI.create(queryPrefix + "medium=" + URLEncoder.encode(threepid.medium(), StandardCharsets.UTF_8)
                + "&address=" + URLEncoder.encode(threepid.address(), StandardCharsets.UTF_8));
    }

    private static String queryPrefix(URI url) {
        String base = url.toString();
        String query = url.getRawQuery();
        if (query == null) {
            return base + "?";
        }
        return query.isEmpty() || base.endsWith("&") ? base : base + "&";
    }
}
