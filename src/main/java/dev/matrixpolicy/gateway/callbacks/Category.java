package dev.matrixpolicy.gateway.callbacks;

import java.util.Arrays;
import java.util.Optional;

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
    ADD_EXTRA_FIELDS_TO_UNSIGNED_CLIENT_EVENT;

    private final String wireName = name().toLowerCase(java.util.Locale.ROOT);

    /** The snake_case name used in URLs and metrics, e.g. {@code spam_checker}. */
    public String wireName() {
        return wireName;
    }

    public static Optional<Category> fromWireName(String name) {
        return Arrays.stream(values()).filter(c -> c.wireName.equals(name)).findFirst();
    }
}
