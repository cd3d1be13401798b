package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.config.Generations;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;

/**
 * Guards {@code /v1/**} with the shared bearer token. A missing or wrong token gets 401 with a
 * plain-text body on purpose: a JSON {@code M_UNKNOWN_TOKEN} would be relayed by the homeserver
 * to its user, whose client would log them out. Without a configured token only loopback callers
 * are answered, judged by the connection's peer address ({@link PeerAddressValve}), whatever
 * {@code X-Forwarded-For} says.
 */
@Component
final class BearerTokenFilter extends TokenOrLoopbackFilter {
    private static final Logger log = LoggerFactory.getLogger(BearerTokenFilter.class);
    private static final String BEARER = "Bearer ";

    private final RequestErrors errors;

    /** The token is the serving generation's: a reload that changes the token file applies to the next request. */
    BearerTokenFilter(Generations generations, RequestErrors errors) {
        super(() -> generations.current().sharedToken());
        this.errors = errors;
        if (!hasToken()) {
            log.warn("No policy-gateway.auth.token or token-file is configured: answering loopback callers only");
        }
    }

    /**
     * Judged on the path the container routes by, never on the raw request URI: {@code /v1;x/...},
     * {@code /%761/...} and {@code //v1/...} reach the API as {@code /v1/...} all the same.
     */
    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !PolicyApiServlet.routedPath(request).startsWith("/v1/");
    }

    /**
     * Logs each refusal, a WARN line a {@value dev.matrixpolicy.gateway.module.RepeatedWarnings#INTERVAL_SECONDS} s
     * for each caller's address: only the homeserver calls the API, so any refusal is a module sending
     * an old token or none, a gateway deployed without its token, or a stranger. The 401 and 403
     * answers are counted by {@link RequestErrors}.
     */
    @Override
    void refused(HttpServletRequest request, Verdict verdict) {
        warnRefused(log, request, switch (verdict) {
            case WRONG_CREDENTIAL, MALFORMED_CREDENTIAL -> "API access refused: a request from {} to {} presented a wrong bearer token"
                    + " (the homeserver's module must send policy-gateway.auth.token)";
            case NO_CREDENTIAL -> "API access refused: a request from {} to {} presented no bearer token"
                    + " (the homeserver's module must send policy-gateway.auth.token)";
            case NOT_LOOPBACK -> "API access refused: a request from {} to {} came from another machine, and without"
                    + " policy-gateway.auth.token (or token-file) the gateway answers loopback callers only";
            case NAMED_BY_A_NAME -> "API access refused: a request from {} to {} named the gateway by a name, not as"
                    + " localhost or by IP address, and without a token that could be a web page's doing";
            case FROM_ANOTHER_SITE -> "API access refused: a request from {} to {} was sent by a browser from a page of another site";
            case ADMITTED -> throw new IllegalArgumentException("an admitted request is not refused");
        });
    }

    @Override
    Presented presented(String authorization) {
        return authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())
                ? new Presented.Credential(asUtf8(authorization.substring(BEARER.length()).trim())) : Presented.NOTHING;
    }

    @Override
    void refuseNonLoopback(HttpServletResponse response) throws IOException {
        refuse(response, HttpServletResponse.SC_FORBIDDEN, "This gateway has no token configured and answers loopback callers only\n");
    }

    @Override
    void refuseForbidden(HttpServletResponse response, String reason) throws IOException {
        refuse(response, HttpServletResponse.SC_FORBIDDEN, reason + "\n");
    }

    @Override
    void refuseUnauthorized(HttpServletResponse response, Verdict verdict) throws IOException {
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        refuse(response, HttpServletResponse.SC_UNAUTHORIZED, "Missing or invalid bearer token\n");
    }

    private void refuse(HttpServletResponse response, int status, String message) throws IOException {
        errors.count(status, RequestErrors.PLAIN_TEXT);
        response.setStatus(status);
        response.setContentType("text/plain;charset=UTF-8");
        response.getWriter().write(message);
    }
}
