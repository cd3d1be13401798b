package dev.matrixpolicy.gateway.callbacks.background_update_controller;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;

/**
 * {@code on_update}: Called before each iteration of a background update. Answers the iteration's
 * target duration in milliseconds (the JSON form of entering Synapse's async context manager).
 */
@FunctionalInterface
public interface OnUpdate {

    CallbackType<OnUpdate, Args, Integer> TYPE = new CallbackType<>(Category.BACKGROUND_UPDATE_CONTROLLER, "on_update",
            OnUpdate.class, OnUpdate::onUpdate,
            Args::read, ResultTypes.DURATION_MS,
            Rules.soleModuleOr(BackgroundUpdate.DEFAULT_DURATION_MS));

    Integer onUpdate(Args args);

    /**
     * @param updateName the background update
     * @param databaseName the database
     * @param oneShot whether the update runs in one go
     */
    record Args(String updateName, String databaseName, boolean oneShot) {
        static Args read(JsonArgs json) {
            return new Args(json.string("update_name"), json.string("database_name"), json.bool("one_shot"));
        }
    }
}
