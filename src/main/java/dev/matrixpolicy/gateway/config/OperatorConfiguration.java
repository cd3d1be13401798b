package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.decisions.DecisionLog;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * What operating the gateway live needs: the decision log, sized by
 * {@code policy-gateway.decision-log.capacity}, and the admin token.
 */
@Configuration(proxyBeanMethods = false)
class OperatorConfiguration {
    private static final Logger log = LoggerFactory.getLogger(OperatorConfiguration.class);

    /**
     * The most heap one logged decision can take, in round figures: its IDs, its reason (up to 1,000
     * characters, two bytes each outside Latin-1), its errcode (up to 255 ASCII characters) and the
     * objects that hold them. A caller chooses
     * them: a flood of refusals fills the ring with the largest. The log reads an ID from each of its
     * 15 fields, whatever the callback, and a room alias is taken up to 255 characters, not bytes: 15
     * aliases of characters outside the BMP (two UTF-16 units each) hold about 15 KB, the reason 2 KB.
     */
    static final long LARGEST_DECISION_BYTES = 20_480;

    @Bean
    DecisionLog decisionLog(PolicyGatewayProperties properties) {
        int capacity = properties.decisionLog().capacity();
        long heap = Runtime.getRuntime().maxMemory();
        if (capacity * LARGEST_DECISION_BYTES > heap / 4) {
            log.warn("policy-gateway.decision-log.capacity {} may hold up to {} MB of decisions (up to {} KB each, the IDs and"
                    + " reasons a caller chooses), more than a quarter of the heap ({} MB): a flood of refusals could run it out."
                    + " Lower the capacity to at most {}, or give the gateway more heap", capacity,
                    capacity * LARGEST_DECISION_BYTES >> 20, LARGEST_DECISION_BYTES >> 10, heap >> 20, heap / 4 / LARGEST_DECISION_BYTES);
        }
        return new DecisionLog(capacity, Clock.systemUTC());
    }
}
