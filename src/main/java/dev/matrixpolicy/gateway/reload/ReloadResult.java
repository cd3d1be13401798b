package dev.matrixpolicy.gateway.reload;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * How one reload ended.
 *
 * @param outcome    what happened
 * @param generation the generation serving afterwards
 * @param trigger    what asked for it: {@code file} (a watched file changed) or {@code request}
 * @param at         when it ended
 * @param problem    why the configuration was refused, as startup would say it; empty unless failed
 * @param restartNeeded the settings read at startup only that the configuration now gives otherwise,
 *                   by key ({@code server.port}, {@code policy-gateway.state}): a restart applies them
 */
public record ReloadResult(Outcome outcome, long generation, String trigger, Instant at, Optional<String> problem,
                           List<String> restartNeeded) {
    public ReloadResult {
        restartNeeded = List.copyOf(restartNeeded);
    }

    public enum Outcome {
        /** A new generation serves. */
        RELOADED,
        /** The configuration read the same as the serving one: nothing was built. */
        UNCHANGED,
        /** The configuration would not start the gateway: the serving generation goes on. */
        FAILED;

        public String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
