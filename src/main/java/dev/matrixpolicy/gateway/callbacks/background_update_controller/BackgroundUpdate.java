package dev.matrixpolicy.gateway.callbacks.background_update_controller;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;

/**
 * Which background update a batch-size question is about.
 *
 * @param updateName   the background update
 * @param databaseName the database it runs on
 */
public record BackgroundUpdate(String updateName, String databaseName) {
    /** What Synapse uses for both batch sizes when no module controls background updates. */
    public static final int DEFAULT_BATCH_SIZE = 100;
    /** Synapse's default target duration of one iteration ({@code background_updates.update_duration_ms}). */
    public static final int DEFAULT_DURATION_MS = 100;

    static BackgroundUpdate read(JsonArgs json) {
        return new BackgroundUpdate(json.string("update_name"), json.string("database_name"));
    }
}
