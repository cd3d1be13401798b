package dev.matrixpolicy.gateway.callbacks.background_update_controller;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.Rules;

/**
 * {@code default_batch_size}: Called before the first iteration of a background update. Answers how
 * many elements to process.
 */
@FunctionalInterface
public interface DefaultBatchSize {

    CallbackType<DefaultBatchSize, BackgroundUpdate, Integer> TYPE = new CallbackType<>(Category.BACKGROUND_UPDATE_CONTROLLER, "default_batch_size",
            DefaultBatchSize.class, DefaultBatchSize::defaultBatchSize,
            BackgroundUpdate::read, ResultTypes.BATCH_SIZE,
            Rules.soleModuleOr(BackgroundUpdate.DEFAULT_BATCH_SIZE));

    Integer defaultBatchSize(BackgroundUpdate args);
}
