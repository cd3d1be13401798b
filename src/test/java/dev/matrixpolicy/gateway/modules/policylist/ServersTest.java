package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ServersTest {
    @Test
    void aServerIsAskedAsWrittenAndWithoutItsPort() {
        assertThat(Servers.of("@a:example.com:8448")).containsExactly("example.com:8448", "example.com");
        assertThat(Servers.of("@a:example.com")).containsExactly("example.com");
        assertThat(Servers.ofName("[::1]:8448")).containsExactly("[::1]:8448", "[::1]");
        assertThat(Servers.ofName("[::1]")).containsExactly("[::1]");
        assertThat(Servers.of("@no-server")).isEmpty();
    }

    @Test
    void aFullyQualifiedNameIsAskedWithoutItsTrailingDotToo() {
        assertThat(Servers.of("@a:evil.example.")).containsExactly("evil.example.", "evil.example");
        assertThat(Servers.of("@a:evil.example.:8448")).containsExactly("evil.example.:8448", "evil.example.", "evil.example");
    }
}
