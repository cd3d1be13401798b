package dev.matrixpolicy.gateway.modules.threepidchecker;

import com.github.benmanes.caffeine.cache.Cache;
import dev.matrixpolicy.gateway.callbacks.PolicyModule;
import dev.matrixpolicy.gateway.callbacks.WorstCase;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.Is3pidAllowed;
import dev.matrixpolicy.gateway.module.BackendTimer.Outcome;
import dev.matrixpolicy.gateway.module.FailureMode;
import dev.matrixpolicy.gateway.modules.threepidchecker.ThreepidBackend.BackendFailure;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code threepid_checker} instance: synapse-3pid-checker's {@code is_3pid_allowed}, with a
 * short cache of the backend's verdicts and a configurable answer for when the backend fails.
 */
final class ThreepidChecker implements PolicyModule, Is3pidAllowed, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ThreepidChecker.class);

    private final String instanceName;
    private final String serverName;
    private final boolean onlyCheckAtRegistration;
    private final FailureMode failureMode;
    private final ThreepidBackend backend;
    /** Verdicts by 3PID; empty when {@code cache-ttl} is zero. Failures are never cached. */
    private final Optional<Cache<Threepid, Boolean>> verdicts;

    /** The cache key: the question the backend answers does not depend on {@code registration}. */
    record Threepid(String medium, String address) {
    }

    ThreepidChecker(String instanceName, String serverName, boolean onlyCheckAtRegistration, FailureMode failureMode,
                    ThreepidBackend backend, Optional<Cache<Threepid, Boolean>> verdicts) {
        this.instanceName = instanceName;
        this.serverName = serverName;
        this.onlyCheckAtRegistration = onlyCheckAtRegistration;
        this.failureMode = failureMode;
        this.backend = backend;
        this.verdicts = verdicts;
    }

    @Override
    public Boolean is3pidAllowed(Args args) {
        if (onlyCheckAtRegistration && !args.registration()) {
            return true;
        }
        Threepid threepid = new Threepid(args.medium(), args.address());
        Optional<Boolean> cached = verdicts.map(cache -> cache.getIfPresent(threepid));
        if (cached.isPresent()) {
            return cached.get();
        }
        try {
            boolean allowed = backend.ask(threepid.medium(), threepid.address()).allows(serverName);
            verdicts.ifPresent(cache -> cache.put(threepid, allowed));
            return allowed;
        } catch (BackendFailure failure) {
            boolean allowed = failureMode == FailureMode.FAIL_OPEN;
            // Neither the address nor the URL: the first is personal data, the second may hold a secret.
            log.atWarn().addKeyValue("module", instanceName).addKeyValue("failure", Outcome.failure(failure.timedOut()).tag())
                    .log("threepid_checker '{}': backend failed ({}); {} the 3PID ({})", instanceName, failure.getMessage(),
                            allowed ? "allowing" : "denying", failureMode == FailureMode.FAIL_OPEN ? "fail-open" : "fail-closed");
            return allowed;
        }
    }

    /** A cached verdict answers at once; asking the backend is the slow path. */
    @Override
    public Optional<WorstCase> worstCase() {
        return Optional.of(backend.worstCase());
    }

    @Override
    public void close() {
        backend.close();
    }
}
