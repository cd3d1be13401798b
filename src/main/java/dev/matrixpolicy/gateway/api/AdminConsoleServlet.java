package dev.matrixpolicy.gateway.api;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.HttpHeaders;
import tools.jackson.databind.json.JsonMapper;

/**
 * The admin console on the management port: {@code /console/}, one static page, one script and one
 * style sheet from the classpath ({@code console/}), read once at startup. The page draws itself
 * from the actuator's JSON (chains, chainstats, decisions, sources, explain, reload), with the
 * credentials the browser already sends; {@link AdminAccessFilter} guards it. Where each of those is
 * served, base path and path-mapping applied, the script reads from {@code endpoints.json}, relative
 * to the page like every link on it. No template engine and no build step: what is in the jar is what
 * the browser gets. It is only read:
 * any method but {@code GET}, {@code HEAD} and {@code OPTIONS} is a 405 naming those three, as the
 * gateway's other servlets answer one (HttpServlet's own answer to a POST over HTTP/1.0 is a 400).
 */
final class AdminConsoleServlet extends HttpServlet {
    static final String PATH = "/console";
    /** Nothing but this origin: no inline script, no framing, no guessing of content types. */
    private static final String POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
    private static final String ALLOW = AllowedMethods.of("GET");

    /** The actuator endpoints the console reads, by their IDs; explain, a servlet of the gateway's, besides. */
    static final List<String> ENDPOINTS = List.of("chains", "chainstats", "decisions", "sources", "reload");

    private final transient Map<String, Asset> assets;

    private final transient JsonMapper json;

    /**
     * @param endpointPaths where the {@link #ENDPOINTS} and explain are served, by ID, as paths from the
     *                      management server's root ({@code /actuator/reload})
     */
    AdminConsoleServlet(JsonMapper json, Map<String, String> endpointPaths) {
        this.json = json;
        Map<String, String> fromThePage = new LinkedHashMap<>(); // the page is /console/: "..", and a proxy's prefix is kept
        endpointPaths.forEach((id, path) -> fromThePage.put(id, ".." + path));
        this.assets = Map.of(
                "/", asset("index.html", "text/html;charset=UTF-8"),
                "/console.js", asset("console.js", "text/javascript;charset=UTF-8"),
                "/console.css", asset("console.css", "text/css;charset=UTF-8"),
                "/endpoints.json", new Asset(json.writeValueAsBytes(fromThePage), "application/json"));
    }

    private record Asset(byte[] body, String contentType) {
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws ServletException, IOException {
        switch (request.getMethod()) {
            case "GET", "HEAD" -> super.service(request, response); // HEAD: HttpServlet's GET without the body
            case "OPTIONS" -> {
                response.setHeader(HttpHeaders.ALLOW, ALLOW);
                response.setContentLength(0);
            }
            default -> MatrixErrors.describe(MatrixApiException.methodNotAllowed(request.getMethod(), ALLOW)).answer(response, json);
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo();
        if (path == null) {
            // Relative links on the page resolve against /console/, whatever prefix a proxy adds in front: so
            // the redirect is relative too. Never built from the request's raw URI, which the container
            // normalised to route it (//evil.example/..;/console reaches this servlet) but a browser would not.
            // Not sendRedirect: Tomcat makes its Location absolute from Host and the connection's scheme, which
            // behind a proxy are the gateway's (http://internal:8091/console/), not the browser's.
            response.setStatus(HttpServletResponse.SC_FOUND);
            response.setHeader(HttpHeaders.LOCATION, PATH.substring(PATH.lastIndexOf('/') + 1) + "/");
            response.setContentLength(0);
            return;
        }
        Asset asset = assets.get(path);
        if (asset == null) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        response.setContentType(asset.contentType());
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        response.setHeader("Content-Security-Policy", POLICY);
        response.setHeader("X-Frame-Options", "DENY"); // frame-ancestors, for browsers that know only this header
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "no-referrer");
        response.setContentLength(asset.body().length);
        response.getOutputStream().write(asset.body());
    }

    private static Asset asset(String name, String contentType) {
        try (InputStream in = new ClassPathResource("console/" + name).getInputStream()) {
            return new Asset(in.readAllBytes(), contentType);
        } catch (IOException missing) {
            throw new UncheckedIOException("console/" + name + " is missing from the classpath", missing);
        }
    }
}
