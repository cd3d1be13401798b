package dev.matrixpolicy.gateway.modules.ratelimits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** A wrong Redis URL or bucket stops startup with the one screen every setting gets: key, value, file and line. */
@ExtendWith(OutputCaptureExtension.class)
class RateLimitsStartupFailureTest {
    @TempDir
    Path directory;

    @Test
    void aRedisUrlThatIsNotOneStopsStartupNamingTheKeyTheValueAndTheLine(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                  state:
                    redis:
                      url: localhost:6379
                """);

        String screen = failedStartup(output, config);

        assertThat(screen).contains("key: policy-gateway.state.redis.url")
                .contains("value: 'localhost:6379'")
                .contains("file: " + config + ", line 5, column 12")
                .contains("expected a redis:// or rediss:// URL");
    }

    @Test
    void aZeroCapacityStopsStartupNamingTheEntryAndTheField(CapturedOutput output) throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.yml"), """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: rate_limits
                      config:
                        events:
                          per-sender: {capacity: 0, period: 10s}
                """);

        String screen = failedStartup(output, config);

        assertThat(screen).contains("key: policy-gateway.modules[0].config.events.per-sender.capacity")
                .contains("file: " + config + ", line 7, column 34")
                .contains("problem: must be greater than or equal to 1");
    }

    private static String failedStartup(CapturedOutput output, Path config) {
        SpringApplicationBuilder application = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                .web(WebApplicationType.NONE);

        assertThatThrownBy(() -> application.run("--spring.config.additional-location=file:" + config)).isNotNull();

        String printed = output.getOut() + output.getErr();
        assertThat(printed).contains("APPLICATION FAILED TO START").doesNotContain("\tat ");
        return printed;
    }
}
