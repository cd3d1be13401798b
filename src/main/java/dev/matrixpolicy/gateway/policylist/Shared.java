package dev.matrixpolicy.gateway.policylist;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One instance of each value that many rules repeat: reasons, senders and source names. A list of a
 * million rules holds a few dozen distinct reasons and moderators, and one copy of each instead of a
 * million saves a third of the heap its rules take.
 *
 * <p>Bounded: values longer than {@link #MAX_LENGTH} are kept as given, and when {@link #MAX_VALUES}
 * are held the table starts afresh (a list whose every reason differs must not fill the heap here).
 * Starting afresh only costs sharing; an equal value is as good as the shared one.
 */
final class Shared {
    static final int MAX_VALUES = 4096;
    static final int MAX_LENGTH = 512;

    private static final ConcurrentHashMap<Object, Object> VALUES = new ConcurrentHashMap<>();

    private Shared() {
    }

    /** The shared instance equal to {@code text}, or {@code text} itself. */
    static String text(String text) {
        return text.length() > MAX_LENGTH ? text : intern(text);
    }

    /** The shared instance equal to an optional text, its text shared too. */
    static Optional<String> text(Optional<String> text) {
        return text.isEmpty() || text.get().length() > MAX_LENGTH ? text : intern(text.map(Shared::text));
    }

    @SuppressWarnings("unchecked")
    private static <T> T intern(T value) {
        Object known = VALUES.get(value);
        if (known != null) {
            return (T) known;
        }
        if (VALUES.size() >= MAX_VALUES) {
            VALUES.clear();
        }
        known = VALUES.putIfAbsent(value, value);
        return known != null ? (T) known : value;
    }

    /** How many values are held now (for tests). */
    static int size() {
        return VALUES.size();
    }
}
