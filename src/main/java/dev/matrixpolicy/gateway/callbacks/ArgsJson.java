package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.matrix.EventJson;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes a callback's typed arguments back to the JSON the API documents: snake_case field names
 * (Synapse's parameter names), events in client format, {@code request_info} as pairs. Reading that
 * JSON with the callback's reader gives the same arguments again. For modules that forward
 * callbacks elsewhere (an HTTP policy service, a webhook), whatever the depth of the events in them.
 */
public final class ArgsJson {
    private static final JsonMapper JSON = EventJson.mapper()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .build();

    private ArgsJson() {
    }

    public static ObjectNode write(Object args) {
        return JSON.valueToTree(args);
    }

    /**
     * The same JSON as {@link #write}'s, written straight to bytes, for a module that sends it: no
     * second tree of the arguments is built on the way (for a room's state of 1 MB in membership
     * events, 3.1 MB while it is written; for a 64 KB event of {@code [{},{},...]}, 2 MB).
     */
    public static byte[] bytes(Object args) {
        return JSON.writeValueAsBytes(args);
    }
}
