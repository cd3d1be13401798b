package dev.matrixpolicy.gateway.modules.threepidchecker;

import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * The backend's reply about one 3PID, as the synapse-3pid-checker README defines it.
 *
 * @param hs             the homeserver the 3PID may be bound on; absent (or {@code null}) denies
 * @param requiresInvite whether binding needs an invite; absent means false
 * @param invited        whether an invite is pending; absent means false
 */
record ThreepidReply(Optional<String> hs, boolean requiresInvite, boolean invited) {

    /**
     * Reads a reply. A field of the wrong type is not read as "absent": the backend is broken and
     * its answer cannot be trusted either way, so the caller treats it as a failure.
     *
     * @throws IllegalArgumentException when the reply is not an object or a field has the wrong type
     */
    static ThreepidReply parse(JsonNode reply) {
        if (reply == null || !reply.isObject()) {
            throw new IllegalArgumentException("reply is not a JSON object");
        }
        JsonNode hs = reply.get("hs");
        if (isPresent(hs) && !hs.isString()) {
            throw new IllegalArgumentException("'hs' is not a string");
        }
        return new ThreepidReply(isPresent(hs) ? Optional.of(hs.stringValue()) : Optional.empty(),
                flag(reply, "requires_invite"), flag(reply, "invited"));
    }

    /**
     * The original module's rule: deny when {@code hs} is missing or names another homeserver, or
     * when an invite is required and none is pending; allow otherwise.
     */
    boolean allows(String serverName) {
        return hs.filter(serverName::equals).isPresent() && (!requiresInvite || invited);
    }

    private static boolean flag(JsonNode reply, String field) {
        JsonNode value = reply.get(field);
        if (!isPresent(value)) {
            return false;
        }
        if (!value.isBoolean()) {
            throw new IllegalArgumentException("'" + field + "' is not a boolean");
        }
        return value.booleanValue();
    }

    /** JSON {@code null} counts as absent, as Python's {@code dict.get} makes it falsy in the original. */
    private static boolean isPresent(JsonNode value) {
        return value != null && !value.isNull();
    }
}
