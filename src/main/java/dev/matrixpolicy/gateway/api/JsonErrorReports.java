package dev.matrixpolicy.gateway.api;

import org.apache.catalina.Context;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Makes {@link JsonErrorReportValve} the error report of a Tomcat: the policy port's, and through
 * {@link ManagementErrorReports} the management port's. Spring Boot adds Tomcat's HTML report after
 * the customizers have run, and the host adds one when it starts unless it finds its configured
 * class, so the swap waits until the host starts and names our class as the one to look for.
 * It also installs {@link PathParameterValve}, so that both ports refuse what Spring MVC cannot route
 * with the same 400 JSON, {@link AsteriskFormAdapter}, so that a malformed {@code OPTIONS *} gets it too (and a
 * well-formed one the methods the gateway's paths take), and
 * {@link RequestTimeoutValve}, so that a 408 closes its connection on both ports, and {@link
 * OptionsAndTrace}, so that OPTIONS and a TRACE's 405 name what a path answers alike, and {@link
 * Http2PrefaceAnswer}, so that HTTP/2's connection preface gets the 505 of any other HTTP version;
 * and it answers {@code Expect: 100-continue} only when a body is read.
 */
@Component
final class JsonErrorReports implements WebServerFactoryCustomizer<TomcatServletWebServerFactory> {
    private final JsonMapper json;

    JsonErrorReports(JsonMapper json) {
        this.json = json;
    }

    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        factory.addContextCustomizers(this::reportErrorsAsJson,
                context -> context.getPipeline().addValve(new PathParameterValve()),
                context -> context.getPipeline().addValve(new RequestTimeoutValve()));
        factory.addInitializers(context -> OptionsAndTrace.install(context, json));
        factory.addConnectorCustomizers(AsteriskFormAdapter::install, JsonErrorReports::continueWhenTheBodyIsRead,
                connector -> Http2PrefaceAnswer.install(connector, json),
                // OptionsAndTrace refuses TRACE, with the path's Allow; AsteriskFormAdapter leaves it out of OPTIONS *'s
                connector -> connector.setAllowTrace(true));
    }

    /**
     * A client that sends {@code Expect: 100-continue} is told to send its body only when a handler
     * reads it, after the token was checked: Tomcat's default answers 100 at once, inviting the upload
     * of a body that a 401 then refuses. Here, not in the policy API's configuration, so that the
     * management port's admin paths hold to it too. (The federation listener takes the policy port's
     * connector customizers, this one included.)
     */
    private static void continueWhenTheBodyIsRead(Connector connector) {
        connector.setProperty("continueResponseTiming", "onRead");
    }

    private void reportErrorsAsJson(Context context) {
        StandardHost host = (StandardHost) context.getParent();
        host.setErrorReportValveClass(JsonErrorReportValve.class.getName());
        host.addLifecycleListener(event -> {
            if (Lifecycle.BEFORE_START_EVENT.equals(event.getType())) {
                replaceErrorReports(host.getPipeline());
            }
        });
    }

    private void replaceErrorReports(Pipeline pipeline) {
        for (Valve valve : pipeline.getValves()) {
            if (valve instanceof ErrorReportValve) {
                pipeline.removeValve(valve);
            }
        }
        pipeline.addValve(new JsonErrorReportValve(json));
    }
}
