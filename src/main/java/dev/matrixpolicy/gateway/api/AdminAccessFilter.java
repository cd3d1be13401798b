package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.module.RepeatedWarnings;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import tools.jackson.databind.json.JsonMapper;

/**
 * Guards the management port's admin paths: {@code reload}, {@code explain}, {@code decisions},
 * {@code sources} and {@code policylists} (they name files, URLs and rooms, and the rules' reasons and
 * senders) and the console. With {@code policy-gateway.admin.token} (or {@code token-file}) a caller presents it
 * as {@code Authorization: Bearer <token>} or as the password of HTTP Basic, any user name, so a
 * browser logs in with its own prompt and the console's requests carry the credentials; anything
 * else is 401 with a Basic challenge. Without an admin token only loopback callers are answered,
 * judged by the connection's peer address ({@link PeerAddressValve}), never by a header; others get
 * 403. So is any other endpoint an admin exposes ({@code management.endpoints.web.exposure.include}:
 * a heap dump holds every token, {@code loggers} changes log levels): only the {@link #OPEN_ENDPOINTS}
 * and the actuator's index are left alone.
 */
final class AdminAccessFilter extends TokenOrLoopbackFilter {
    static final String REALM = "Basic realm=\"policy-gateway admin\"";
    private static final String BEARER = "Bearer ";
    private static final String BASIC = "Basic ";

    private static final Logger log = LoggerFactory.getLogger(AdminAccessFilter.class);

    private final List<String> guarded;
    private final JsonMapper json;
    private final MeterRegistry registry;

    /** The admin endpoints of the embedded configuration, by their IDs: guarded whether exposed or not. */
    static final List<String> ENDPOINTS = List.of("reload", "decisions", "sources", "policylists");

    /**
     * The endpoints anyone who reaches the management port may read, by their IDs: probes, scrapes
     * and the chains' shape. Health's details are the admins' ({@link HealthDetailsAccess}).
     */
    static final Set<String> OPEN_ENDPOINTS = Set.of("health", "info", "prometheus", "metrics", "chains", "chainstats");

    /**
     * @param token         the admin token; empty for loopback callers only
     * @param actuatorBase  the actuator's base path, {@code /actuator} unless configured otherwise
     * @param endpointPaths the paths the guarded endpoints are served at, as Spring maps them
     *                      ({@code management.endpoints.web.path-mapping}), so that moving one cannot
     *                      take it out of the guard
     */
    AdminAccessFilter(Supplier<Optional<String>> token, String actuatorBase, List<String> endpointPaths, JsonMapper json,
                      MeterRegistry registry) {
        super(token);
        this.registry = registry;
        List<String> paths = new ArrayList<>(endpointPaths);
        paths.add(actuatorBase + ExplainServlet.PATH);
        paths.add(AdminConsoleServlet.PATH);
        this.guarded = List.copyOf(paths);
        this.json = json;
    }

    /** A guarded path, or anything below one: judged on the path the container routes by. */
    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = PolicyApiServlet.routedPath(request);
        return guarded.stream().noneMatch(prefix -> path.equals(prefix) || path.startsWith(prefix + "/"));
    }

    /**
     * The admin answers hold user IDs, rules' reasons, file paths and URLs: no cache keeps them, and no
     * browser takes them for anything but the type they say.
     */
    @Override
    void guardedHeaders(HttpServletResponse response) {
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
    }

    /**
     * Counts every refusal ({@value #REFUSALS}, by {@code reason}), and logs a wrong token, which is
     * someone guessing or a client with an old token, or a web page posting with an admin's login, as one WARN line a
     * {@value RepeatedWarnings#INTERVAL_SECONDS} s for each caller's address, which it names: a missing
     * one is what a browser sends before its login prompt, and is not logged. Health's details are
     * asked for with the same token, and a wrong one there is told here too.
     */
    @Override
    void refused(HttpServletRequest request, Verdict verdict) {
        String reason = verdict.name().toLowerCase(Locale.ROOT);
        registry.counter(REFUSALS, "reason", reason).increment();
        if (verdict == Verdict.WRONG_CREDENTIAL) {
            warnRefused(log, request, "Admin access refused: a request from {} to {} presented a wrong admin token");
        } else if (verdict == Verdict.MALFORMED_CREDENTIAL) {
            warnRefused(log, request, "Admin access refused: a request from {} to {} presented a malformed Basic Authorization header");
        } else if (verdict == Verdict.FROM_ANOTHER_SITE) {
            warnRefused(log, request, "Admin access refused: a request from {} to {} was sent by a browser from a page of another site");
        }
    }

    /** Requests the admin paths refused, by reason. */
    static final String REFUSALS = "policy.admin.refused";

    @Override
    void refuseNonLoopback(HttpServletResponse response) throws IOException {
        refuse(response, HttpStatus.FORBIDDEN, "M_FORBIDDEN",
                "No admin token is configured (policy-gateway.admin.token): admin endpoints answer loopback callers only");
    }

    @Override
    void refuseForbidden(HttpServletResponse response, String reason) throws IOException {
        refuse(response, HttpStatus.FORBIDDEN, "M_FORBIDDEN", reason);
    }

    @Override
    void refuseUnauthorized(HttpServletResponse response, Verdict verdict) throws IOException {
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, REALM);
        switch (verdict) {
            case MALFORMED_CREDENTIAL -> refuse(response, HttpStatus.UNAUTHORIZED, "M_UNKNOWN_TOKEN", "Malformed Authorization"
                    + " header: HTTP Basic credentials must be the base64 of user:token in UTF-8");
            case NO_CREDENTIAL -> refuse(response, HttpStatus.UNAUTHORIZED, "M_MISSING_TOKEN",
                    "Admin token required: Authorization: Bearer <token>, or HTTP Basic with the token as the password");
            default -> refuse(response, HttpStatus.UNAUTHORIZED, "M_UNKNOWN_TOKEN", "Invalid admin token");
        }
    }

    /**
     * The token of a Bearer header, or the password of a Basic one. Basic credentials that are not
     * base64 of {@code user:password} in UTF-8 (RFC 7617) are malformed, not missing: the caller did
     * send a credential, and is told its header cannot be read rather than asked for one.
     */
    @Override
    Presented presented(String header) {
        if (header == null) {
            return Presented.NOTHING;
        }
        if (header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return new Presented.Credential(asUtf8(header.substring(BEARER.length()).strip()));
        }
        if (header.regionMatches(true, 0, BASIC, 0, BASIC.length())) {
            try {
                String credentials = StandardCharsets.UTF_8.newDecoder() // reports bytes that are not UTF-8
                        .decode(ByteBuffer.wrap(Base64.getDecoder().decode(header.substring(BASIC.length()).strip()))).toString();
                int colon = credentials.indexOf(':');
                return colon < 0 ? new Presented.Malformed() : new Presented.Credential(credentials.substring(colon + 1));
            } catch (IllegalArgumentException | CharacterCodingException unreadable) {
                return new Presented.Malformed();
            }
        }
        return Presented.NOTHING;
    }

    private void refuse(HttpServletResponse response, HttpStatus status, String errcode, String message) throws IOException {
        new MatrixErrors.MatrixError(status, errcode, message).answer(response, json);
    }
}
