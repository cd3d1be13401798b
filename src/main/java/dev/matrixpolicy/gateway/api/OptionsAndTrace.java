package dev.matrixpolicy.gateway.api;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.web.util.ContentCachingResponseWrapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Holds {@code OPTIONS} and {@code TRACE} to one rule on every port. {@code OPTIONS} keeps each
 * servlet's answer, with its {@code Allow} spelled as {@link AllowedMethods} spells it (Spring MVC
 * wrote {@code GET,HEAD,OPTIONS} and an empty {@code Accept-Patch}). {@code TRACE} is refused as any
 * other method a path does not take: 405 naming what the path does answer, which is what it answers
 * to {@code OPTIONS}. Tomcat's own refusal (its connector's {@code
 * allowTrace} off) listed methods found by reflection on the servlet class, {@code OPTIONS} alone for
 * ours and every HTTP method for Spring MVC's, whatever the path; so the connectors let TRACE through
 * to here, the last filter on every port, where the path's servlet is asked {@code OPTIONS} and its
 * answer kept from the client. A path that answers {@code OPTIONS} with an error (unknown: 404)
 * answers TRACE with it. No servlet ever sees a TRACE, so none echoes one.
 */
final class OptionsAndTrace extends HttpFilter {
    private final JsonMapper json;

    OptionsAndTrace(JsonMapper json) {
        this.json = json;
    }

    /**
     * Maps the filter to every servlet registered so far (all of them: this runs after the servlet
     * beans), after every other filter, so that access checks and metrics take TRACE as the request it
     * is. By servlet name, since the container runs filters mapped by name after those mapped by path:
     * Spring MVC's observation is mapped by name.
     */
    static void install(ServletContext context, JsonMapper json) {
        context.addFilter("optionsAndTrace", new OptionsAndTrace(json)).addMappingForServletNames(EnumSet.of(DispatcherType.REQUEST),
                true, context.getServletRegistrations().keySet().toArray(String[]::new));
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if ("OPTIONS".equals(request.getMethod())) {
            chain.doFilter(request, new AllowSpelled(response));
            return;
        }
        if (!"TRACE".equals(request.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        Map<String, List<String>> earlier = new LinkedHashMap<>(); // the earlier filters' (no-store, nosniff on admin paths)
        response.getHeaderNames().forEach(name -> earlier.put(name, List.copyOf(response.getHeaders(name))));
        ContentCachingResponseWrapper options = new ContentCachingResponseWrapper(response);
        chain.doFilter(new HttpServletRequestWrapper(request) {
            @Override
            public String getMethod() {
                return "OPTIONS";
            }
        }, options);
        String allow = response.getHeader(HttpHeaders.ALLOW);
        if (response.isCommitted() || response.getStatus() >= 300) {
            if (response.getStatus() != HttpServletResponse.SC_METHOD_NOT_ALLOWED) {
                // HttpServlet's OPTIONS adds every method it finds to a refusal (Spring MVC's 404), which names none
                response.setHeader(HttpHeaders.ALLOW, null);
            }
            options.copyBodyToResponse(); // the path's refusal, or a server error, as it would answer OPTIONS
            return;
        }
        response.reset(); // the OPTIONS answer's status and headers (CORS, Accept-Patch)
        earlier.forEach((name, values) -> values.forEach(value -> response.addHeader(name, value)));
        // a path that answered OPTIONS without naming its methods still answers OPTIONS
        MatrixErrors.describe(MatrixApiException.methodNotAllowed("TRACE", AllowedMethods.respell(allow == null ? "" : allow)))
                .answer(response, json);
    }

    /** A response whose {@code Allow} is spelled by the one rule, and that leaves out an empty {@code Accept-Patch}. */
    private static final class AllowSpelled extends HttpServletResponseWrapper {
        AllowSpelled(HttpServletResponse response) {
            super(response);
        }

        @Override
        public void setHeader(String name, String value) {
            if (!isEmptyAcceptPatch(name, value)) {
                super.setHeader(name, spelled(name, value));
            }
        }

        @Override
        public void addHeader(String name, String value) {
            if (!isEmptyAcceptPatch(name, value)) {
                super.addHeader(name, spelled(name, value));
            }
        }

        private static boolean isEmptyAcceptPatch(String name, String value) {
            return HttpHeaders.ACCEPT_PATCH.equalsIgnoreCase(name) && (value == null || value.isBlank());
        }

        private static String spelled(String name, String value) {
            return HttpHeaders.ALLOW.equalsIgnoreCase(name) && value != null ? AllowedMethods.respell(value) : value;
        }
    }
}
