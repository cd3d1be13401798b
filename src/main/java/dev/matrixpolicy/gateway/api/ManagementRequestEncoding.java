package dev.matrixpolicy.gateway.api;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.web.filter.CharacterEncodingFilter;

/**
 * Has the actuator's Spring MVC read a request as UTF-8, never in a charset its {@code Content-Type}
 * names ({@link ManagementAdminAccess} says why), and a request whose {@code Content-Type} is a media
 * range ({@code *}{@code /*}, {@code text/*}) in none. Spring Framework builds its view of a request's
 * headers by adding the charset the request is read in to its {@code Content-Type}, and refuses a range
 * that way (spring-framework#27957): every actuator operation, which reads an optional body, answered
 * such a request 500 with an ERROR line and a stack trace, body or not. Read in no charset, a range is
 * a type no endpoint reads, as {@code text/plain} is: ignored on a GET, 415 where a body is read.
 */
final class ManagementRequestEncoding extends CharacterEncodingFilter {
    ManagementRequestEncoding() {
        super(StandardCharsets.UTF_8.name(), true, false);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        super.doFilterInternal(isMediaRange(request.getContentType()) ? new NoCharset(request) : request, response, chain);
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
