package dev.matrixpolicy.gateway.observability;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Outcomes;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.chain.ModuleFailedException;
import dev.matrixpolicy.gateway.chain.ShadowAnswer;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.RepeatedWarnings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Records every decision and every module call as Micrometer metrics, and logs each rejection once,
 * and each shadow answer that would have decided.
 *
 * <ul>
 *   <li>{@value #DECISIONS} (counter): category, callback, outcome, module (the deciding module, or {@code none})</li>
 *   <li>{@value #CALLBACK} (timer): category, callback; latency of the whole chain</li>
 *   <li>{@value #MODULE} (timer): category, callback, module, outcome ({@code answered}, {@code failed}, {@code timed_out})</li>
 *   <li>{@value #MODULE_FAILURES} (counter): category, callback, module, reason ({@code failed}, {@code timed_out})</li>
 *   <li>{@value #SHADOW_ANSWERS} (counter): category, callback, module, outcome (the answer's label, as in
 *       {@value #DECISIONS}, or {@code failed}, {@code timed_out}); what shadow-mode modules replied</li>
 * </ul>
 * Meters are cached per tag combination so the request path does no registry look-ups.
 */
@Component
final class MetricsChainObserver implements ChainObserver {
    static final String DECISIONS = "policy.decisions";
    static final String CALLBACK = "policy.callback";
    static final String MODULE = "policy.module";
    static final String MODULE_FAILURES = "policy.module.failures";
    static final String SHADOW_ANSWERS = "policy.shadow.answers";
    private static final Logger decisions = LoggerFactory.getLogger("dev.matrixpolicy.gateway.decisions");

    private final MeterRegistry registry;
    private final Map<String, String> categories;
    private final Map<DecisionKey, Counter> decisionCounters = new ConcurrentHashMap<>();
    private final Map<String, Timer> callbackTimers = new ConcurrentHashMap<>();
    private final Map<ModuleKey, Timer> moduleTimers = new ConcurrentHashMap<>();
    private final Map<ModuleKey, Counter> failureCounters = new ConcurrentHashMap<>();
    private final Map<ModuleKey, Counter> shadowCounters = new ConcurrentHashMap<>();
    private final RepeatedWarnings warnings = new RepeatedWarnings();

    MetricsChainObserver(MeterRegistry registry) {
        this.registry = registry;
        this.categories = Callbacks.ALL.stream()
                .collect(Collectors.toUnmodifiableMap(CallbackType::name, type -> type.category().wireName()));
        // A module, or a module's callback, a reload removed has its series removed (InstanceMeters#retire):
        // a meter held here then counts nowhere, so it goes too, and the name, configured again, counts afresh.
        registry.config().onMeterRemoved(this::forget);
    }

    private void forget(Meter removed) {
        for (Map<?, ? extends Meter> cache : List.of(decisionCounters, callbackTimers, moduleTimers, failureCounters, shadowCounters)) {
            cache.values().removeIf(meter -> meter == removed);
        }
    }

    private record DecisionKey(String callback, String outcome, String module) {
    }

    private record ModuleKey(String callback, String module, String outcome) {
    }

    @Override
    public void linkCompleted(String callback, String module, long nanos, LinkOutcome outcome, Throwable failure) {
        String label = outcome.label();
        cached(moduleTimers, new ModuleKey(callback, module, label), key -> Timer.builder(MODULE)
                .description("Time one module took to answer one callback")
                .tags("category", category(callback), "callback", callback, "module", module, "outcome", label)
                .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
        if (outcome != LinkOutcome.ANSWERED) {
            cached(failureCounters, new ModuleKey(callback, module, label), key -> Counter.builder(MODULE_FAILURES)
                    .description("Module calls that threw, timed out or returned nothing")
                    .tags("category", category(callback), "callback", callback, "module", module, "reason", label)
                    .register(registry)).increment();
            RepeatedWarnings.Line line = warnings.line(decisions, new ModuleKey(callback, module, label));
            line.event().addKeyValue("callback", callback).addKeyValue("module", module).addKeyValue("failure", label)
                    .log(line.withOmitted("Module {} {} on {}: {}"), module, label.replace('_', ' '), callback, LogText.message(String.valueOf(failure)));
        }
    }

    @Override
    public void chainDecided(String callback, Decision<?> decision, String outcome, long nanos) {
        String module = decision.decidedBy().orElse(ModuleInstance.NO_INSTANCE);
        count(callback, outcome, module, nanos);
        if (Outcomes.isRejection(outcome)) {
            String errcode = decision.result() instanceof Rejection rejection ? rejection.errcode() : Rejection.FORBIDDEN;
            decisions.atInfo().addKeyValue("callback", callback).addKeyValue("module", module)
                    .addKeyValue("outcome", outcome).addKeyValue("errcode", errcode)
                    .log("Rejected {}: module={} outcome={} errcode={}", callback, module, outcome, errcode);
        } else if (decisions.isDebugEnabled()) {
            decisions.atDebug().addKeyValue("callback", callback).addKeyValue("module", module)
                    .addKeyValue("outcome", outcome)
                    .log("Answered {}: module={} outcome={}", callback, module, outcome);
        }
    }

    @Override
    public void chainFailed(String callback, ModuleFailedException failure, long nanos) {
        count(callback, Outcomes.ERROR, failure.module(), nanos);
        RepeatedWarnings.Line line = warnings.line(decisions, new DecisionKey(callback, Outcomes.ERROR, failure.module()));
        line.event().addKeyValue("callback", callback).addKeyValue("module", failure.module())
                .addKeyValue("outcome", Outcomes.ERROR)
                .log(line.withOmitted("Failed {} closed: {}"), callback, LogText.message(failure.getMessage()));
    }

    @Override
    public void shadowAnswered(String callback, ShadowAnswer<?> answer, String outcome) {
        String module = answer.module();
        cached(shadowCounters, new ModuleKey(callback, module, outcome), key -> Counter.builder(SHADOW_ANSWERS)
                .description("Replies of shadow-mode modules, which are recorded but never count")
                .tags("category", category(callback), "callback", callback, "module", module, "outcome", outcome)
                .register(registry)).increment();
        if (answer.wouldDecide()) {
            decisions.atInfo().addKeyValue("callback", callback).addKeyValue("module", module)
                    .addKeyValue("outcome", outcome).addKeyValue("shadow", true)
                    .log("Shadow module {} would have decided {}: outcome={}", module, callback, outcome);
        }
    }

    private void count(String callback, String outcome, String module, long nanos) {
        cached(decisionCounters, new DecisionKey(callback, outcome, module), key -> Counter.builder(DECISIONS)
                .description("Chain decisions by outcome and deciding module")
                .tags("category", category(callback), "callback", callback, "outcome", outcome, "module", module)
                .register(registry)).increment();
        cached(callbackTimers, callback, key -> Timer.builder(CALLBACK)
                .description("Time to answer one callback, the whole chain included")
                .tags("category", category(callback), "callback", callback)
                .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * The meter cached under {@code key}, or the one {@code register} registers, then cached. It is
     * registered outside the cache's lock: {@link #forget} runs under the registry's lock and takes the
     * cache's, so registering inside the cache's (computeIfAbsent) took the two the other way round, and
     * a request registering one module's first meter while a reload removed another's series from the
     * same bin of a cache waited on the removal, which waited on it, for good. Registering twice is
     * harmless: the registry answers the meter it has. A meter removed between its registration here
     * and its caching would stay cached; none is, since a module's series are removed only once no
     * request can count on them ({@code InstanceMeters#retire}).
     */
    private static <K, M extends Meter> M cached(Map<K, M> cache, K key, Function<K, M> register) {
        M meter = cache.get(key);
        if (meter == null) {
            M registered = register.apply(key);
            meter = Objects.requireNonNullElse(cache.putIfAbsent(key, registered), registered);
        }
        return meter;
    }

    private String category(String callback) {
        return categories.getOrDefault(callback, "unknown");
    }
}
