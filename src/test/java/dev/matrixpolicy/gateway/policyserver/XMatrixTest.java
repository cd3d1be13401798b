package dev.matrixpolicy.gateway.policyserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class XMatrixTest {
    @Test
    void readsQuotedAndUnquotedValuesInAnyOrderIgnoringUnknownParameters() {
        XMatrix header = XMatrix.parse("X-Matrix sig=\"c2ln\",Key=\"ed25519:a_1\",extra=1,destination=policy.example,"
                + "origin=\"hs.example:8448\"");
        assertThat(header).isEqualTo(new XMatrix("hs.example:8448", Optional.of("policy.example"), "ed25519:a_1", "c2ln"));
    }

    @Test
    void undoesBackslashEscapesInQuotedValues() {
        assertThat(XMatrix.parse("X-Matrix origin=hs,key=\"ed25519:a\\_b\",sig=\"s\\\"ig\"").keyId()).isEqualTo("ed25519:a_b");
        assertThat(XMatrix.parse("X-Matrix origin=hs,key=ed25519:a,sig=\"s\\\\ig\"").signature()).isEqualTo("s\\ig");
    }

    @Test
    void whiteSpaceAroundTheCommasIsAllowedAsTheGrammarAndSynapseAllow() {
        XMatrix header = XMatrix.parse("X-Matrix origin=\"hs\" , key=\"ed25519:a\" ,sig=s\t, destination=ps ");

        assertThat(header.origin()).isEqualTo("hs");
        assertThat(header.keyId()).isEqualTo("ed25519:a");
        assertThat(header.signature()).isEqualTo("s");
        assertThat(header.destination()).contains("ps");
    }

    @Test
    void destinationIsOptionalAsOlderServersOmitIt() {
        assertThat(XMatrix.parse("X-Matrix origin=hs,key=ed25519:a,sig=s").destination()).isEmpty();
    }

    @Test
    void writesAHeaderItReadsBack() {
        XMatrix header = new XMatrix("[::1]:8448", Optional.of("ps"), "ed25519:a", "c2ln+/");
        assertThat(XMatrix.parse(header.toHeader())).isEqualTo(header);
    }

    @ParameterizedTest
    @ValueSource(strings = {"X-Matrix", "Bearer abc", "X-Matrix origin=hs,key=ed25519:a", "X-Matrix origin=hs,sig=s",
        "X-Matrix key=ed25519:a,sig=s", "X-Matrix origin=hs,key=ed25519:a,sig=s,novalue", "X-Matrix origin=bad/name,key=ed25519:a,sig=s",
        "X-Matrix origin=\"hs,key=k,sig=s", "X-Matrix origin=,key=k,sig=s",
        "X-Matrix origin=hs,key=k,sig=s", "X-Matrix origin=hs,key=ed25519:,sig=s", "X-Matrix origin=hs,key=\"ed25519:a b\",sig=s",
        "X-Matrix origin=hs,key=\"ed25519:a\\\"b\",sig=s", "X-Matrix origin=hs,key=ed25519:a:b,sig=s", "X-Matrix origin=hs,key=ed25519:é,sig=s"})
    void malformedHeadersAreUnauthorized(String header) {
        assertThatThrownBy(() -> XMatrix.parse(header)).isInstanceOf(UnauthorizedException.class);
    }
}
