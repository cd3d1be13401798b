package dev.matrixpolicy.gateway.matrix;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One spelling for each server name, so that a ban of a server holds however an ID spells it: DNS
 * names in lower case (DNS ignores case), and IPv6 literals in RFC 5952's text form
 * ({@code [2001:DB8:0:0::1]} is {@code [2001:db8::1]}), the port kept as written. A server on an
 * IPv6 address could otherwise dodge a ban by writing its address another way.
 */
public final class ServerNames {
    private static final int GROUPS = 8;

    private ServerNames() {
    }

    /**
     * A server name ({@code host[:port]}) in its one spelling; text that is not a server name comes
     * back lower-cased, nothing more.
     */
    public static String canonical(String serverName) {
        String lower = serverName.toLowerCase(Locale.ROOT);
        int close = lower.indexOf(']');
        if (!lower.startsWith("[") || close < 0) {
            return lower;
        }
        String literal = canonicalIpv6(lower.substring(1, close));
        return literal == null ? lower : "[" + literal + "]" + lower.substring(close + 1);
    }

    /** RFC 5952's form of an IPv6 address written without brackets, or null when it is not one. */
    private static String canonicalIpv6(String text) {
        if (text.isEmpty() || text.indexOf('%') >= 0) { // a zone names an interface, never a server
            return null;
        }
        InetAddress address;
        try {
            address = Inet6Address.ofLiteral(text); // parses the text only, never asks DNS
        } catch (IllegalArgumentException notAnAddress) {
            return null;
        }
        if (address instanceof Inet4Address mapped) { // ::ffff:a.b.c.d, which Java hands back as IPv4
            return "::ffff:" + mapped.getHostAddress();
        }
        return rfc5952(address.getAddress());
    }

    /** Lower-case hex groups without leading zeros, the longest run of two or more zero groups (the first of equals) as {@code ::}. */
    private static String rfc5952(byte[] bytes) {
        int[] groups = new int[GROUPS];
        for (int i = 0; i < GROUPS; i++) {
            groups[i] = (bytes[2 * i] & 0xff) << 8 | bytes[2 * i + 1] & 0xff;
        }
        int runStart = -1;
        int runLength = 1;
        for (int i = 0; i < GROUPS; i++) {
            int end = i;
            while (end < GROUPS && groups[end] == 0) {
                end++;
            }
            if (end - i > runLength) {
                runStart = i;
                runLength = end - i;
            }
            i = Math.max(i, end);
        }
        StringBuilder text = new StringBuilder(39);
        for (int i = 0; i < GROUPS; i++) {
            if (i == runStart) {
                text.append("::");
                i += runLength - 1;
                continue;
            }
            if (!text.isEmpty() && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }

    /**
     * The names a server is held by: as written, its host alone (without the port), and that host
     * without the trailing dot of a fully qualified name ({@code evil.example.} is the host
     * {@code evil.example} to DNS): {@code example.com:8448} and {@code example.com}; {@code
     * example.com.} and {@code example.com}; {@code example.com} alone. So a server cannot dodge a
     * ban of its host by a port or a dot.
     */
    public static List<String> spellings(String server) {
        String host = host(server);
        List<String> names = new ArrayList<>(3);
        names.add(server);
        if (!host.equals(server)) {
            names.add(host);
        }
        if (host.length() > 1 && host.endsWith(".")) {
            names.add(host.substring(0, host.length() - 1));
        }
        return names;
    }

    /**
     * A server name as {@link #spellings} gives it last, port kept: {@code example.com.} is
     * {@code example.com}, {@code example.com.:8448} is {@code example.com:8448}; the name itself when
     * its host has no trailing dot.
     */
    public static String withoutTrailingDot(String server) {
        String host = host(server);
        return host.length() > 1 && host.endsWith(".") ? host.substring(0, host.length() - 1) + server.substring(host.length()) : server;
    }

    /**
     * A server name without its port: {@code example.com} of {@code example.com:8448}, {@code [::1]} of
     * {@code [::1]:8448}. Only digits are a port: what follows the first {@code ':'} of a user ID an
     * appservice made ({@code evil.example:example.org} of {@code @irc_x:evil.example:example.org}, a
     * local user) is no host and port, and is left whole, so that a ban of {@code evil.example} does
     * not reach it.
     */
    public static String host(String server) {
        int port = server.lastIndexOf(':');
        if (port < 0 || port < server.lastIndexOf(']') || port == server.length() - 1) {
            return server;
        }
        for (int i = port + 1; i < server.length(); i++) {
            if (server.charAt(i) < '0' || server.charAt(i) > '9') {
                return server;
            }
        }
        return server.substring(0, port);
    }
}
