package dev.matrixpolicy.gateway.modules.ratelimitoverrides;

import dev.matrixpolicy.gateway.callbacks.RatelimitOverride;
import dev.matrixpolicy.gateway.callbacks.ratelimit.GetRatelimitOverrideForUser;
import dev.matrixpolicy.gateway.chain.DryRun;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A {@code ratelimit_overrides} instance: the first rule that lists both the user and the limiter
 * answers its rate and burst; otherwise the module falls through.
 */
final class RatelimitOverrides implements PolicyModule, GetRatelimitOverrideForUser {

    /**
     * One rule, compiled.
     *
     * @param limiters the limiters it covers; empty for all
     * @param applied  told the limiter's name each time the rule answers
     */
    record Rule(String name, UserIdMatcher users, Set<String> limiters, RatelimitOverride override,
                Consumer<String> applied) {
        boolean covers(String userId, String limiter) {
            return (limiters.isEmpty() || limiters.contains(limiter)) && users.matches(userId);
        }
    }

    private final List<Rule> rules;

    RatelimitOverrides(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    @Override
    public Optional<RatelimitOverride> getRatelimitOverrideForUser(GetRatelimitOverrideForUser.Args args) {
        for (Rule rule : rules) {
            if (rule.covers(args.userId(), args.limiterName())) {
                if (!DryRun.active()) { // an explanation's answer goes to no homeserver: no answer to count
                    rule.applied().accept(args.limiterName());
                }
                return Optional.of(rule.override());
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean mayBlock() {
        return false; // in-memory lookups only
    }
}
