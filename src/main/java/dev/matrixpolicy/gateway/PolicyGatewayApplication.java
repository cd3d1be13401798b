package dev.matrixpolicy.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurationExcludeFilter;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.context.TypeExcludeFilter;
import org.springframework.boot.webmvc.autoconfigure.error.ErrorMvcAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.FilterType;

/**
 * {@code @SpringBootApplication}, spelt out for two differences:
 * <ul>
 *   <li>Spring Boot's error page is left out: it forwards errors to an {@code /error} route that anyone
 *       can call directly, and the management server adds one of its own. Without it, an error no
 *       handler answered is reported by Tomcat's error report, which {@code api.JsonErrorReportValve}
 *       makes Matrix error JSON on both ports, and {@code /error} is an unknown path like any other.</li>
 *   <li>Component scanning leaves out {@code @ManagementContextConfiguration} classes: they belong to
 *       the context that serves the actuator, which loads them from
 *       {@code META-INF/spring/...ManagementContextConfiguration.imports}. Scanned, they would land in
 *       the main context too, and the policy port would serve the admin console.</li>
 * </ul>
 */
@SpringBootConfiguration
@EnableAutoConfiguration(exclude = ErrorMvcAutoConfiguration.class)
@ComponentScan(excludeFilters = {
        @ComponentScan.Filter(type = FilterType.CUSTOM, classes = TypeExcludeFilter.class),
        @ComponentScan.Filter(type = FilterType.CUSTOM, classes = AutoConfigurationExcludeFilter.class),
        @ComponentScan.Filter(type = FilterType.ANNOTATION, classes = ManagementContextConfiguration.class)})
public class PolicyGatewayApplication {
    public static void main(String[] args) {
        SpringApplication.run(PolicyGatewayApplication.class, args);
    }
}
