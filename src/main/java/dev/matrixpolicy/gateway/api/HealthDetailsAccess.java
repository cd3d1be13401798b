package dev.matrixpolicy.gateway.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.security.Principal;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Health details for admins only: they say why a configuration reload was refused (a setting's
 * value, which may be a token pasted where its file belongs) and which policy list source fails and
 * where it is read (files, URLs, rooms), which the admin endpoints keep from other callers. Every
 * caller gets the status and the components' statuses (a kubelet's probes, a load balancer); a caller
 * the admin access rule admits ({@link AdminAccessFilter}: the admin token, or a loopback caller when
 * there is none) is made the request's principal, which is who Spring Boot shows details to
 * ({@code management.endpoint.health.show-details: when-authorized}). Nothing is refused here.
 */
final class HealthDetailsAccess extends OncePerRequestFilter {
    /** The principal of a caller the admin access rule admits. */
    static final Principal ADMIN = () -> "policy-gateway admin";

    private final AdminAccessFilter admin;

    HealthDetailsAccess(AdminAccessFilter admin) {
        this.admin = admin;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        TokenOrLoopbackFilter.Verdict verdict = admin.judge(request);
        if (verdict != TokenOrLoopbackFilter.Verdict.ADMITTED) {
            if (verdict == TokenOrLoopbackFilter.Verdict.WRONG_CREDENTIAL || verdict == TokenOrLoopbackFilter.Verdict.MALFORMED_CREDENTIAL) {
                admin.refused(request, verdict); // a guess here is a guess: whether details come back tells the guesser
            }
            chain.doFilter(request, response);
            return;
        }
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store"); // the details are an admin's
        chain.doFilter(new HttpServletRequestWrapper(request) {
            @Override
            public Principal getUserPrincipal() {
                return ADMIN;
            }
        }, response);
    }
}
