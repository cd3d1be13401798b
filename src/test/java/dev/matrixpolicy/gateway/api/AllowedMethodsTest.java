package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AllowedMethodsTest {

    @Test
    void headGoesWithGetAndOptionsWithEveryPath() {
        assertThat(AllowedMethods.of("GET")).isEqualTo("GET, HEAD, OPTIONS");
        assertThat(AllowedMethods.of("POST")).isEqualTo("POST, OPTIONS");
        assertThat(AllowedMethods.of("POST", "GET")).isEqualTo("GET, HEAD, POST, OPTIONS");
    }

    @Test
    void traceIsNeverAllowed() {
        assertThat(AllowedMethods.of("TRACE", "GET")).isEqualTo("GET, HEAD, OPTIONS");
    }

    @Test
    void anotherComponentsSpellingIsRespelledWithTheSameMethods() {
        assertThat(AllowedMethods.respell("GET,HEAD,OPTIONS")).isEqualTo("GET, HEAD, OPTIONS");
        assertThat(AllowedMethods.respell(" post , options,TRACE")).isEqualTo("POST, OPTIONS");
    }
}
