package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;

/**
 * Where a server (origin or notary) is reached, the spec's "Server discovery": a base URL configured
 * for its name (private federations, tests); otherwise the spec's "Resolving server names": an IP
 * literal or an explicit port is used as is, else {@code /.well-known/matrix/server} may delegate
 * (the delegated name again by IP literal or explicit port), else the SRV record of {@code
 * _matrix-fed._tcp.<name>}, else of the deprecated {@code _matrix._tcp.<name>} ({@code <name>} being
 * the delegated name if there is one), gives target host and port, else port 8448. SRV records are
 * looked up with the JDK's JNDI DNS provider ({@code jdk.naming.dns}); a failed or timed-out lookup
 * counts as no record; of several, the one with the lowest priority and then the highest weight is
 * used. The well-known answer is cached as the spec recommends: for its {@code Cache-Control}
 * max-age, at most {@link #WELL_KNOWN_MAX_CACHE}, else {@link #WELL_KNOWN_DEFAULT_CACHE}; no or a
 * bad answer for {@link #WELL_KNOWN_ERROR_CACHE}; for at most {@link ServerKeys.Settings#maxServers}
 * hosts, least recently used first out. Its redirects are followed, as the spec says: at most {@link
 * #MAX_WELL_KNOWN_REDIRECTS}, each to the same scheme, each hop's host checked against the blocklist
 * by {@link FederationClient}. A well-known lookup cut off by the fetch's deadline is not remembered
 * as an answer.
 */
final class ServerDiscovery {
    /** The key fetch's logger, which docs/policy-server.md tells the admin to switch to DEBUG. */
    private static final Logger log = LoggerFactory.getLogger(ServerKeys.class);
    /** How many redirects a well-known answer may take: a few, as the spec asks to avoid loops. */
    static final int MAX_WELL_KNOWN_REDIRECTS = 5;
    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
    static final String WELL_KNOWN_PATH = "/.well-known/matrix/server";
    static final Duration WELL_KNOWN_DEFAULT_CACHE = Duration.ofHours(24);
    static final Duration WELL_KNOWN_MAX_CACHE = Duration.ofHours(48);
    static final Duration WELL_KNOWN_ERROR_CACHE = Duration.ofHours(1);
    private static final Pattern MAX_AGE = Pattern.compile("(?:^|[,\\s])max-age=\"?([0-9]{1,10})");
    private static final int DEFAULT_PORT = 8448;
    /**
     * A server name's host (a bracketed IPv6 literal, else anything up to a {@code ':'}) and port, the
     * host no longer than the spec's grammar lets one be: a delegation is kept for up to 48 hours for
     * each of the thousands of hosts a caller can name, and a well-known answer may be 64 KB.
     */
    private static final Pattern HOST_AND_PORT = Pattern.compile("(\\[[^]]{1,45}]|[^:]{1,255})(?::([0-9]{1,5}))?");
    /** A host name as an SRV record's target names it, the root ({@code .}, "no such service") excluded. */
    private static final Pattern SRV_TARGET = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*\\.?");

    /**
     * The base URL of a server's federation API, and the host name (or IP literal) its TLS
     * certificate must be valid for: the URL's host, except for an SRV record's target, where it is
     * the name whose record that was.
     *
     * @param configured whether the admin listed the URL ({@link ServerKeys.Settings#addresses}), which
     *                   exempts it from the blocklist; else it was resolved from what a caller named
     */
    record Target(URI base, String tlsName, boolean configured) {
        Target(String host, int port) {
            this(URI.create("https://" + host + ":" + port), host, false);
        }
    }

    /** An SRV record's answer (RFC 2782): {@code target} at {@code port}. */
    record Srv(int priority, int weight, int port, String target) {
    }

    /** A well-known answer: the delegated server name, if any, until {@code expiresAt}. */
    private record Delegation(Optional<String> serverName, long expiresAt) {
    }

    private final Map<String, URI> addresses;
    private final InstantSource clock;
    private final Function<String, URI> wellKnownUri;
    private final Function<String, List<Srv>> srv;
    private final FederationClient http;
    private final Map<String, Delegation> delegations;

