package dev.matrixpolicy.gateway.policyserver;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/** The bounded maps of the key fetch (keys, back-offs, well-known answers, TLS clients): least recently used first out. */
final class LeastRecentlyUsed {
    private LeastRecentlyUsed() {
    }

    /**
     * A thread-safe map of at most {@code max} entries that drops the least recently used, handing
     * each value it drops to {@code onDrop}.
     */
    static <V> Map<String, V> map(int max, Consumer<V> onDrop) {
        return Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                boolean drop = size() > max;
                if (drop) {
                    onDrop.accept(eldest.getValue());
                }
                return drop;
            }
        });
    }
}
