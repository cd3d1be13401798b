package dev.matrixpolicy.gateway.modules.policylist;

import java.util.List;

/** The server names a server rule is checked against for an ID: its server, and without a port too. */
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

    /** For {@code example.com:8448}: {@code example.com:8448} and {@code example.com}; for {@code example.com}, itself. */
    static List<String> ofName(String server) {
        int port = server.lastIndexOf(':');
        boolean ipv6Only = server.startsWith("[") && server.endsWith("]");
        if (port < 0 || ipv6Only || port < server.lastIndexOf(']')) {
            return List.of(server);
        }
        return List.of(server, server.substring(0, port));
    }
}
