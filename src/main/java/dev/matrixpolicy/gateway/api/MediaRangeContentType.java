package dev.matrixpolicy.gateway.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Has Spring MVC read a request whose {@code Content-Type} is a media range ({@code *}{@code /*},
 * {@code text/*}) in no charset, whatever a character encoding filter sets. Spring Framework builds its
 * view of a request's headers by adding the charset the request is read in to its {@code Content-Type},
 * and refuses a range that way (spring-framework#27957): an actuator operation, which reads an optional
 * body, and an unknown path on either port answered such a request 500, with an ERROR line and a stack
 * trace, body or not. Read in no charset, a range is a type no endpoint reads, as {@code text/plain} is:
 * ignored where no body is read, 415 where one is. For Spring MVC's dispatchers only
 * ({@link SpringMvcFilters}, {@link ManagementAdminAccess}): the servlets read bytes.
 */
final class MediaRangeContentType extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        chain.doFilter(isMediaRange(request.getContentType()) ? new NoCharset(request) : request, response);
    }

    private static boolean isMediaRange(String contentType) {
        if (contentType == null) {
            return false;
        }
        try {
            return !MediaType.parseMediaType(contentType).isConcrete();
        } catch (InvalidMediaTypeException unreadable) {
            return false; // Spring refuses it 415 itself
        }
    }

    /** A request read in no charset, whatever a filter sets on it. */
    private static final class NoCharset extends HttpServletRequestWrapper {
        NoCharset(HttpServletRequest request) {
            super(request);
        }

        @Override
        public String getCharacterEncoding() {
            return null;
        }
    }
}
