package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.LoopbackTomcat;
import dev.matrixpolicy.gateway.support.RawHttp;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.json.JsonMapper;

/**
 * A client refused 408 for dripping its body past the deadline loses its connection with the answer,
 * however it goes on dripping: Tomcat would otherwise read the rest of the body first, for as long as
 * each byte comes within the connection timeout.
 */
class RequestTimeoutValveTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Each read's timeout: the drips below come well within it, as a slowloris client's do. */
    private static final int CONNECTION_TIMEOUT_MILLIS = 5_000;
    private static final int DRIP_MILLIS = 100;
    private LoopbackTomcat tomcat;

    @BeforeEach
    void start(@TempDir Path base) throws Exception {
        Connector connector = new Connector();
        connector.setProperty("connectionTimeout", String.valueOf(CONNECTION_TIMEOUT_MILLIS));
        RequestBodyReader bodies = new RequestBodyReader(JSON, DataSize.ofMegabytes(1), Duration.ofMillis(500));
        tomcat = LoopbackTomcat.start(base, connector, new HttpServlet() {
            @Override
            protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
                try {
                    bodies.readObject(request);
                    response.setStatus(HttpServletResponse.SC_OK);
                } catch (RuntimeException refused) {
                    MatrixErrors.describe(refused).answer(response, JSON);
                }
            }
        }, context -> context.getPipeline().addValve(new RequestTimeoutValve()));
    }

    @AfterEach
    void stop() throws Exception {
        tomcat.close();
    }

    @Test
    void aClientRefusedForItsSlowBodyLosesItsConnectionWithTheAnswerThoughItKeepsDripping() {
        RawHttp.Dripped dripped = RawHttp.dripping(tomcat.port(),
                "POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
                Duration.ofMillis(DRIP_MILLIS), Duration.ofSeconds(10));

        assertThat(dripped.answer()).startsWith("HTTP/1.1 408 ").contains("\"errcode\":\"M_UNKNOWN\"");
        assertThat(dripped.closedAfterAnswer()).as("the connection is closed while the client still drips")
                .hasValueSatisfying(closed -> assertThat(closed).isLessThan(Duration.ofMillis(CONNECTION_TIMEOUT_MILLIS)));
    }
}
