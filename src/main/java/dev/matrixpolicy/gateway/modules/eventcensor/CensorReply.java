package dev.matrixpolicy.gateway.modules.eventcensor;

import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.module.BackendFailure;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the censor service answered, read from its 2xx JSON body:
 * <ul>
 *   <li>{@code {"allowed": false}}: deny the event (any {@code content} is ignored: a denial wins);</li>
 *   <li>{@code {"content": {...}}}: allow it, with this content instead of the event's;</li>
 *   <li>{@code {}} (or {@code "content": null}, or {@code "allowed": true} alone): allow it unchanged.</li>
 * </ul>
 * Unknown fields are ignored. Anything else is not an answer, nor is a content holding half a character
 * (a lone surrogate, from a JSON escape): Synapse could neither hash nor store the event, and the
 * user's request would end in a 500.
 */
sealed interface CensorReply {

    CensorReply DENY = Deny.INSTANCE;
    CensorReply KEEP = Keep.INSTANCE;

    enum Deny implements CensorReply { INSTANCE }

    enum Keep implements CensorReply { INSTANCE }

    /** @param content the content that replaces the event's */
    record Replace(ObjectNode content) implements CensorReply {
    }

    /** @throws BackendFailure when the reply is not one of the documented shapes */
    static CensorReply read(JsonNode reply) {
        if (!(reply instanceof ObjectNode object)) {
            throw BackendFailure.unusable("expected a JSON object, got " + (reply == null || reply.isMissingNode() ? "an empty body" : reply.getNodeType()));
        }
        JsonNode allowed = object.get("allowed");
        if (allowed != null && !allowed.isBoolean()) {
            throw BackendFailure.unusable("'allowed' must be true or false");
        }
        if (allowed != null && !allowed.booleanValue()) {
            return DENY;
        }
        JsonNode content = object.get("content");
        if (content == null || content.isNull()) {
            return KEEP;
        }
        if (!(content instanceof ObjectNode replacement)) {
            throw BackendFailure.unusable("'content' must be a JSON object");
        }
        if (!EventJson.hasUtf8Form(replacement)) {
            throw BackendFailure.unusable("a string in 'content' holds half a character (a lone surrogate), which has no UTF-8 form");
        }
        return new Replace(replacement);
    }
}
