package dev.matrixpolicy.gateway.callbacks;

/** Synapse's {@code synapse.spam_checker_api.RegistrationBehaviour}. */
public enum RegistrationBehaviour {
    ALLOW, SHADOW_BAN, DENY
}
