package dev.matrixpolicy.gateway.callbacks;

import java.util.Set;

/** The bounded set of outcome labels used in metrics and logs. */
public final class Outcomes {
    public static final String ALLOW = "allow";
    public static final String DENY = "deny";
    public static final String SHADOW_BAN = "shadow_ban";
    public static final String REPLACE = "replace";
    public static final String VALUE = "value";
    public static final String NONE = "none";
    public static final String ALL_USERS = "all_users";
    public static final String NOTIFIED = "notified";
    /** The chain stopped because a module failed closed. */
    public static final String ERROR = "error";

    private static final Set<String> REJECTIONS = Set.of(DENY, SHADOW_BAN);

    private Outcomes() {
    }

    /** Whether the outcome refuses what the homeserver asked about; such decisions are logged at INFO. */
    public static boolean isRejection(String outcome) {
        return REJECTIONS.contains(outcome);
    }
}
