package dev.matrixpolicy.gateway.api;

import org.springframework.http.HttpStatus;

/** A request the API refuses before any module is asked, with its Matrix error code. */
final class MatrixApiException extends RuntimeException {
    private final HttpStatus status;
    private final String errcode;

    MatrixApiException(HttpStatus status, String errcode, String message) {
        super(message, null, false, false);
        this.status = status;
        this.errcode = errcode;
    }

    static MatrixApiException unrecognized(String what) {
        return new MatrixApiException(HttpStatus.NOT_FOUND, "M_UNRECOGNIZED", what);
    }

    static MatrixApiException notJson(String why) {
        return new MatrixApiException(HttpStatus.BAD_REQUEST, "M_NOT_JSON", why);
    }

    static MatrixApiException tooLarge(long limit) {
        return new MatrixApiException(HttpStatus.CONTENT_TOO_LARGE, "M_TOO_LARGE",
                "Request body is larger than the limit of " + limit + " bytes");
    }

    HttpStatus status() {
        return status;
    }

    String errcode() {
        return errcode;
    }
}
