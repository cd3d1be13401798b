package dev.matrixpolicy.gateway.policylist;

import java.util.Map;
import java.util.Optional;

/**
 * What a rule recommends. Policy rooms carry bans and takedowns, and Meowlnir's unbans; allows
 * otherwise come from the admin's own lists.
 */
public enum Recommendation {
    /** {@code m.ban} (and Mjolnir's {@code org.matrix.mjolnir.ban}). */
    BAN("ban"),
    /** MSC4204's {@code m.takedown} (unstable {@code org.matrix.msc4204.takedown}). */
    TAKEDOWN("takedown"),
    /**
     * An exception to every ban of lower priority: the module's {@code allow} list, a file's
     * {@code allow} line, or Meowlnir's {@code fi.mau.meowlnir.unban} in a policy room (not in the
     * spec: a list's unban keeps a user it names unbanned while other lists ban them).
     */
    ALLOW("allow");

    private static final Map<String, Recommendation> IN_EVENTS = Map.of(
            "m.ban", BAN, "org.matrix.mjolnir.ban", BAN,
            "m.takedown", TAKEDOWN, "org.matrix.msc4204.takedown", TAKEDOWN,
            "fi.mau.meowlnir.unban", ALLOW);

    private final String wireName;

    Recommendation(String wireName) {
        this.wireName = wireName;
    }

    /** {@code ban}, {@code takedown} or {@code allow}: the metric tag, and the word of the line format. */
    public String wireName() {
        return wireName;
    }

    /** The recommendation of a rule event's content; empty for one this gateway does not know. */
    public static Optional<Recommendation> ofEvent(String recommendation) {
        return Optional.ofNullable(IN_EVENTS.get(recommendation));
    }
}
