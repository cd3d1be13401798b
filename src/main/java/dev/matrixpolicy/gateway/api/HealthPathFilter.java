package dev.matrixpolicy.gateway.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Arrays;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthContributors;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Answers 404 {@code M_UNRECOGNIZED} for a health path that goes on past something that has no parts:
 * {@code /actuator/health/nothing/more}, {@code /actuator/health/readiness/nothing/more}. Spring
 * Boot (4.1) answers an unknown last segment with 404 itself, but fails an assertion on an unknown
 * segment followed by another, which would be a 500 and an ERROR line with a stack trace for any
 * caller of the unauthenticated health endpoint. The path is walked as the health endpoint walks it:
 * an optional group, then composite contributors down to the last segment, which is left to Spring.
 */
final class HealthPathFilter extends OncePerRequestFilter {
    private final String healthPath;
    private final HealthEndpointGroups groups;
    private final HealthContributors contributors;
    private final JsonMapper json;

    /** @param healthPath where the health endpoint is served, e.g. {@code /actuator/health} */
    HealthPathFilter(String healthPath, HealthEndpointGroups groups, HealthContributors contributors, JsonMapper json) {
        this.healthPath = healthPath;
        this.groups = groups;
        this.contributors = contributors;
        this.json = json;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !PolicyApiServlet.routedPath(request).startsWith(healthPath + "/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String[] segments = PolicyApiServlet.routedPath(request).substring(healthPath.length() + 1).split("/", -1);
        if (leadsNowhere(segments)) {
            MatrixErrors.forStatus(HttpServletResponse.SC_NOT_FOUND).answer(response, json);
            return;
        }
        chain.doFilter(request, response);
    }

    /** Whether a segment before the last names nothing that has parts. */
    private boolean leadsNowhere(String[] segments) {
        int first = segments.length > 1 && groups.get(segments[0]) != null ? 1 : 0;
        HealthContributors current = contributors;
        for (String segment : Arrays.asList(segments).subList(first, segments.length - 1)) {
            HealthContributor next = current.getContributor(segment);
            if (!(next instanceof HealthContributors parts)) {
                return true;
            }
            current = parts;
        }
        return false;
    }
}
