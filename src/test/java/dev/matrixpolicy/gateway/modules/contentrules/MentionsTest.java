package dev.matrixpolicy.gateway.modules.contentrules;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which text after a user ID's colon names a server a mention could reach. */
class MentionsTest {

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
            "example.org, true", "example.org:8448, true", "matrix.example.co.uk, true", "localhost, true",
            "1.2.3.4, true", "1.2.3.4:80, true", "[::1], true", "'[2001:db8::1]:8448', true",
            "30, false", "1.2.5, false", "1.2.3.4.5, false", "1234.2.3.4, false", "example.org:, false",
            "example.org:123456, false", "example.org:8a, false", "'[abc]:80', false", "'[]', false", "x[y], false",
            "a:b:1, false", "'', false"})
    void aServerIsADnsNameNotEndingInDigitsAnIpAddressOrABracketedIpv6OneWithAnOptionalPort(String server, boolean reachable) {
        assertThat(Mentions.isServerName(server)).isEqualTo(reachable);
    }
}
