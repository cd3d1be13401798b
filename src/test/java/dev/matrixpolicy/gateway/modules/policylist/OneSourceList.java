package dev.matrixpolicy.gateway.modules.policylist;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A policy_list instance "bans" of example.com with an empty allow list and one source (a file unless said), ready for readiness when fresh. */
final class OneSourceList {
    private OneSourceList() {
    }

    /** The instance, its source at position 1, not started. */
    static PolicyList of(String name, String location, Set<EntityKind> kinds, PolicySource source) {
        return of(name, "file", location, kinds, source);
    }

    /** As above, the source of {@code kind} ({@code file}, {@code url}, {@code room}) at {@code location}. */
    static PolicyList of(String name, String kind, String location, Set<EntityKind> kinds, PolicySource source) {
        List<PolicyList.Slot> slots = List.of(
                new PolicyList.Slot("allow", "allow", "configuration", EnumSet.allOf(EntityKind.class), Set.of(), Set.of(), Optional.empty()),
                new PolicyList.Slot(name, kind, location, kinds, Set.of(), Set.of(), Optional.of(source)));
        return new PolicyList(slots, List.of(), Set.<CallbackType<?, ?, ?>>of(),
                new PolicyList.Answers("bans", "example.com", Rejection.of("M_FORBIDDEN"), false, RegistrationBehaviour.DENY, false, false, Set.of()),
                new PolicyList.Freshness(Duration.ofMinutes(5), true), Instant.now(),
                new PolicyListMetrics("bans", new SimpleMeterRegistry(), binder -> { }, Clock.systemUTC()), Optional.empty());
    }
}
