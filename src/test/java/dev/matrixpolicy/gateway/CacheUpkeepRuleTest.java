package dev.matrixpolicy.gateway;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import dev.matrixpolicy.gateway.support.ProductionClasses;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every Caffeine cache of the gateway does its upkeep (draining its buffers, evicting, expiring) on the
 * thread that used it. With Caffeine's default executor, a write hands that work to the common pool
 * and wakes one of its threads: on the request path of {@code rate_limits} (one write per request)
 * that cost more CPU than the module itself (docs/performance.md, "Cache upkeep").
 */
class CacheUpkeepRuleTest {

    @Test
    void everyCaffeineCacheRunsItsUpkeepOnTheCallingThread() {
        classes().should(setAnExecutorWhereTheyBuildACache())
                .allowEmptyShould(true)
                .check(ProductionClasses.gateway());
    }

    private static ArchCondition<JavaClass> setAnExecutorWhereTheyBuildACache() {
        return new ArchCondition<>("set the executor of each Caffeine builder they make") {
            @Override
            public void check(JavaClass origin, ConditionEvents events) {
                Set<String> called = origin.getMethodCallsFromSelf().stream()
                        .filter(call -> call.getTargetOwner().isEquivalentTo(Caffeine.class))
                        .map(JavaMethodCall::getName)
                        .collect(Collectors.toSet());
                if (called.contains("newBuilder") && !called.contains("executor")) {
                    events.add(SimpleConditionEvent.violated(origin, origin.getName()
                            + " builds a Caffeine cache without .executor(Runnable::run)"));
                }
            }
        };
    }
}
