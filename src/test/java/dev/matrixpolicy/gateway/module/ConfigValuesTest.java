package dev.matrixpolicy.gateway.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Tokens as a module reads them from its configuration or from a file. */
class ConfigValuesTest {

    @Test
    void aTokenFileSendsItsFirstTokenTheOneInForceDuringARotation() {
        assertThat(ConfigValues.bearerTokenFile("token-file", "\n  current-token  \nnext-token\n")).isEqualTo("current-token");
    }

    @Test
    void aTokenFileWithNoTokenIsRefused() {
        assertThatThrownBy(() -> ConfigValues.bearerTokenFile("token-file", " \n\n"))
                .isInstanceOf(ModuleConfigurationException.class).hasMessageContaining("the token is empty");
    }
}
