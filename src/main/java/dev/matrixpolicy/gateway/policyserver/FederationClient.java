package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.replies.ReplyCap;
import dev.matrixpolicy.gateway.replies.ReplyTooLargeException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import tools.jackson.databind.JsonNode;

/**
 * The requests of a key fetch to other servers (their keys, a notary's, a well-known answer): which
 * hosts may be reached, which TLS certificate is taken, how much of an answer is read.
 *
 * <p>TLS, except for server names listed in {@link ServerKeys.Settings#selfSigned} (any certificate
 * then): the certificate must chain to the platform's trust anchors and be valid for the name the
 * spec says, the host of the server name or of the delegated name, also where an SRV record sent us
 * to another host, as Synapse checks it ({@link ServerDiscovery.Target#tlsName}). The JDK's {@link
 * HttpClient} checks the certificate against the URL's host and sends that as SNI, whatever its
 * {@code SSLParameters} say; so a request to an SRV target goes through a client of its own for that
 * name ({@link NamedTls}, one per name, at most {@link #MAX_NAMED_CLIENTS}, least recently used first
 * out: each holds a thread), which sends the name as SNI and checks the certificate against it
 * (subjectAltName only, RFC 6125 wildcards).
 *
 * <p>Not as the spec says: the JDK's {@link HttpClient} takes the {@code Host} header from the URL
 * and does not let a request set it (nor HTTP/2's {@code :authority}) unless the system property
 * {@code jdk.httpclient.allowRestrictedHeaders} says so, which this class leaves alone. So where the
 * spec wants {@code Host: <name>} (the server name, or the delegated one), this class sends:
 * <ul>
 *   <li>for an SRV record: {@code Host: <target>:<port>} (without the port if 443). A server that
 *   answers key requests only for {@code Host: <name>} cannot be fetched from (Synapse answers
 *   them whatever the {@code Host});</li>
 *   <li>for a name used at the default port 8448, or an IP literal without a port: {@code
 *   Host: <name>:8448} rather than {@code <name>}.</li>
 * </ul>
 * An explicit port, and a delegated name with one, give what the spec wants.
 *
 * <p>Since whoever sends a request also chooses where we connect, no host is reached by name
 * resolution (the origin, its well-known host, a delegated name, an SRV target, a notary) when any
 * of its addresses is in {@link ServerKeys.Settings#blocklist} and not in {@link
 * ServerKeys.Settings#allowlist}, nor ever at {@code 0.0.0.0} or {@code ::}, as Synapse's {@code
 * federation_ip_range_blocklist}; only the base URLs the admin lists ({@link
 * ServerKeys.Settings#addresses}) are exempt. The host is resolved here, all of its addresses
 * checked, and the JDK's client then connects by name: it resolves it again, from the JDK's DNS cache
 * ({@code networkaddress.cache.ttl}, 30 s by default), so a DNS answer changed between the check and
 * the connection (rebinding) gets through only if the cached entry expires in that instant.
 * Connecting to the checked address itself would need a {@code Host} header the JDK's client will
 * not let us set. No redirect is followed here; {@link ServerDiscovery} follows those of a
 * well-known answer, each hop checked as above.
 */
final class FederationClient {
    /** How many servers' own TLS clients (for SRV targets) are kept: each holds a selector thread. */
    static final int MAX_NAMED_CLIENTS = 64;
    /**
     * A server's keys, a notary's answer for one server, a {@code .well-known}: a few KB at most. Fixed,
     * not a setting: a larger answer is a broken or hostile server, never a bigger deployment.
     */
    private static final ReplyCap MAX_RESPONSE = new ReplyCap("the key-fetch reply limit", 64 * 1024);

    /** A JSON answer with its headers. */
    record JsonAnswer(JsonNode body, HttpHeaders headers) {
    }

    private final ServerKeys.Settings settings;
    private final X509TrustManager trust;
    private final HttpClient verifying;
    private final HttpClient trustingAnyCertificate;
    /** A client by the name that certificates must be valid for, for SRV targets. */
    private final Map<String, HttpClient> expectingName;

