package dev.matrixpolicy.gateway.modules.staticanswers;

import jakarta.validation.constraints.NotEmpty;
import java.util.Map;

/**
 * Configuration of the {@code static} module.
 *
 * @param results callback name to the fixed answer, of that callback's result type
 * @param error   the human-readable message that goes with rejections
 */
public record StaticConfig(@NotEmpty Map<String, Object> results, String error) {
}
