package dev.matrixpolicy.gateway.callbacks.background_update_controller;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;

/**
 * Which background update a batch-size question is about.
 *
 * @param updateName   the background update
 * @param databaseName the database it runs on
 */
public record BackgroundUpdate(String updateName, String databaseName) {
    /** Synapse's first batch when no module sets it ({@code background_updates.default_batch_size}). */
    public static final int DEFAULT_BATCH_SIZE = 100;
    /**
     * Synapse's smallest batch when no module sets it ({@code background_updates.min_batch_size}): 1 in
     * Synapse's code, where its module docs say 100; the gateway follows the code, as our Synapse module does.
     */
    public static final int DEFAULT_MIN_BATCH_SIZE = 1;
    /** Synapse's default target duration of one iteration ({@code background_updates.update_duration_ms}). */
    public static final int DEFAULT_DURATION_MS = 100;

    static BackgroundUpdate read(JsonArgs json) {
        return new BackgroundUpdate(json.string("update_name"), json.string("database_name"));
    }
}
