package dev.matrixpolicy.gateway.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.Optional;
import java.util.function.Supplier;
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
        Optional<Token> token = configured.get().map(this::token);
        if (token.isEmpty()) {
            if (PeerAddressValve.isLoopback(request)) {
                chain.doFilter(request, response);
            } else {
                refuseNonLoopback(response);
            }
            return;
        }
        // Authorization is one header: a request with two is no valid credential, whichever comes first
        Enumeration<String> headers = request.getHeaders(HttpHeaders.AUTHORIZATION);
        Optional<String> presented = presented(headers.hasMoreElements() ? headers.nextElement() : null);
        boolean several = headers.hasMoreElements();
        if (!several && presented.filter(token.get()::matches).isPresent()) {
            chain.doFilter(request, response);
        } else {
            refuseUnauthorized(response, presented.isPresent() || several);
        }
    }

    private Token token(String text) {
        Parsed last = parsed;
        if (last == null || !last.text().equals(text)) { // a reload changed it
            last = new Parsed(text, new Token(text));
            parsed = last;
        }
        return last.token();
    }

    /** The token in an {@code Authorization} header ({@code null} when there is none), if it carries one. */
    abstract Optional<String> presented(String authorization);

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

    /** A token is configured and the caller presented none ({@code presented} false) or another. */
    abstract void refuseUnauthorized(HttpServletResponse response, boolean presented) throws IOException;
}
