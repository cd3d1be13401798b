package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.http.HttpStatus;
import org.springframework.http.converter.HttpMessageNotWritableException;

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
}
