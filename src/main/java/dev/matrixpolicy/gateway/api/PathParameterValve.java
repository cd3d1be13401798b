package dev.matrixpolicy.gateway.api;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.regex.Pattern;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * Refuses with 400 a request whose path parameters ({@code ;name=value}) hold a malformed
 * percent-escape. Tomcat strips path parameters before it decodes the path and never decodes them,
 * so {@code /nothing;a=%zz} passes it; Spring MVC decodes them while it works out the route, before
 * any handler or exception handler runs, and its failure there was a 500 with an ERROR line. Here
 * the mistake gets what the same mistake elsewhere in the path gets from Tomcat: 400, as JSON.
 */
final class PathParameterValve extends ValveBase {
    /** A '%' not followed by two hex digits. */
    private static final Pattern MALFORMED_ESCAPE = Pattern.compile("%(?![0-9A-Fa-f]{2})");

    PathParameterValve() {
        super(true);
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        String uri = request.getRequestURI();
        int parameters = uri.indexOf(';');
        if (parameters >= 0 && MALFORMED_ESCAPE.matcher(uri).region(parameters, uri.length()).find()) {
            response.sendError(HttpServletResponse.SC_BAD_REQUEST);
            return;
        }
        getNext().invoke(request, response);
    }
}
