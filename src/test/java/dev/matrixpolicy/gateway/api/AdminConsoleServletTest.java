package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

class AdminConsoleServletTest {

    @Test
    void theRedirectToTheConsolesDirectoryNeverLeadsOffTheGatewayWhateverTheRawUri() throws Exception {
        // Tomcat drops ";" parameters, folds "//" and resolves ".." to route this to the console; a browser
        // would resolve a Location built from it against another host.
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "//evil.example/..;/console");
        request.setServletPath(AdminConsoleServlet.PATH);
        MockHttpServletResponse response = new MockHttpServletResponse();

        new AdminConsoleServlet(JsonMapper.builder().build(), java.util.Map.of()).doGet(request, response);

        assertThat(response.getStatus()).isEqualTo(302);
        assertThat(response.getRedirectedUrl()).isEqualTo("console/");
    }

    @Test
    void everyAssetForbidsFramingScriptsFromElsewhereAndGuessedContentTypes() throws Exception {
        for (String asset : java.util.List.of("/", "/console.js", "/console.css", "/endpoints.json")) {
            MockHttpServletRequest request = new MockHttpServletRequest("GET", AdminConsoleServlet.PATH + asset);
            request.setServletPath(AdminConsoleServlet.PATH);
            request.setPathInfo(asset);
            MockHttpServletResponse response = new MockHttpServletResponse();

            new AdminConsoleServlet(JsonMapper.builder().build(), java.util.Map.of()).doGet(request, response);

            assertThat(response.getStatus()).as(asset).isEqualTo(200);
            assertThat(response.getHeader("Content-Security-Policy")).as(asset)
                    .contains("frame-ancestors 'none'", "script-src 'self'", "default-src 'self'");
            assertThat(response.getHeader("X-Frame-Options")).as(asset).isEqualTo("DENY");
            assertThat(response.getHeader("X-Content-Type-Options")).as(asset).isEqualTo("nosniff");
            assertThat(response.getHeader("Cache-Control")).as(asset).isEqualTo("no-store");
        }
    }
}
