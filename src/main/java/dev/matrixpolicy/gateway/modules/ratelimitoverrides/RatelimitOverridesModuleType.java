package dev.matrixpolicy.gateway.modules.ratelimitoverrides;

import dev.matrixpolicy.gateway.callbacks.RatelimitOverride;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * {@code ratelimit_overrides}: per-user and per-glob rate limits for the limiters that ask
 * {@code get_ratelimit_override_for_user}: more for trusted bots and support staff, less for listed
 * accounts.
 */
@Component
class RatelimitOverridesModuleType extends ModuleType<RatelimitOverridesConfig> {
    private static final Logger log = LoggerFactory.getLogger(RatelimitOverridesModuleType.class);

    static final String APPLIED_METER = "policy.module.ratelimit_overrides.applied";
    static final String OTHER_LIMITER = "other";

    /** The limiters that ask for overrides in Synapse 1.157. */
    static final Set<String> SYNAPSE_LIMITERS = Set.of("rc_invites.per_room", "rc_invites.per_user", "rc_invites.per_issuer");

    /** Synapse's limiter names: its {@code rc_*} settings, with a dotted sub-limiter. */
    private static final Pattern LIMITER = Pattern.compile("rc_[a-z0-9_]+(\\.[a-z0-9_]+)*");

    RatelimitOverridesModuleType() {
        super("ratelimit_overrides", RatelimitOverridesConfig.class);
    }

    @Override
    public PolicyModule create(RatelimitOverridesConfig config, ModuleContext context) {
        ConfigValues.requireUniqueNames("rules",
                config.rules().stream().map(RatelimitOverridesConfig.Rule::name).toList(), "rules");
        List<RatelimitOverrides.Rule> rules = new ArrayList<>();
        for (int i = 0; i < config.rules().size(); i++) {
            rules.add(compile(config.rules().get(i), "rules[" + i + "]", context));
        }
        return new RatelimitOverrides(rules);
    }

    private static RatelimitOverrides.Rule compile(RatelimitOverridesConfig.Rule rule, String field, ModuleContext context) {
        UserIdMatcher users = ConfigValues.users(field + ".users", rule.users());
        Set<String> limiters = new LinkedHashSet<>();
        for (int l = 0; l < rule.limiters().size(); l++) {
            String limiter = rule.limiters().get(l);
            if (!LIMITER.matcher(limiter).matches()) {
                throw new ModuleConfigurationException(field + ".limiters[" + l + "]", "'" + limiter
                        + "' is not a Synapse limiter name; Synapse 1.157 asks for " + sorted(SYNAPSE_LIMITERS));
            }
            List<String> section = sorted(SYNAPSE_LIMITERS).stream().filter(known -> known.startsWith(limiter + ".")).toList();
            if (!section.isEmpty()) { // homeserver.yaml's rc_invites: holds limiters, and is never asked about itself
                throw new ModuleConfigurationException(field + ".limiters[" + l + "]", "'" + limiter
                        + "' is a section of Synapse's rate limits, not a limiter: name its limiters " + section);
            }
            if (!SYNAPSE_LIMITERS.contains(limiter)) {
                log.warn("{}: {}.limiters[{}] '{}' is not one of the limiters Synapse 1.157 asks about ({}); the rule "
                        + "applies to it only if a newer Synapse asks", context.instanceName(), field, l, limiter,
                        sorted(SYNAPSE_LIMITERS));
            }
            limiters.add(limiter);
        }
        RatelimitOverride override;
        try {
            override = new RatelimitOverride(rule.perSecond(), rule.burstCount());
        } catch (IllegalArgumentException wrong) {
            throw new ModuleConfigurationException(field + ".per-second", !(rule.perSecond() > 0 && rule.perSecond() < Double.POSITIVE_INFINITY)
                    ? "must be a finite number above 0, got " + rule.perSecond() + ": Synapse fails the user's request on a "
                    + "rate of 0; to lift a limit, give a high rate and burst (e.g. per-second: 1000, burst-count: 1000)"
                    : "must be at least " + RatelimitOverride.slowestRate(rule.burstCount()) + " with burst-count "
                    + rule.burstCount() + ", got " + rule.perSecond() + ": a full burst must drain within a day, as Synapse "
                    + "keeps a timer slot for every 5 seconds until it has (a slower rate can exhaust its memory); to "
                    + "refuse every action the limiter guards, give burst-count: 0", wrong);
        }
        Set<String> counted = new LinkedHashSet<>(limiters.isEmpty() ? SYNAPSE_LIMITERS : limiters);
        Map<String, Counter> applied = new HashMap<>();
        counted.forEach(limiter -> applied.put(limiter, appliedCounter(context, rule.name(), limiter)));
        Counter other = appliedCounter(context, rule.name(), OTHER_LIMITER);
        return new RatelimitOverrides.Rule(rule.name(), users, Set.copyOf(limiters),
                override, limiter -> applied.getOrDefault(limiter, other).increment());
    }

    /**
     * Counts a rule's answers for one limiter: each limiter the rule names, or without {@code limiters}
     * each of Synapse 1.157's, and {@value #OTHER_LIMITER} for the rest, so that tags stay bounded.
     */
    private static Counter appliedCounter(ModuleContext context, String rule, String limiter) {
        return Counter.builder(APPLIED_METER)
                .description("Rate limit overrides answered, by rule and limiter")
                .tags("module", context.instanceName(), "rule", rule, "limiter", limiter)
                .register(context.meterRegistry());
    }

    private static List<String> sorted(Set<String> names) {
        return names.stream().sorted().toList();
    }
}
