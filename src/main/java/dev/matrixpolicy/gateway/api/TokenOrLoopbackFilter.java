package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.module.RepeatedWarnings;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The access rule of both ports' guarded paths, written once: with a configured token, a caller
 * presents it in the {@code Authorization} header; without one, only loopback callers are answered,
 * judged by the connection's peer address ({@link PeerAddressValve}), never by
 * {@code getRemoteAddr()}, which forwarded-header handling rewrites from a header. Subclasses say
 * which paths they guard, how a token is presented, and how a refusal reads.
 */
abstract class TokenOrLoopbackFilter extends OncePerRequestFilter {
    private final Supplier<Optional<String>> configured;
    /** By address, which a caller chooses: at most 20 WARN lines a 10 s in all. */
    private final RepeatedWarnings warnings = RepeatedWarnings.atMost(20);
    /** The configured text last read and its tokens, split once per configuration, not once per request. */
    private volatile Parsed parsed;

    private record Parsed(String text, Token token) {
    }

    /** @param configured the token in force now: the serving configuration generation's */
    TokenOrLoopbackFilter(Supplier<Optional<String>> configured) {
        this.configured = configured;
    }

    final boolean hasToken() {
        return configured.get().isPresent();
    }

    @Override
    protected final void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        guardedHeaders(response);
        Verdict verdict = sentByAnotherSite(request) ? Verdict.FROM_ANOTHER_SITE : judge(request);
        if (verdict != Verdict.ADMITTED) {
            refused(request, verdict);
        }
        switch (verdict) {
            case ADMITTED -> chain.doFilter(request, response);
            case FROM_ANOTHER_SITE -> refuseForbidden(response, "A browser sent this " + request.getMethod() + " from a page"
                    + " of another site (its Origin or Sec-Fetch-Site says so): refused, so that no web page can act with an"
                    + " admin's credentials or from this machine. Send it from the admin console, curl or the homeserver.");
            case NOT_LOOPBACK -> refuseNonLoopback(response);
            case NAMED_BY_A_NAME -> refuseForbidden(response, "Without a token, loopback callers must address the gateway as"
                    + " localhost or by IP address, not by a name (" + LogText.quoted(request.getServerName()) + "), which a"
                    + " web page could have pointed at this machine. Use http://127.0.0.1 or http://localhost, or configure a token.");
            case NO_CREDENTIAL, WRONG_CREDENTIAL, MALFORMED_CREDENTIAL -> refuseUnauthorized(response, verdict);
        }
    }

    /** What the access rule says of a request ({@link #judge} says all but {@link #FROM_ANOTHER_SITE}, whatever its method and origin). */
    enum Verdict {
        ADMITTED,
        /** A browser sent an unsafe request from a page of another site: refused whatever its credentials. */
        FROM_ANOTHER_SITE,
        /** No token is configured and the caller is not on this machine. */
        NOT_LOOPBACK,
        /** No token is configured, and the loopback caller named the gateway by a name a web page could rebind. */
        NAMED_BY_A_NAME,
        /** A token is configured and the caller presented none. */
        NO_CREDENTIAL,
        /** A token is configured and the caller presented another, or several. */
        WRONG_CREDENTIAL,
        /** A token is configured and the caller's {@code Authorization} header cannot be read (a Basic one not base64 of user:password). */
        MALFORMED_CREDENTIAL
    }

    /** What an {@code Authorization} header presents, as a subclass reads it. */
    sealed interface Presented {
        /** No header, or one of a scheme the subclass does not read. */
        Presented NOTHING = new Nothing();

        record Nothing() implements Presented {
        }

        record Credential(String token) implements Presented {
        }

        /** A header of a scheme the subclass reads that holds no credential it can read. */
        record Malformed() implements Presented {
        }
    }

    /** The access rule, applied to a request: whether its caller is one the guarded paths answer. */
    final Verdict judge(HttpServletRequest request) {
        Optional<Token> token = configured.get().map(this::token);
        if (token.isEmpty()) {
            if (!PeerAddressValve.isLoopback(request)) {
                return Verdict.NOT_LOOPBACK;
            }
            return namesThisMachine(request.getServerName()) ? Verdict.ADMITTED : Verdict.NAMED_BY_A_NAME;
        }
        // Authorization is one header: a request with two is no valid credential, whichever comes first
        Enumeration<String> headers = request.getHeaders(HttpHeaders.AUTHORIZATION);
        Presented presented = presented(headers.hasMoreElements() ? headers.nextElement() : null);
        if (headers.hasMoreElements()) {
            return Verdict.WRONG_CREDENTIAL;
        }
        return switch (presented) {
            case Presented.Credential credential when token.get().matches(credential.token()) -> Verdict.ADMITTED;
            case Presented.Credential other -> Verdict.WRONG_CREDENTIAL;
            case Presented.Malformed malformed -> Verdict.MALFORMED_CREDENTIAL;
            case Presented.Nothing nothing -> Verdict.NO_CREDENTIAL;
        };
    }

    private Token token(String text) {
        Parsed last = parsed;
        if (last == null || !last.text().equals(text)) { // a reload changed it
            last = new Parsed(text, new Token(text));
            parsed = last;
        }
        return last.token();
    }

    /**
     * Whether a browser sent an unsafe request (not GET, HEAD or OPTIONS) from a page of another site:
     * its {@code Sec-Fetch-Site} says {@code cross-site} or {@code same-site}; or, from a browser too
     * old to send that header, its {@code Origin} names another host and port than its {@code Host}
     * ({@code null} included, a sandboxed page's). The browser's own word comes first: behind a proxy
     * that rewrites {@code Host}, the console's requests are still {@code same-origin}. A cached Basic
     * login is sent with a cross-site form or {@code fetch}, which needs no CORS preflight when it
     * posts text or nothing. Homeservers and curl send neither header.
     */
    static boolean sentByAnotherSite(HttpServletRequest request) {
        String method = request.getMethod();
        if (method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")) {
            return false;
        }
        String site = request.getHeader("Sec-Fetch-Site");
        if (site != null) {
            return site.equalsIgnoreCase("cross-site") || site.equalsIgnoreCase("same-site");
        }
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (origin == null) {
            return false;
        }
        int authority = origin.indexOf("://");
        String host = request.getHeader(HttpHeaders.HOST);
        return authority < 0 || host == null || !origin.substring(authority + 3).equalsIgnoreCase(host);
    }

    /**
     * Whether a loopback caller addressed the gateway so that no web page could have: as
     * {@code localhost} or by an IP address. A page that rebinds its own name to 127.0.0.1 (DNS
     * rebinding) sends that name in {@code Host}, and would otherwise read the answers as its own.
     */
    static boolean namesThisMachine(String serverName) {
        int length = serverName.length();
        return serverName.equalsIgnoreCase("localhost")
                || (length > 10 && serverName.regionMatches(true, length - 10, ".localhost", 0, 10))
                || MatrixIds.isIpLiteral(serverName);
    }

    /** Told of each request refused by the access rule, before it is answered; nothing by default. */
    void refused(HttpServletRequest request, Verdict verdict) {
    }

    /**
     * Logs a refusal as one WARN line a {@value RepeatedWarnings#INTERVAL_SECONDS} s for each caller's
     * address, which it names (and counts those it folded into DEBUG): someone guessing, or a client
     * left with an old token, is seen in the log without burying it at the request rate.
     *
     * @param message the line, whose two {@code {}} are the caller's address and the path it asked for
     */
    final void warnRefused(Logger log, HttpServletRequest request, String message) {
        String peer = PeerAddressValve.of(request).orElse("an unknown address");
        RepeatedWarnings.Line line = warnings.line(log, peer); // each address named, whoever else guesses
        line.event().addKeyValue("peer", peer)
                .log(line.withOmitted(message), peer, LogText.quoted(PolicyApiServlet.routedPath(request)));
    }

    /** Headers every answer of a guarded path carries, refusals included; none by default. */
    void guardedHeaders(HttpServletResponse response) {
    }

    /** What an {@code Authorization} header ({@code null} when there is none) presents. */
    abstract Presented presented(String authorization);

    /**
     * A header's text as the client wrote it, in UTF-8: the container reads a header's bytes as
     * ISO-8859-1, one character a byte, and a token is compared as UTF-8 (as a Basic password, which
     * is decoded so, and as our Synapse module sends it). Without this a token that is not ASCII
     * could never match; with it, it matches whichever way it is presented.
     */
    static String asUtf8(String headerText) {
        return new String(headerText.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /** No token is configured and the caller is not on this machine. */
    abstract void refuseNonLoopback(HttpServletResponse response) throws IOException;

    /** A 403 for a request refused whoever sent it: from another site's page, or to a name a page could rebind. */
    abstract void refuseForbidden(HttpServletResponse response, String reason) throws IOException;

    /** A token is configured and the caller presented none, another, or a header that cannot be read ({@code verdict}). */
    abstract void refuseUnauthorized(HttpServletResponse response, Verdict verdict) throws IOException;
}
