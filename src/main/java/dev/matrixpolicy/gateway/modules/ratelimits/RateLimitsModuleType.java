package dev.matrixpolicy.gateway.modules.ratelimits;

import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.SharedState;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * {@code rate_limits}: token buckets for event floods, join waves, invites and room creation, in the
 * process's shared state (memory, or Redis shared by every replica).
 */
@Component
class RateLimitsModuleType extends ModuleType<RateLimitsConfig> {
    static final String NAME = "rate_limits";

    private final SharedState state;
    private final LongSupplier wallClock;

    @Autowired // the one Spring uses; tests give a clock of their own
    RateLimitsModuleType(SharedState state) {
        this(state, System::currentTimeMillis);
    }

    /** @param wallClock the time in milliseconds since the epoch, as events' {@code origin_server_ts} */
    RateLimitsModuleType(SharedState state, LongSupplier wallClock) {
        super(NAME, RateLimitsConfig.class);
        this.state = state;
        this.wallClock = wallClock;
    }

    /** How old an event must be to be history, not counted, when {@code events.skip-older-than} is not set. */
    static final Duration HISTORY = Duration.ofHours(1);

    @Override
    public PolicyModule create(RateLimitsConfig config, ModuleContext context) {
        Map<String, RateLimitsConfig.Limit> configured = new LinkedHashMap<>();
        configured.put("events", config.events());
        configured.put("joins", config.joins());
        configured.put("invites", config.invites());
        configured.put("room-creation", config.roomCreation());
        configured.values().removeIf(Objects::isNull);
        if (configured.isEmpty()) {
            throw new ModuleConfigurationException("events", "no limit is set: configure at least one of events, joins, "
                    + "invites, room-creation");
        }
        List<RateLimits.Limit> limits = new ArrayList<>();
        configured.forEach((name, limit) -> limits.add(limit(name, limit, context)));
        configured.forEach((name, limit) -> {
            if (!name.equals("events") && limit.skipOlderThan() != null) {
                throw new ModuleConfigurationException(name + ".skip-older-than", "applies to events only: "
                        + "joins, invites and rooms created are never fetched as history");
            }
        });
        Duration history = config.events() == null || config.events().skipOlderThan() == null ? HISTORY : config.events().skipOlderThan();
        // negative is refused by the record's validation, and past a year by the binding; what remains its types cannot say
        long historyMillis = history.toMillis(); // what the module keeps
        if (historyMillis == 0 && !history.isZero()) { // kept in milliseconds, it would be 0s: the opposite, every event counted
            throw new ModuleConfigurationException("events.skip-older-than", "must be 0s (count every event) or at least 1ms, got "
                    + ConfigValues.format(history));
        }
        return new RateLimits(context.instanceName(), state, ConfigValues.users("exempt", config.exempt()), limits, history, wallClock);
    }

    /** A limit's message to the user when its configuration gives none. */
    static final String TOO_MANY = "Too many requests: try again later";

    private static RateLimits.Limit limit(String name, RateLimitsConfig.Limit limit, ModuleContext context) {
        if (limit.perSender() == null && limit.perRoom() == null) {
            throw new ModuleConfigurationException(name, "no bucket: set per-sender, per-room or both");
        }
        if (name.equals("room-creation") && limit.perRoom() != null) {
            throw new ModuleConfigurationException(name + ".per-room", "a room being created has no ID yet: use per-sender");
        }
        Rejection refusal;
        try {
            refusal = ConfigValues.rejection(limit.errcode(), limit.error() == null || limit.error().isBlank() ? TOO_MANY : limit.error());
        } catch (ModuleConfigurationException wrong) {
            throw new ModuleConfigurationException(name + "." + wrong.field(), wrong.getMessage());
        }
        Map<RateLimits.Scope, Counter> refused = new EnumMap<>(RateLimits.Scope.class);
        for (RateLimits.Scope scope : RateLimits.Scope.values()) {
            refused.put(scope, Counter.builder("policy.module.rate_limits.refusals")
                    .description("Actions a rate_limits instance refused, by limit and by the bucket that was empty")
                    .tags("module", context.instanceName(), "limit", name, "bucket", scope.tag)
                    .register(context.meterRegistry()));
        }
        return new RateLimits.Limit(name, bucket(name + ".per-sender", limit.perSender()),
                bucket(name + ".per-room", limit.perRoom()), refusal, refused);
    }

    private static Optional<Bucket> bucket(String field, RateLimitsConfig.Bucket bucket) {
        if (bucket == null) {
            return Optional.empty();
        }
        if (bucket.period().toMillis() < 1) {
            throw new ModuleConfigurationException(field + ".period", "must be at least 1ms, got " + ConfigValues.format(bucket.period()));
        }
        return Optional.of(new Bucket(bucket.capacity(), bucket.period()));
    }
}
