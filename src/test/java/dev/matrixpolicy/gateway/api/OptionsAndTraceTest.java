package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/** TRACE is refused whatever the path's servlet makes of the OPTIONS asked in its place. */
class OptionsAndTraceTest {
    private final OptionsAndTrace filter = new OptionsAndTrace(JsonMapper.builder().build());

    @Test
    void aServletThatAnswersOptionsWithoutAnAllowHeaderStillHasTraceRefused() throws Exception {
        HttpServlet silent = new HttpServlet() {
            @Override
            protected void service(HttpServletRequest request, HttpServletResponse response) {
                response.setStatus(HttpServletResponse.SC_NO_CONTENT); // any method, no Allow
            }
        };
        MockHttpServletResponse response = new MockHttpServletResponse();

        filter.doFilter(new MockHttpServletRequest("TRACE", "/somewhere"), response, new MockFilterChain(silent));

        assertThat(response.getStatus()).isEqualTo(405);
        assertThat(response.getHeader("Allow")).isEqualTo("OPTIONS");
        assertThat(response.getContentAsString()).contains("Method TRACE is not supported here");
    }
}
