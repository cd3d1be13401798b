package dev.matrixpolicy.gateway.api;

import org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.ManagementContextType;
import org.springframework.context.annotation.Import;

/**
 * The management server runs in a child context whose web server factory sees only that context's
 * customizers: this brings {@link JsonErrorReports} there too, so the management port's errors are
 * JSON as well. Listed in {@code META-INF/spring/...ManagementContextConfiguration.imports}, and
 * left out of component scanning ({@code PolicyGatewayApplication}).
 */
@ManagementContextConfiguration(value = ManagementContextType.CHILD, proxyBeanMethods = false)
@Import(JsonErrorReports.class)
class ManagementErrorReports {
}