    /**
     * @param wellKnownUri where a host's well-known answer is asked for (tests serve it over plain HTTP)
     * @param srv          the SRV records of a DNS name ({@code _matrix-fed._tcp.example.org}); none if it has none
     */
    ServerDiscovery(ServerKeys.Settings settings, InstantSource clock, Function<String, URI> wellKnownUri,
                    Function<String, List<Srv>> srv, FederationClient http) {
        this.addresses = settings.addresses();
        this.clock = clock;
        this.wellKnownUri = wellKnownUri;
        this.srv = srv;
        this.http = http;
        this.delegations = LeastRecentlyUsed.map(settings.maxServers(), dropped -> { });
    }

    /** Where {@code serverName}'s federation API is: as configured, else resolved. */
    Target target(String serverName) {
        return Optional.ofNullable(addresses.get(serverName)).map(uri -> new Target(uri, uri.getHost(), true))
                .orElseGet(() -> resolve(serverName, this::delegation, srv));
    }

    /**
     * The spec's server name resolution: the base URL of {@code serverName}'s federation API, asking
     * {@code wellKnown} (host name → delegated server name) only when the name is neither an IP literal
     * nor has a port, and {@code srv} (DNS name → SRV records) only when neither it nor the delegated
     * name is an IP literal or has a port.
     */
    static Target resolve(String serverName, Function<String, Optional<String>> wellKnown,
                          Function<String, List<Srv>> srv) {
        Matcher name = hostAndPort(serverName);
        return explicit(name).orElseGet(() -> {
            Optional<Matcher> delegated = wellKnown.apply(name.group(1)).map(ServerDiscovery::hostAndPort);
            return delegated.flatMap(ServerDiscovery::explicit)
                    .orElseGet(() -> viaSrv(delegated.orElse(name).group(1), srv));
        });
    }

    /** The base URL of an IP literal or a name with a port, which need no looking up. */
    private static Optional<Target> explicit(Matcher hostAndPort) {
        String host = hostAndPort.group(1);
        if (!MatrixIds.isIpLiteral(host) && hostAndPort.group(2) == null) {
            return Optional.empty();
        }
        int port = hostAndPort.group(2) == null ? DEFAULT_PORT : Integer.parseInt(hostAndPort.group(2));
        return Optional.of(new Target(host, port));
    }

    /**
     * The target of {@code _matrix-fed._tcp.<host>}'s SRV record, else of the deprecated {@code
     * _matrix._tcp.<host>}'s, else {@code host} at port 8448. Of several records, the one with the
     * lowest priority and, among those, the highest weight (RFC 2782 would choose at random, by weight).
     */
    private static Target viaSrv(String host, Function<String, List<Srv>> srv) {
        return Stream.of("_matrix-fed._tcp.", "_matrix._tcp.")
                .flatMap(service -> srv.apply(service + host).stream()
                        .filter(record -> SRV_TARGET.matcher(record.target()).matches())
                        .min(Comparator.comparingInt(Srv::priority).thenComparing(Srv::weight, Comparator.reverseOrder()))
                        .stream())
                .findFirst()
                .map(record -> new Target(URI.create("https://" + record.target().replaceFirst("\\.$", "") + ":"
                        + record.port()), host, false))
                .orElseGet(() -> new Target(host, DEFAULT_PORT));
    }

    /**
     * The SRV records of {@code name} from DNS, by the JDK's JNDI DNS provider; none when there are
     * none or the lookup fails or times out.
     */
    static List<Srv> dnsSrv(String name, Duration timeout) {
        Hashtable<String, String> environment = new Hashtable<>();
        environment.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        environment.put("com.sun.jndi.dns.timeout.initial", Long.toString(Math.max(1, timeout.toMillis())));
        environment.put("com.sun.jndi.dns.timeout.retries", "1");
        DirContext dns = null;
        try {
            dns = new InitialDirContext(environment);
            Attribute records = dns.getAttributes(name, new String[] {"SRV"}).get("SRV");
            List<Srv> found = new ArrayList<>();
            for (NamingEnumeration<?> values = records == null ? null : records.getAll();
                 values != null && values.hasMore(); ) {
                String[] fields = values.next().toString().trim().split("\\s+");
                if (fields.length == 4) {
                    found.add(new Srv(Integer.parseInt(fields[0]), Integer.parseInt(fields[1]),
                            Integer.parseInt(fields[2]), fields[3]));
                }
            }
            return found;
        } catch (NamingException | NumberFormatException noRecords) {
            return List.of();
        } finally {
            closeQuietly(dns);
        }
    }

