package dev.matrixpolicy.gateway.modules.denylist;

/**
 * What the web layer may ask a {@code user_denylist} instance, for
 * {@code GET /v1/modules/{name}/is_evil}: the module's one public type, so that the endpoint lives
 * with the other web code and the rest of the module stays package-private.
 */
public interface Denylist {

    /** The module type's name, the {@code module:} value of its entries. */
    String MODULE_TYPE = "user_denylist";

    /** Whether the user is on the list. */
    boolean isListed(String userId);
}
