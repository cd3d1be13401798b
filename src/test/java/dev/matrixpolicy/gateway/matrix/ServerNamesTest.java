package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every spelling of a server name comes to one: DNS names in lower case, IPv6 literals in RFC 5952's form. */
class ServerNamesTest {

    @ParameterizedTest(name = "{0} is spelt {1}")
    @CsvSource(delimiter = '|', textBlock = """
            Example.COM                        | example.com
            Example.COM:8448                   | example.com:8448
            1.2.3.4:8448                       | 1.2.3.4:8448
            [2001:db8::1]                      | [2001:db8::1]
            [2001:DB8:0:0:0:0:0:1]             | [2001:db8::1]
            [2001:0db8:0000::0001]:8448        | [2001:db8::1]:8448
            [::1]                              | [::1]
            [0:0:0:0:0:0:0:0]                  | [::]
            [1:0:0:2:0:0:0:3]                  | [1:0:0:2::3]
            [1:0:0:2:0:0:3:4]                  | [1::2:0:0:3:4]
            [2001:db8:0:1:1:1:1:1]             | [2001:db8:0:1:1:1:1:1]
            [::FFFF:192.0.2.1]                 | [::ffff:192.0.2.1]
            [::ffff:c000:0201]                 | [::ffff:192.0.2.1]
            [fe80::1%eth0]                     | [fe80::1%eth0]
            [not:an:address]                   | [not:an:address]
            [2001:db8::1                       | [2001:db8::1
            []                                 | []
            """)
    void aServerNameHasOneSpelling(String written, String canonical) {
        assertThat(ServerNames.canonical(written)).isEqualTo(canonical);
    }

    @Test
    void aServerIsHeldByItsHostAloneOnlyWhenWhatFollowsTheColonIsAPort() {
        assertThat(ServerNames.spellings("evil.example:8448")).containsExactly("evil.example:8448", "evil.example");
        assertThat(ServerNames.spellings("evil.example.:8448")).containsExactly("evil.example.:8448", "evil.example.", "evil.example");
        // the server of a local appservice user @irc_x:evil.example:example.org, as Synapse reads it: no port
        assertThat(ServerNames.spellings("evil.example:example.org")).isEqualTo(List.of("evil.example:example.org"));
        assertThat(ServerNames.spellings("evil.example:")).isEqualTo(List.of("evil.example:"));
    }
}
