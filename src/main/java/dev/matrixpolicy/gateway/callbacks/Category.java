package dev.matrixpolicy.gateway.callbacks;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The callback categories, named as in Synapse's {@code register_<category>_callbacks} methods.
 */
public enum Category {
    SPAM_CHECKER,
    THIRD_PARTY_RULES,
    PASSWORD_AUTH_PROVIDER,
    ACCOUNT_VALIDITY,
    PRESENCE_ROUTER,
    ACCOUNT_DATA,
    BACKGROUND_UPDATE_CONTROLLER,
    ADD_EXTRA_FIELDS_TO_UNSIGNED_CLIENT_EVENT,
    /** Synapse 1.132+. */
    MEDIA_REPOSITORY,
    /** Synapse 1.132+. */
    RATELIMIT;

    private static final Map<String, Category> BY_WIRE_NAME = Arrays.stream(values())
            .collect(Collectors.toUnmodifiableMap(Category::wireName, Function.identity()));

    private final String wireName = name().toLowerCase(Locale.ROOT);

    /** The snake_case name used in URLs and metrics, e.g. {@code spam_checker}. */
    public String wireName() {
        return wireName;
    }

    public static Optional<Category> fromWireName(String name) {
        return Optional.ofNullable(BY_WIRE_NAME.get(name));
    }
}
