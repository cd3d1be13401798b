package dev.matrixpolicy.gateway.config;

import java.util.List;
import java.util.Optional;

/**
 * A {@code modules} entry cannot be built. Names the entry by position and type, and each bad
 * setting by its key relative to the entry ({@code module}, {@code config.cache_ttl}).
 */
final class InvalidModuleException extends RuntimeException {
    private final int position;
    private final String entry;
    private final List<BadSetting> settings;
    private final transient Class<?> configType;

    InvalidModuleException(int position, String type, List<BadSetting> settings, Throwable cause) {
        this(position, type, settings, null, cause);
    }

    /**
     * @param configType the record the entry's {@code config:} failed to bind to, so that a failure
     *                   described from {@code policy-gateway} down can still name its keys
     */
    InvalidModuleException(int position, String type, List<BadSetting> settings, Class<?> configType, Throwable cause) {
        super(entry(position, type) + " " + settings.getFirst().summary(), cause);
        this.position = position;
        this.entry = entry(position, type);
        this.settings = List.copyOf(settings);
        this.configType = configType;
    }

    InvalidModuleException(int position, String type, String field, String problem, Throwable cause) {
        this(position, type, List.of(new BadSetting(field, null, null, problem, fix(position, type, field))), cause);
    }

    /** The fix of a setting the entry's module type refused. */
    static String fix(int position, String type, String field) {
        return "Correct " + field + " of " + entry(position, type) + ".";
    }

    private static String entry(int position, String type) {
        return "policy-gateway.modules[" + position + "] (module: " + type + ")";
    }

    String entry() {
        return entry;
    }

    /** The entry's own key, {@code policy-gateway.modules[0]}, under which its settings are written. */
    String entryKey() {
        return "policy-gateway.modules[" + position + "]";
    }

    List<BadSetting> settings() {
        return settings;
    }

    /** The record the entry's {@code config:} was bound to, when binding it is what failed. */
    Optional<Class<?>> configType() {
        return Optional.ofNullable(configType);
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
