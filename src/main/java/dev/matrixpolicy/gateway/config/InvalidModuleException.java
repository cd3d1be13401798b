package dev.matrixpolicy.gateway.config;

import java.util.List;

/**
 * A {@code modules} entry cannot be built. Names the entry by position and type, and each bad
 * setting by its key relative to the entry ({@code module}, {@code config.cache_ttl}).
 */
final class InvalidModuleException extends RuntimeException {
    private final String entry;
    private final List<BadSetting> settings;

    InvalidModuleException(int position, String type, List<BadSetting> settings, Throwable cause) {
        super(entry(position, type) + " " + settings.getFirst().summary(), cause);
        this.entry = entry(position, type);
        this.settings = List.copyOf(settings);
    }

    InvalidModuleException(int position, String type, String field, String problem, Throwable cause) {
        this(position, type, List.of(new BadSetting(field, null, null, problem,
                "Correct " + field + " of " + entry(position, type) + ".")), cause);
    }

    private static String entry(int position, String type) {
        return "policy-gateway.modules[" + position + "] (module: " + type + ")";
    }

    String entry() {
        return entry;
    }

    List<BadSetting> settings() {
        return settings;
    }

    /** The first bad setting's key. */
    String field() {
        return settings.getFirst().key();
    }

    /** What is wrong with the first bad setting. */
    String problem() {
        return settings.getFirst().problem();
    }
}
