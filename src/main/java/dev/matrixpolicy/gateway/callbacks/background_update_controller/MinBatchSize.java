package dev.matrixpolicy.gateway.callbacks.background_update_controller;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;

/**
 * {@code min_batch_size}: Called before each batch of a background update. Answers the minimum number
 * of elements to process (at least 1).
 */
@FunctionalInterface
public interface MinBatchSize {

    CallbackType<MinBatchSize, BackgroundUpdate, Integer> TYPE = new CallbackType<>(Category.BACKGROUND_UPDATE_CONTROLLER, "min_batch_size",
            MinBatchSize.class, MinBatchSize::minBatchSize,
            BackgroundUpdate::read, ResultTypes.BATCH_SIZE,
            Rules.soleModuleOr(BackgroundUpdate.DEFAULT_MIN_BATCH_SIZE));

    Integer minBatchSize(BackgroundUpdate args);
}
