package dev.matrixpolicy.gateway.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.regex.Pattern;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Answers 404 {@code M_UNRECOGNIZED} for an actuator request whose path, as sent, holds a dot segment
 * ({@code .} or {@code ..}, written plain or percent-encoded, with or without {@code ;} parameters).
 * The container resolves such segments before it routes, and every guard judges that resolved path;
 * Spring MVC routes by the path as sent. The two disagreed: {@code /actuator/health/./liveness} passed
 * the health path's guard as {@code /actuator/health/liveness}, and Spring Boot's health endpoint
 * failed an assertion on the {@code .} it was handed, a 500 and an ERROR line for anyone who reaches
 * the port. No client a user runs sends dot segments (curl and browsers resolve them), so none is
 * routed at all.
 */
final class DotSegmentFilter extends OncePerRequestFilter {
    private static final Pattern ENCODED_DOT = Pattern.compile("%2e", Pattern.CASE_INSENSITIVE);

    private final JsonMapper json;

    DotSegmentFilter(JsonMapper json) {
        this.json = json;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (hasDotSegment(request.getRequestURI())) {
            MatrixErrors.forStatus(HttpServletResponse.SC_NOT_FOUND).answer(response, json);
            return;
        }
        chain.doFilter(request, response);
    }

    /** Whether a segment of the path as sent reads {@code .} or {@code ..} once its parameters are dropped and its dots decoded. */
    static boolean hasDotSegment(String rawPath) {
        for (String segment : rawPath.split("/", -1)) {
            int parameters = segment.indexOf(';');
            String value = ENCODED_DOT.matcher(parameters < 0 ? segment : segment.substring(0, parameters)).replaceAll(".");
            if (value.equals(".") || value.equals("..")) {
                return true;
            }
        }
        return false;
    }
}
