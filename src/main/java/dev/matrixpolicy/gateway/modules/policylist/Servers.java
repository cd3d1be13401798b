package dev.matrixpolicy.gateway.modules.policylist;

import dev.matrixpolicy.gateway.matrix.ServerNames;
import java.util.List;

/**
 * The server names a server rule is checked against for an ID: its server, without a port too, and
 * without the trailing dot of a fully qualified name: {@code evil.example.} is the host
 * {@code evil.example} to DNS, so a server that names itself so cannot dodge a ban of
 * {@code evil.example}.
 */
final class Servers {
    private Servers() {
    }

    /** For {@code @a:example.com:8448}: {@code example.com:8448} and {@code example.com}; none for an ID without a server. */
    static List<String> of(String id) {
        int colon = id.indexOf(':');
        if (colon < 0 || colon == id.length() - 1) {
            return List.of();
        }
        return ofName(id.substring(colon + 1));
    }

    /**
     * For {@code example.com:8448}: {@code example.com:8448} and {@code example.com}; for
     * {@code example.com.}, that and {@code example.com}; for {@code example.com}, itself.
     */
    static List<String> ofName(String server) {
        return ServerNames.spellings(server);
    }

}
