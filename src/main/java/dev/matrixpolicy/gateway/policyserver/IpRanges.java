package dev.matrixpolicy.gateway.policyserver;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * IP address ranges in CIDR notation ({@code 10.0.0.0/8}, {@code fc00::/7}; a lone address is a
 * range of one): which addresses a key fetch may not reach. An IPv6 address that carries an IPv4
 * one also matches the IPv4 ranges holding that: IPv4-mapped ({@code ::ffff:127.0.0.1}, which a
 * resolver may hand over as an IPv6 address, though the JDK reads the literal as IPv4),
 * IPv4-compatible ({@code ::127.0.0.1}) and 6to4 ({@code 2002:7f00:1::}), as Synapse's {@code
 * generate_ip_set} adds those forms of every IPv4 range to its block and allow lists.
 */
public final class IpRanges {
    private static final Pattern DOTTED_QUAD = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    /**
     * Synapse's default {@code ip_range_blacklist} / {@code federation_ip_range_blocklist}
     * ({@code synapse/config/server.py}): loopback, private, carrier-grade NAT, link-local, test,
     * multicast and 6to4-relay ranges, IPv4 and IPv6.
     */
    public static final List<String> SYNAPSE_BLOCKLIST = List.of(
            "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "192.0.0.0/24",
            "169.254.0.0/16", "192.88.99.0/24", "198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
            "224.0.0.0/4", "::1/128", "fe80::/10", "fc00::/7", "2001:db8::/32", "ff00::/8", "fec0::/10");
    /**
     * Blocked whatever the list says, as Synapse adds them to any blocklist: the unspecified
     * addresses, which reach this very host.
     */
    static final IpRanges UNSPECIFIED = of(List.of("0.0.0.0/32", "::/128"));
    public static final IpRanges NONE = of(List.of());

    /** One range: the first {@code prefixLength} bits of {@code network}. */
    private record Range(byte[] network, int prefixLength) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int whole = prefixLength / 8;
            for (int i = 0; i < whole; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefixLength % 8;
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return rest == 0 || (address[whole] & mask) == (network[whole] & mask);
        }
    }

    private final List<Range> ranges;
    private final List<String> written;

    private IpRanges(List<Range> ranges, List<String> written) {
        this.ranges = List.copyOf(ranges);
        this.written = List.copyOf(written);
    }

    /**
     * The ranges written in CIDR notation.
     *
     * @throws IllegalArgumentException naming the first entry that is no range, and why
     */
    public static IpRanges of(List<String> cidrs) {
        List<Range> ranges = new ArrayList<>();
        for (String cidr : cidrs) {
            ranges.add(range(cidr));
        }
        return new IpRanges(ranges, cidrs);
    }

    private static Range range(String cidr) {
        if (cidr == null || cidr.isBlank()) {
            throw new IllegalArgumentException("an empty entry is no IP range; write one as 10.0.0.0/8 or fc00::/7");
        }
        int slash = cidr.indexOf('/');
        String literal = slash < 0 ? cidr : cidr.substring(0, slash);
        InetAddress address;
        try {
            if (literal.indexOf(':') < 0 && !DOTTED_QUAD.matcher(literal).matches()) {
                throw new IllegalArgumentException("not four numbers"); // ofLiteral would take 10.0.0 for 10.0.0.0
            }
            address = InetAddress.ofLiteral(literal); // never a DNS lookup
        } catch (IllegalArgumentException notAnAddress) {
            throw notARange(cidr, "'" + literal + "' is no IP address");
        }
        int bits = address.getAddress().length * 8;
        // ::ffff:a.b.c.d/n reads as the IPv4 address: its prefix counts the 96 bits before it too
        int offset = address instanceof Inet4Address && literal.indexOf(':') >= 0 ? 96 : 0;
        int prefixLength = bits;
        if (slash >= 0) {
            String prefix = cidr.substring(slash + 1);
            if (!prefix.matches("[0-9]{1,3}")
                    || Integer.parseInt(prefix) - offset < 0 || Integer.parseInt(prefix) - offset > bits) {
                throw notARange(cidr, "the prefix length after '/' must be 0 to " + (bits + offset));
            }
            prefixLength = Integer.parseInt(prefix) - offset;
        }
        return new Range(address.getAddress(), prefixLength);
    }

    private static IllegalArgumentException notARange(String cidr, String why) {
        return new IllegalArgumentException("'" + cidr + "' is no IP range in CIDR notation: " + why
                + "; write one as 10.0.0.0/8 or fc00::/7");
    }

    /** Whether {@code address}, or the IPv4 address it carries, is in one of the ranges. */
    public boolean contains(InetAddress address) {
        byte[] bytes = address.getAddress();
        Optional<byte[]> ipv4 = carriedIpv4(bytes);
        return ranges.stream().anyMatch(range -> range.contains(bytes) || ipv4.filter(range::contains).isPresent());
    }

    /**
     * The IPv4 address an IPv6 one carries: its last 32 bits in an IPv4-mapped ({@code ::ffff:0:0/96})
     * or IPv4-compatible ({@code ::/96}, but for {@code ::/104}) address, bits 16 to 48 in a 6to4 one
     * ({@code 2002::/16}).
     */
    private static Optional<byte[]> carriedIpv4(byte[] address) {
        if (address.length != 16) {
            return Optional.empty();
        }
        if (address[0] == 0x20 && address[1] == 0x02) {
            return Optional.of(Arrays.copyOfRange(address, 2, 6));
        }
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return Optional.empty();
            }
        }
        boolean mapped = address[10] == (byte) 0xff && address[11] == (byte) 0xff;
        // not :: and ::1 (nor the rest of ::/104): an allowlisted 0.0.0.0/0 must not take the IPv6 loopback with it
        boolean compatible = address[10] == 0 && address[11] == 0 && address[12] != 0;
        return mapped || compatible ? Optional.of(Arrays.copyOfRange(address, 12, 16)) : Optional.empty();
    }

    @Override
    public String toString() {
        return String.join(", ", written);
    }
}
