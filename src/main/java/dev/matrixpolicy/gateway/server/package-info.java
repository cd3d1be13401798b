/**
 * The HTTP server's life beyond Spring Boot's defaults: at shutdown, the policy API's keep-alive
 * connections are drained (answered, then closed) before Tomcat stops.
 */
package dev.matrixpolicy.gateway.server;