    private static void closeQuietly(DirContext context) {
        if (context != null) {
            try {
                context.close();
            } catch (NamingException ignored) {
                // nothing to do
            }
        }
    }

    private static Matcher hostAndPort(String serverName) {
        Matcher matcher = HOST_AND_PORT.matcher(serverName);
        if (!matcher.matches()) {
            throw new UnauthorizedException("Not a server name: " + serverName);
        }
        return matcher;
    }

    /** The server name {@code host} delegates to, from the cache or else from its well-known answer. */
    private Optional<String> delegation(String host) {
        long now = clock.millis();
        Delegation cached = delegations.get(host);
        if (cached == null || now >= cached.expiresAt()) {
            cached = wellKnown(host, now);
            delegations.put(host, cached);
        }
        return cached.serverName();
    }

    /**
     * The {@code m.server} of {@code https://<host>/.well-known/matrix/server}, kept for the answer's
     * max-age (capped) or the default; no or a bad answer is kept for {@link #WELL_KNOWN_ERROR_CACHE}.
     */
    private Delegation wellKnown(String host, long now) {
        try {
            FederationClient.JsonAnswer answer = askWellKnown(host);
            String delegated = answer.body().path("m.server").asString(null);
            if (delegated != null && HOST_AND_PORT.matcher(delegated).matches()) {
                return new Delegation(Optional.of(delegated), now + cacheTime(answer.headers()).toMillis());
            }
        } catch (IOException | JacksonException | IllegalArgumentException | UnauthorizedException noDelegation) {
            if (Thread.currentThread().isInterrupted()) {
                // the fetch's deadline, not the host's answer: nothing to remember for an hour
                throw new UnauthorizedException("Fetch deadline reached asking " + host + " for its well-known answer", noDelegation);
            }
            log.debug("No delegation from the well-known answer of {}: {}", host, FederationClient.detail(noDelegation));
        }
        return new Delegation(Optional.empty(), now + WELL_KNOWN_ERROR_CACHE.toMillis());
    }

    /** How long a well-known answer is kept: its {@code Cache-Control} max-age, capped, else the default. */
    static Duration cacheTime(HttpHeaders headers) {
        return headers.allValues("Cache-Control").stream().map(MAX_AGE::matcher).filter(Matcher::find).findFirst()
                .map(maxAge -> Duration.ofSeconds(Math.min(Long.parseLong(maxAge.group(1)), WELL_KNOWN_MAX_CACHE.toSeconds())))
                .orElse(WELL_KNOWN_DEFAULT_CACHE);
    }

    /**
     * The well-known answer of {@code host}, following at most {@link #MAX_WELL_KNOWN_REDIRECTS}
     * redirects, each to the scheme asked first (never from https to http) and each host checked
     * against the blocklist; the certificate must be valid for each hop's host.
     */
    private FederationClient.JsonAnswer askWellKnown(String host) throws IOException {
        URI uri = wellKnownUri.apply(host);
        String tlsName = host;
        for (int redirects = 0; ; redirects++) {
            HttpResponse<InputStream> response = http.exchange(host, tlsName, false, http.request(uri).GET().build());
            Optional<String> location = response.headers().firstValue("Location");
            if (!REDIRECTS.contains(response.statusCode()) || location.isEmpty()) {
                return FederationClient.json(uri, response);
            }
            response.body().close();
            URI next = uri.resolve(location.get());
            if (redirects == MAX_WELL_KNOWN_REDIRECTS || !uri.getScheme().equalsIgnoreCase(next.getScheme())) {
                throw new IOException(uri + " redirected to " + next + " (followed: " + redirects + ")");
            }
            uri = next;
            tlsName = next.getHost();
        }
    }
}
