package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The spec's "Resolving server names": IP literals and ports, well-known delegation and its cache time, SRV records. */
class ServerDiscoveryTest {
    @Test
    void theWellKnownCacheTimeIsItsMaxAgeAtMostFortyEightHoursElseOneDay() {
        assertThat(ServerDiscovery.cacheTime(headers("public, max-age=3600"))).isEqualTo(Duration.ofHours(1));
        assertThat(ServerDiscovery.cacheTime(headers("max-age=31536000"))).isEqualTo(ServerDiscovery.WELL_KNOWN_MAX_CACHE);
        assertThat(ServerDiscovery.cacheTime(headers("no-cache"))).isEqualTo(ServerDiscovery.WELL_KNOWN_DEFAULT_CACHE);
        assertThat(ServerDiscovery.cacheTime(HttpHeaders.of(Map.of(), (name, value) -> true)))
                .isEqualTo(ServerDiscovery.WELL_KNOWN_DEFAULT_CACHE);
    }

    private static HttpHeaders headers(String cacheControl) {
        return HttpHeaders.of(Map.of("Cache-Control", List.of(cacheControl)), (name, value) -> true);
    }

    @Test
    void serverNamesResolveAsTheSpecSays() {
        Map<String, String> delegations = Map.of("delegating.example", "target.example", "ported.example", "target.example:443",
                "ip.example", "10.0.0.1", "to-srv.example", "srv.example");
        Map<String, List<ServerDiscovery.Srv>> srv = Map.of(
                "_matrix-fed._tcp.srv.example", List.of(new ServerDiscovery.Srv(10, 50, 8443, "far.example."),
                        new ServerDiscovery.Srv(5, 1, 443, "light.example."), new ServerDiscovery.Srv(5, 9, 8000, "heavy.example.")),
                "_matrix._tcp.srv.example", List.of(new ServerDiscovery.Srv(0, 0, 1, "deprecated.example.")),
                "_matrix._tcp.legacy.example", List.of(new ServerDiscovery.Srv(0, 0, 1234, "old.example")),
                "_matrix-fed._tcp.unavailable.example", List.of(new ServerDiscovery.Srv(0, 0, 0, ".")),
                "_matrix-fed._tcp.target.example", List.of(new ServerDiscovery.Srv(0, 0, 1, "target-srv.example.")));
        Function<String, ServerDiscovery.Target> target = name -> ServerDiscovery.resolve(name,
                host -> Optional.ofNullable(delegations.get(host)), record -> srv.getOrDefault(record, List.of()));
        UnaryOperator<String> resolve = name -> target.apply(name).base().toString();
        assertThat(resolve.apply("1.2.3.4")).isEqualTo("https://1.2.3.4:8448");
        assertThat(resolve.apply("[::1]:8000")).isEqualTo("https://[::1]:8000");
        assertThat(resolve.apply("delegating.example:1234")).isEqualTo("https://delegating.example:1234");
        assertThat(resolve.apply("srv.example:1234")).as("a port: no SRV").isEqualTo("https://srv.example:1234");
        assertThat(resolve.apply("ported.example")).isEqualTo("https://target.example:443");
        assertThat(resolve.apply("ip.example")).isEqualTo("https://10.0.0.1:8448");
        assertThat(resolve.apply("plain.example")).isEqualTo("https://plain.example:8448");
        assertThat(resolve.apply("srv.example")).as("lowest priority, then highest weight")
                .isEqualTo("https://heavy.example:8000");
        assertThat(resolve.apply("to-srv.example")).as("the delegated name's SRV").isEqualTo("https://heavy.example:8000");
        assertThat(resolve.apply("delegating.example")).as("the delegated name's, not the delegating's")
                .isEqualTo("https://target-srv.example:1");
        assertThat(resolve.apply("legacy.example")).isEqualTo("https://old.example:1234");
        assertThat(resolve.apply("unavailable.example")).as("target . is no record").isEqualTo("https://unavailable.example:8448");
        assertThat(Stream.of("1.2.3.4", "[::1]:8000", "ported.example", "ip.example", "plain.example", "srv.example",
                "to-srv.example", "delegating.example", "legacy.example").map(name -> target.apply(name).tlsName()))
                .as("the certificate's name: the server name's or delegated name's host, not an SRV target")
                .containsExactly("1.2.3.4", "[::1]", "target.example", "10.0.0.1", "plain.example", "srv.example",
                        "srv.example", "target.example", "legacy.example");
    }

    /**
     * A well-known answer may be 64 KB, and what it delegates to is kept for up to 48 hours for each
     * of the thousands of hosts a caller can name: a name longer than a server name may be (a DNS
     * name of 255 characters, a port) is no delegation, and is not kept.
     */
    @Test
    void aDelegationToANameLongerThanAServerNameIsNone() throws IOException {
        String longest = "y".repeat(247) + ".example";
        Map<String, String> delegations = Map.of("long.example", "x".repeat(60_000) + ".example:1",
                "longest.example", longest + ":1");
        HttpServer wellKnown = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        wellKnown.createContext("/", exchange -> {
            byte[] body = Json.MAPPER.writeValueAsBytes(Map.of("m.server", delegations.get(exchange.getRequestURI().getPath().substring(1))));
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        wellKnown.start();
        try {
            ServerKeys.Settings settings = new ServerKeys.Settings(Map.of(), Set.of(), List.of(), 10, Duration.ofSeconds(5),
                    IpRanges.NONE, IpRanges.NONE);
            URI base = URI.create("http://127.0.0.1:" + wellKnown.getAddress().getPort() + "/");
            ServerDiscovery discovery = new ServerDiscovery(settings, Instant::now, base::resolve, name -> List.of(),
                    new FederationClient(settings, NamedTls.platformTrust()));

            assertThat(discovery.target("long.example").base()).hasToString("https://long.example:8448");
            assertThat(discovery.target("longest.example").base()).hasToString("https://" + longest + ":1");
        } finally {
            wellKnown.stop(0);
        }
    }

    @Test
    void aFailedSrvLookupMeansNoRecords() {
        assertThat(ServerDiscovery.dnsSrv("not..a.name", Duration.ofSeconds(1))).isEmpty();
    }
}
