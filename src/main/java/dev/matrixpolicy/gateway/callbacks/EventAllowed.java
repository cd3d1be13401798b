package dev.matrixpolicy.gateway.callbacks;

import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * The answer of {@code check_event_allowed}: Synapse's {@code Tuple[bool, Optional[dict]]}.
 *
 * @param allowed     whether the event may go through
 * @param replacement the event data that replaces the event; only with {@code allowed}
 */
public record EventAllowed(boolean allowed, Optional<ObjectNode> replacement) {
    public static final EventAllowed ALLOWED = new EventAllowed(true, Optional.empty());
    public static final EventAllowed DENIED = new EventAllowed(false, Optional.empty());

    public EventAllowed {
        if (!allowed && replacement.isPresent()) {
            throw new IllegalArgumentException("a denied event cannot have a replacement");
        }
    }

    public static EventAllowed replacedBy(ObjectNode event) {
        return new EventAllowed(true, Optional.of(event));
    }
}
