package dev.matrixpolicy.gateway.callbacks.add_extra_fields_to_unsigned_client_event;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.chain.Accumulate;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code add_field_to_unsigned}: Called every time an event is sent to clients; keep it fast. Chain
 * rule: the fields of all modules are merged, and for the same field the last module wins.
 */
@FunctionalInterface
public interface AddFieldToUnsigned {

    CallbackType<AddFieldToUnsigned, Args, ObjectNode> TYPE = new CallbackType<>(Category.ADD_EXTRA_FIELDS_TO_UNSIGNED_CLIENT_EVENT, "add_field_to_unsigned",
            AddFieldToUnsigned.class, AddFieldToUnsigned::addFieldToUnsigned,
            Args::read, ResultTypes.UNSIGNED_FIELDS,
            new Accumulate<>(JsonNodeFactory.instance.objectNode(), (left, right) -> {
                // a copy of the fields only: their values are never changed here, and Jackson's deepCopy
                // recurses into a value as deep as an event takes (a StackOverflowError)
                ObjectNode merged = JsonNodeFactory.instance.objectNode();
                merged.setAll(left);
                merged.setAll(right);
                return merged;
            }));

    ObjectNode addFieldToUnsigned(Args args);

    /**
     * @param event the event, in client format with its {@code event_id}
     */
    record Args(ClientEvent event) {
        static Args read(JsonArgs json) {
            return new Args(json.event("event"));
        }
    }
}
