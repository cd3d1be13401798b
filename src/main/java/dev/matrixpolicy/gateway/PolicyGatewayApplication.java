package dev.matrixpolicy.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.webmvc.autoconfigure.error.ErrorMvcAutoConfiguration;

/**
 * Spring Boot's error page is left out: it forwards errors to an {@code /error} route that anyone can
 * call directly, and the management server adds one of its own. Without it, an error no handler
 * answered is reported by Tomcat's error report, which {@code api.JsonErrorReportValve} makes Matrix
 * error JSON on both ports, and {@code /error} is an unknown path like any other.
 */
@SpringBootApplication(exclude = ErrorMvcAutoConfiguration.class)
public class PolicyGatewayApplication {
    public static void main(String[] args) {
        SpringApplication.run(PolicyGatewayApplication.class, args);
    }
}
