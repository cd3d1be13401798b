package dev.matrixpolicy.gateway.api;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Map;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Replaces Spring Boot's error page: errors raised by the servlet container itself, outside any
 * controller, are answered as Matrix error JSON too.
 */
@RestController
final class MatrixErrorController implements ErrorController {

    @RequestMapping("/error")
    ResponseEntity<Map<String, String>> error(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        return MatrixErrors.toResponse(MatrixErrors.forStatus(code instanceof Integer value ? value : 500));
    }
}
