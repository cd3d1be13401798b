package dev.matrixpolicy.gateway.modules.ratelimitoverrides;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;
import java.util.List;

/**
 * Configuration of the {@code ratelimit_overrides} module: other rate limits for some users.
 *
 * @param rules the rules, in order: the first rule that lists the user and the limiter answers, and
 *              a user no rule lists keeps Synapse's configured limits (or the next module's answer)
 */
public record RatelimitOverridesConfig(@NotEmpty List<@Valid @NotNull Rule> rules) {

    /**
     * One override.
     *
     * @param name       the rule's name, for metrics and logs; unique in the module
     * @param users      user IDs and globs ({@code *}, {@code ?}), matched ignoring case
     * @param limiters   the limiters it applies to, by Synapse's name (e.g. {@code rc_invites.per_user});
     *                   empty for every limiter that asks
     * @param perSecond  actions per second, above 0 and at least {@link dev.matrixpolicy.gateway.callbacks.RatelimitOverride#slowestRate}
     * @param burstCount actions at once; 0 refuses every action the limiter guards
     */
    public record Rule(@NotBlank String name, @NotEmpty List<@NotBlank String> users, List<@NotBlank String> limiters,
                       @NotNull Double perSecond, @NotNull @PositiveOrZero Integer burstCount) {
        public Rule {
            limiters = limiters == null ? List.of() : limiters;
        }
    }
}
