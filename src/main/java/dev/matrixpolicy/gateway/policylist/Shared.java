package dev.matrixpolicy.gateway.policylist;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One instance of each value that many rules repeat: reasons, senders and source names. A list of a
 * million rules holds a few dozen distinct reasons and moderators, and one copy of each instead of a
 * million saves about a quarter of the heap its rules take.
 *
 * <p>Bounded: texts longer than {@code maxLength} are kept as given, and when {@code maxValues} are
 * held the table starts afresh (a list whose every reason differs must not fill the heap here).
 * Starting afresh only costs sharing; an equal value is as good as the shared one.
 */
final class Shared {
    /** The table the parsers ({@link PolicyEvents}, {@link RuleText}) put every rule's texts through. */
    static final Shared TEXTS = new Shared(4096, 512);

    private final ConcurrentHashMap<Object, Object> values = new ConcurrentHashMap<>();
    private final int maxValues;
    private final int maxLength;

    Shared(int maxValues, int maxLength) {
        this.maxValues = maxValues;
        this.maxLength = maxLength;
    }

    /** The shared instance equal to {@code text}, or {@code text} itself. */
    String text(String text) {
        return text.length() > maxLength ? text : intern(text);
    }

    /** The shared instance equal to an optional text, its text shared too. */
    Optional<String> text(Optional<String> text) {
        if (text.isEmpty() || text.get().length() > maxLength) {
            return text;
        }
        @SuppressWarnings("unchecked") // only intern() puts values in, each under itself
        Optional<String> known = (Optional<String>) values.get(text);
        return known != null ? known : intern(text.map(this::text));
    }

    @SuppressWarnings("unchecked")
    private <T> T intern(T value) {
        Object known = values.get(value);
        if (known != null) {
            return (T) known;
        }
        if (values.size() >= maxValues) {
            values.clear();
        }
        known = values.putIfAbsent(value, value);
        return known != null ? (T) known : value;
    }

    /** How many values are held now (for tests). */
    int size() {
        return values.size();
    }
}
