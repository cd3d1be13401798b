package dev.matrixpolicy.gateway.callbacks;

import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * The answer of {@code on_create_room}: go ahead (possibly with a modified request), or a
 * {@link Rejection}, the JSON form of raising a {@code SynapseError}.
 */
public sealed interface RoomCreation permits RoomCreation.Proceed, Rejection {

    /** Go ahead without changing the request. */
    Proceed UNCHANGED = new Proceed(Optional.empty());

    /**
     * @param requestContent the request as the next module (and finally Synapse) should see it;
     *                       empty leaves it as it was
     */
    record Proceed(Optional<ObjectNode> requestContent) implements RoomCreation {
    }
}
