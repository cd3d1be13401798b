package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** A real startup with a bad module entry prints one readable analysis, not a wall of stack traces. */
@ExtendWith(OutputCaptureExtension.class)
class StartupFailureReportTest {

    @Test
    void badModuleEntryStopsStartupWithOneMessageNamingPositionTypeAndField(CapturedOutput output) {
        SpringApplicationBuilder application = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                .web(WebApplicationType.NONE)
                .properties("spring.config.name=startup-failure");

        assertThatThrownBy(application::run).hasRootCauseInstanceOf(IllegalArgumentException.class);

        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("entry: policy-gateway.modules[0] (module: static)")
                .contains("field: config.results.user_may_create_room")
                .contains("problem: expected NOT_SPAM or a Matrix error code such as M_FORBIDDEN, got 'sometimes'");
        assertThat(output.getErr() + output.getOut()).doesNotContain("\tat dev.matrixpolicy");
    }
}