    /**
     * @param trust which certificate chains are trusted: the platform's trust manager, an {@link
     *              X509ExtendedTrustManager} that does endpoint identification too (tests trust their own)
     */
    FederationClient(ServerKeys.Settings settings, X509ExtendedTrustManager trust) {
        this.settings = settings;
        this.trust = trust;
        this.verifying = client(settings.timeout(), NamedTls.context(trust));
        this.trustingAnyCertificate = client(settings.timeout(), trustingAnyCertificate());
        this.expectingName = LeastRecentlyUsed.map(Math.min(settings.maxServers(), MAX_NAMED_CLIENTS), HttpClient::shutdown);
    }

    /** A request to {@code uri} that times out after {@link ServerKeys.Settings#timeout}. */
    HttpRequest.Builder request(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(settings.timeout());
    }

    /**
     * Sends {@code request} to server {@code serverName}, whose TLS certificate must be valid for
     * {@code tlsName} unless the server name is listed as self-signed; unless its host was resolved
     * from what a caller named ({@code configured} false) and one of its addresses is blocked.
     * Redirects are answers like any other.
     */
    HttpResponse<InputStream> exchange(String serverName, String tlsName, boolean configured, HttpRequest request)
            throws IOException {
        URI uri = request.uri();
        if (!configured) {
            requireNoBlockedAddress(uri);
        }
        HttpClient client = client(serverName, uri, tlsName);
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while asking " + uri, interrupted);
        }
    }

    /**
     * Refuses a URL whose host has any address the settings block, resolving it here: every address,
     * since the JDK's client may connect to any of them.
     */
    private void requireNoBlockedAddress(URI uri) throws IOException {
        String host = uri.getHost();
        if (host == null) {
            throw new IOException("No host name in " + uri);
        }
        for (InetAddress address : InetAddress.getAllByName(host)) {
            if (settings.blocks(address)) {
                throw new IOException(host + " resolves to " + address.getHostAddress()
                        + ", which the policy server's ip-range-blocklist blocks");
            }
        }
    }

    /** The JSON of a 200 answer, within the reply cap. */
    static JsonAnswer json(URI uri, HttpResponse<InputStream> response) throws IOException {
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                throw new IOException(uri + " answered " + response.statusCode());
            }
            byte[] bytes;
            try {
                bytes = MAX_RESPONSE.read(body, response.headers().firstValueAsLong("Content-Length").orElse(-1));
            } catch (ReplyTooLargeException tooLarge) {
                throw new IOException(uri + " answered a " + tooLarge.getMessage(), tooLarge);
            }
            return new JsonAnswer(Json.MAPPER.readTree(bytes), response.headers());
        }
    }

    /** An exception and its causes, for the log: it may quote what a server answered, so escaped. */
    static String detail(Throwable failure) {
        StringBuilder detail = new StringBuilder(String.valueOf(failure));
        for (Throwable cause = failure.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            detail.append("; caused by ").append(cause);
        }
        return LogText.escaped(detail.toString());
    }

    /**
     * The client for a request to {@code uri} whose certificate must be valid for {@code tlsName}:
     * the one trusting any certificate for a self-signed server name, the JDK's usual checks where
     * {@code tlsName} is the URL's host, else the one (cached) for {@code tlsName}.
     */
    private HttpClient client(String serverName, URI uri, String tlsName) throws IOException {
        if (settings.selfSigned().contains(serverName)) {
            return trustingAnyCertificate;
        }
        if (tlsName.equalsIgnoreCase(uri.getHost())) {
            return verifying;
        }
        try {
            return expectingName.computeIfAbsent(tlsName.toLowerCase(Locale.ROOT),
                    name -> client(settings.timeout(), NamedTls.context(name, trust)));
        } catch (IllegalArgumentException notAHostName) {
            throw new IOException("Cannot ask for a TLS certificate for " + tlsName, notAHostName);
        }
    }

    private static HttpClient client(Duration timeout, SSLContext tls) {
        // Never follows a redirect itself: a server could send us to any address (ServerDiscovery follows a well-known's, checked)
        return HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                .sslContext(tls).build();
    }

    /**
     * TLS that takes any certificate and, being an {@link X509ExtendedTrustManager}, skips the host
     * name check too: for the server names configured as self-signed only.
     */
    private static SSLContext trustingAnyCertificate() {
        X509ExtendedTrustManager anyCertificate = new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        return NamedTls.context(anyCertificate);
    }
}
