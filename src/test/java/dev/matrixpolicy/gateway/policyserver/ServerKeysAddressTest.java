package dev.matrixpolicy.gateway.policyserver;

import static dev.matrixpolicy.gateway.policyserver.KeyWaits.UNHURRIED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import com.sun.net.httpserver.HttpServer;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whoever sends a request names the server whose keys are fetched: where the key fetch may
 * connect (the blocklist, the redirects it follows) and what a failure tells the caller.
 */
class ServerKeysAddressTest {
    private static final IpRanges SYNAPSE_BLOCKLIST = IpRanges.of(IpRanges.SYNAPSE_BLOCKLIST);
    private static final long NOW = 1_700_000_000_000L;

    /** Listens on every interface, so that 127.0.0.2 reaches it as 127.0.0.1 does. */
    private HttpServer server;
    private int port;
    /** Requests by path. */
    private final Map<String, AtomicInteger> asked = new java.util.concurrent.ConcurrentHashMap<>();
    @RegisterExtension
    final LoggedLines logged = LoggedLines.of(ServerKeys.class, Level.DEBUG);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(0), 0);
        server.start();
        port = server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** Answers {@code path} with {@code status}, a {@code Location} if given and {@code body}, counting each request. */
    private void answer(String path, int status, String location, String body) {
        AtomicInteger count = asked.computeIfAbsent(path, any -> new AtomicInteger());
        server.createContext(path, exchange -> {
            count.incrementAndGet();
            if (location != null) {
                exchange.getResponseHeaders().add("Location", location);
            }
            byte[] bytes = body.getBytes();
            exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
    }

    private int asked(String path) {
        return asked.getOrDefault(path, new AtomicInteger()).get();
    }

    private ServerKeys keys(Map<String, URI> addresses, IpRanges blocklist, IpRanges allowlist,
                            Function<String, URI> wellKnown) {
        // a second is ample on loopback, and the TLS handshake a plain HTTP server never answers waits for it
        return new ServerKeys(new ServerKeys.Settings(addresses, Set.of(), List.of(), 10, Duration.ofSeconds(1),
                blocklist, allowlist), () -> Instant.ofEpochMilli(NOW), wellKnown, name -> List.of(),
                NamedTls.platformTrust());
    }

    private ServerKeys keys(IpRanges blocklist, IpRanges allowlist) {
        return keys(Map.of(), blocklist, allowlist, host -> URI.create("http://127.0.0.1:" + port + ServerDiscovery.WELL_KNOWN_PATH));
    }

    private List<String> debugLines() {
        return logged.at(Level.DEBUG);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"127.0.0.1", "localhost", "[::1]"})
    void aServerNamedByALoopbackAddressOrANameResolvingToOneIsNeverAsked(String host) {
        answer(KeyFetcher.KEYS_PATH, 200, null, "{}");
        ServerKeys keys = keys(SYNAPSE_BLOCKLIST, IpRanges.NONE);

        assertThatThrownBy(() -> keys.verifyKey(host + ":" + port, "ed25519:a", NOW, UNHURRIED))
                .isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of " + host + ":" + port);
        assertThat(asked(KeyFetcher.KEYS_PATH)).isZero();
        assertThat(debugLines()).anyMatch(line -> line.startsWith("Could not fetch the keys of " + host + ":" + port + ": ")
                && line.contains("ip-range-blocklist blocks"));
    }

    @Test
    void aWellKnownHostResolvingToABlockedAddressIsNeverAsked() {
        answer(ServerDiscovery.WELL_KNOWN_PATH, 200, null, "{\"m.server\": \"keys.example:443\"}");
        ServerKeys keys = keys(SYNAPSE_BLOCKLIST, IpRanges.NONE);

        assertThatThrownBy(() -> keys.verifyKey("hs.example", "ed25519:a", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class);
        assertThat(asked(ServerDiscovery.WELL_KNOWN_PATH)).isZero();
    }

    @Test
    void anAllowlistedRangeIsAskedDespiteTheBlocklist() {
        answer(KeyFetcher.KEYS_PATH, 500, null, "");
        ServerKeys keys = keys(SYNAPSE_BLOCKLIST, IpRanges.of(List.of("127.0.0.1/32")));

        assertThatThrownBy(() -> keys.verifyKey("127.0.0.1:" + port, "ed25519:a", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class);
        // TLS to a plain HTTP server fails, but the connection was made: not refused by the blocklist
        assertThat(debugLines()).singleElement().asString().startsWith("Could not fetch the keys of 127.0.0.1:" + port)
                .doesNotContain("ip-range-blocklist");
    }

    @Test
    void theUnspecifiedAddressesAreBlockedWhateverTheList() throws IOException {
        ServerKeys.Settings settings = new ServerKeys.Settings(Map.of(), Set.of(), List.of(), 1, Duration.ofSeconds(1),
                IpRanges.NONE, IpRanges.NONE);

        assertThat(settings.blocks(InetAddress.getByName("0.0.0.0"))).isTrue();
        assertThat(settings.blocks(InetAddress.getByName("::"))).isTrue();
        assertThat(settings.blocks(InetAddress.getByName("127.0.0.1"))).isFalse();
    }

    @Test
    void synapsesDefaultBlocklistHoldsLoopbackPrivateLinkLocalAndTestRangesOnly() throws IOException {
        for (String blocked : List.of("127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                "100.64.0.1", "169.254.169.254", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9",
                "192.88.99.1", "224.0.0.1", "::1", "fe80::1", "fd00::1", "fc00::1", "2001:db8::1", "ff02::1", "fec0::1",
                "::ffff:127.0.0.1", "::ffff:10.0.0.1")) {
            assertThat(SYNAPSE_BLOCKLIST.contains(InetAddress.getByName(blocked))).as(blocked).isTrue();
        }
        for (String allowed : List.of("8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "1.1.1.1",
                "2606:4700::1111", "2001:4860::8888")) {
            assertThat(SYNAPSE_BLOCKLIST.contains(InetAddress.getByName(allowed))).as(allowed).isFalse();
        }
    }

    /**
     * Synapse's {@code generate_ip_set} adds to each IPv4 range its IPv4-mapped, IPv4-compatible and 6to4
     * IPv6 forms: a name whose AAAA record is one of those must not reach what the IPv4 range blocks.
     */
    @Test
    void anIpv4RangeAlsoHoldsItsIpv4MappedCompatibleAnd6to4Forms() throws IOException {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 169;
        mapped[13] = (byte) 254;
        mapped[14] = (byte) 169;
        mapped[15] = (byte) 254;
        // as a resolver may hand it over: an Inet6Address, which InetAddress.getByName would have made IPv4
        assertThat(SYNAPSE_BLOCKLIST.contains(Inet6Address.getByAddress("metadata.example", mapped, -1)))
                .as("IPv4-mapped, as an Inet6Address").isTrue();
        for (String blocked : List.of("::127.0.0.1", "::a9fe:a9fe", "::10.1.2.3", "2002:7f00:1::1", "2002:a9fe:a9fe::",
                "2002:c0a8:101:1::5")) {
            assertThat(SYNAPSE_BLOCKLIST.contains(InetAddress.getByName(blocked))).as(blocked).isTrue();
        }
        for (String allowed : List.of("::8.8.8.8", "2002:808:808::1", "2003:7f00:1::1", "::1:7f00:1")) {
            assertThat(SYNAPSE_BLOCKLIST.contains(InetAddress.getByName(allowed))).as(allowed).isFalse();
        }
        IpRanges allowed = IpRanges.of(List.of("10.1.0.0/16"));
        assertThat(allowed.contains(InetAddress.getByName("2002:a01:203::"))).as("an allowlist likewise").isTrue();
        assertThat(allowed.contains(InetAddress.getByName("2002:a02:203::"))).isFalse();
        assertThat(IpRanges.of(List.of("0.0.0.0/0")).contains(InetAddress.getByName("::1")))
                .as("the IPv6 loopback carries no IPv4 address").isFalse();
    }

    @Test
    void rangesAreWrittenInCidrNotationOrAsOneAddress() throws IOException {
        IpRanges ranges = IpRanges.of(List.of("203.0.113.7", "2001:db8:1::/48", "::ffff:10.0.0.0/104", "10.9.8.7/8"));

        assertThat(ranges.contains(InetAddress.getByName("203.0.113.7"))).isTrue();
        assertThat(ranges.contains(InetAddress.getByName("203.0.113.8"))).isFalse();
        assertThat(ranges.contains(InetAddress.getByName("2001:db8:1:ffff::1"))).isTrue();
        assertThat(ranges.contains(InetAddress.getByName("2001:db8:2::1"))).isFalse();
        assertThat(ranges.contains(InetAddress.getByName("10.200.0.1"))).as("host bits ignored, IPv4-mapped").isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0/8", "localhost", "example.org/8",
            "10.0.0.0/8x", " ", "fc00::/7/1"})
    void whatIsNoRangeIsRefusedSayingHowToWriteOne(String cidr) {
        assertThatThrownBy(() -> IpRanges.of(List.of(cidr))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("; write one as 10.0.0.0/8 or fc00::/7");
    }

    @Test
    void aKeyServerAnsweringARedirectIsNotFollowed() {
        answer(KeyFetcher.KEYS_PATH, 302, "/internal", "");
        answer("/internal", 200, null, "{\"secret\": \"internal\"}");
        ServerKeys keys = keys(Map.of("hs.example", URI.create("http://127.0.0.1:" + port)), SYNAPSE_BLOCKLIST,
                IpRanges.NONE, host -> URI.create("http://unused.invalid"));

        assertThatThrownBy(() -> keys.verifyKey("hs.example", "ed25519:a", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of hs.example");
        assertThat(asked(KeyFetcher.KEYS_PATH)).isOne();
        assertThat(asked("/internal")).isZero();
    }

    @Test
    void aFailedFetchTellsTheCallerNothingButTheServerItAskedAndTheAdminWhy() {
        answer(KeyFetcher.KEYS_PATH, 200, null, "{\"server_name\": NaN}");
        URI address = URI.create("http://127.0.0.1:" + port);
        ServerKeys keys = keys(Map.of("nan.example", address), SYNAPSE_BLOCKLIST, IpRanges.NONE,
                host -> URI.create("http://unused.invalid"));

        assertThatThrownBy(() -> keys.verifyKey("nan.example", "ed25519:a", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class)
                .hasMessage("Could not fetch the keys of nan.example");
        assertThat(debugLines()).singleElement().asString().startsWith("Could not fetch the keys of nan.example: ")
                .contains("NaN");
        assertThat(logged.at(Level.WARN)).isEmpty();
        assertThat(logged.at(Level.ERROR)).isEmpty();
    }

    @Test
    void theWellKnownAnswerFollowsRedirectsOnTheSameSchemeUpToFive() {
        answer(ServerDiscovery.WELL_KNOWN_PATH, 301, "/hop1", "");
        for (int hop = 1; hop <= 5; hop++) {
            answer("/hop" + hop, 307, "/hop" + (hop + 1), "");
        }
        answer("/hop6", 200, null, "{\"m.server\": \"127.0.0.1:1\"}");
        answer("/https", 302, "https://127.0.0.1:" + port + "/hop6", "");
        ServerKeys keys = keys(IpRanges.NONE, IpRanges.NONE);

        assertThatThrownBy(() -> keys.verifyKey("hs.example", "ed25519:a", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class);
        assertThat(asked("/hop5")).as("the fifth redirect is followed").isOne();
        assertThat(asked("/hop6")).as("the sixth is not").isZero();

        ServerKeys shorter = keys(Map.of(), IpRanges.NONE, IpRanges.NONE,
                host -> URI.create("http://127.0.0.1:" + port + "/hop2"));
        assertThatThrownBy(() -> shorter.verifyKey("hs.example", "ed25519:a", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class);
        assertThat(asked("/hop6")).as("four redirects are followed").isOne();

        ServerKeys toHttps = keys(Map.of(), IpRanges.NONE, IpRanges.NONE, host -> URI.create("http://127.0.0.1:" + port + "/https"));
        assertThatThrownBy(() -> toHttps.verifyKey("hs.example", "ed25519:a", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class);
        assertThat(asked("/hop6")).as("not to another scheme").isOne();
    }

    @Test
    void eachWellKnownRedirectIsCheckedAgainstTheBlocklist() {
        answer(ServerDiscovery.WELL_KNOWN_PATH, 302, "http://127.0.0.2:" + port + "/redirected", "");
        answer("/redirected", 200, null, "{\"m.server\": \"127.0.0.1:1\"}");
        ServerKeys keys = keys(SYNAPSE_BLOCKLIST, IpRanges.of(List.of("127.0.0.1")));

        assertThatThrownBy(() -> keys.verifyKey("hs.example", "ed25519:a", NOW, UNHURRIED)).isInstanceOf(UnauthorizedException.class);
        assertThat(asked(ServerDiscovery.WELL_KNOWN_PATH)).isOne();
        assertThat(asked("/redirected")).isZero();

        ServerKeys allowingBoth = keys(SYNAPSE_BLOCKLIST, IpRanges.of(List.of("127.0.0.0/8")));
        assertThatThrownBy(() -> allowingBoth.verifyKey("hs.example", "ed25519:a", NOW, UNHURRIED))
                .isInstanceOf(UnauthorizedException.class);
        assertThat(asked("/redirected")).as("127.0.0.2 reaches this server when allowed").isOne();
    }
}
