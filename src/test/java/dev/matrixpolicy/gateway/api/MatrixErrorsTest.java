package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.http.HttpStatus;
import org.springframework.http.converter.HttpMessageNotWritableException;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import tools.jackson.databind.json.JsonMapper;

/** What an exception raised while answering becomes, and what is logged of it. */
class MatrixErrorsTest {
    @RegisterExtension
    final LoggedLines logged = LoggedLines.of(MatrixErrors.class, Level.DEBUG);

    private final MatrixErrors errors = new MatrixErrors();

    @Test
    void aClientThatWentAwayWhileItsAnswerWasWrittenIsNoErrorAndGetsNoAnswer() {
        var brokenPipe = new HttpMessageNotWritableException("Could not write JSON", new IOException("Broken pipe"));

        assertThat(errors.failed(brokenPipe)).isNull();
        assertThat(logged.at(Level.ERROR)).isEmpty();
        assertThat(logged.at(Level.DEBUG)).singleElement().asString().startsWith("The client went away before its answer was written");
    }

    @Test
    void anErrorBodyNamesItsErrcodeFirstInEveryRun() {
        MatrixErrors.MatrixError error = MatrixErrors.describe(MatrixApiException.notJson("Content not JSON"));

        assertThat(error.body().keySet()).containsExactly("errcode", "error");
    }

    @Test
    void anythingElseUnexpectedIsA500AndAnErrorWithItsStackTrace() {
        assertThat(errors.failed(new IllegalStateException("a bug")).getStatusCode()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
        assertThat(logged.at(Level.ERROR)).singleElement().asString().isEqualTo("Unexpected error while answering a request");
    }

    @Test
    void anErrorIsAnsweredAsJsonWithItsLengthAndA405WithTheAllowHeaderItCarries() throws IOException {
        MockHttpServletResponse response = new MockHttpServletResponse();

        MatrixErrors.describe(MatrixApiException.methodNotAllowed("PUT", "POST, OPTIONS")).answer(response, JsonMapper.builder().build());

        assertThat(response.getStatus()).isEqualTo(405);
        assertThat(response.getContentType()).isEqualTo("application/json");
        assertThat(response.getHeader("Allow")).isEqualTo("POST, OPTIONS");
        assertThat(response.getContentAsString()).isEqualTo("{\"errcode\":\"M_UNRECOGNIZED\",\"error\":\"Method PUT is not supported here\"}");
        assertThat(response.getContentLength()).isEqualTo(response.getContentAsByteArray().length);
    }

    @Test
    void anErrorWithoutAnAllowHeaderIsAnsweredWithoutOne() throws IOException {
        MockHttpServletResponse response = new MockHttpServletResponse();

        MatrixErrors.describe(MatrixApiException.notJson("Content not JSON")).answer(response, JsonMapper.builder().build());

        assertThat(response.getStatus()).isEqualTo(400);
        assertThat(response.getHeaderNames()).doesNotContain("Allow");
    }

    @Test
    void springsMethodNotAllowedNamesEveryMethodThePathAnswersAsItsOptionsDoes() {
        var wrong = new HttpRequestMethodNotSupportedException("POST", List.of("GET"));

        var answer = errors.wrongMethod(wrong);

        assertThat(answer.getStatusCode()).isEqualTo(HttpStatus.METHOD_NOT_ALLOWED);
        assertThat(answer.getHeaders().getFirst("Allow")).isEqualTo("GET, HEAD, OPTIONS");
        assertThat(answer.getBody()).containsEntry("errcode", "M_UNRECOGNIZED").containsEntry("error", "Method POST is not supported here");
    }
}
