package dev.matrixpolicy.gateway.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.RedisServer;
import dev.matrixpolicy.gateway.support.TestCertificates;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStoreDetails;

/**
 * {@code rediss://} against a real redis-server that speaks TLS only, with certificates from a CA
 * made for the run, which the JVM does not trust unless told.
 */
class RedisTlsTest {
    private static final Duration TIMEOUT = Duration.ofMillis(500);
    private static final Bucket BUCKET = new Bucket(5, Duration.ofMinutes(1));

    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("Cannot reconnect to",
            "Redis connection lost, and reconnecting failed", "Redis reconnection still failing");

    /** Its certificate names the address the tests connect to. */
    @RegisterExtension
    static final RedisServer redis = RedisServer.tls(false, "IP:127.0.0.1", "DNS:localhost");

    /** Without TLS. */
    @RegisterExtension
    static final RedisServer plain = new RedisServer();

    /** Its certificate names another host. */
    @RegisterExtension
    static final RedisServer elsewhere = RedisServer.tls(false, "DNS:redis.elsewhere.example");

    /** It refuses a client without a certificate from its CA. */
    @RegisterExtension
    static final RedisServer mutual = RedisServer.tls(true, "IP:127.0.0.1");

    @Test
    void aRedissUrlVerifyingThePeerFullyConnectsToAServerFromTheCaItIsGiven() {
        try (RedisState state = new RedisState(redis.url() + "?verifyPeer=FULL", TIMEOUT, "tls:",
                Optional.of(trusting(redis.certificates())), new SimpleMeterRegistry())) {
            assertThat(state.awaitConnection(Duration.ofSeconds(10))).isTrue();
            assertThat(state.take("full:" + UUID.randomUUID(), BUCKET)).isEqualTo(Take.ALLOWED);
        }
    }

    @Test
    void aServerFromACaTheJvmDoesNotTrustIsRefusedAndTheFailureSaysWhyAndCounts() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (RedisState state = new RedisState(redis.url(), TIMEOUT, "tls:", meters)) {
            assertThat(state.awaitConnection(Duration.ofSeconds(10))).isFalse();
            assertThatThrownBy(() -> state.take("untrusted", BUCKET)).isInstanceOf(StateUnavailableException.class)
                    .hasMessageContaining("unable to find valid certification path");
            assertThat(meters.get("policy.state.failures").tag("operation", "take").counter().count()).isEqualTo(1);
        }
    }

    @Test
    void aCertificateForAnotherHostIsRefusedVerifyingFullyAndAcceptedVerifyingTheCaOnly() {
        try (RedisState full = new RedisState(elsewhere.url(), TIMEOUT, "tls:", Optional.of(trusting(elsewhere.certificates())),
                new SimpleMeterRegistry());
             RedisState caOnly = new RedisState(elsewhere.url() + "?verifyPeer=CA", TIMEOUT, "tls:",
                     Optional.of(trusting(elsewhere.certificates())), new SimpleMeterRegistry())) {
            assertThat(full.awaitConnection(Duration.ofSeconds(10))).isFalse();
            assertThatThrownBy(() -> full.take("wrong-host", BUCKET)).isInstanceOf(StateUnavailableException.class)
                    .hasMessageContaining("No subject alternative names matching IP address 127.0.0.1");
            assertThat(caOnly.awaitConnection(Duration.ofSeconds(10))).isTrue();
            assertThat(caOnly.take("wrong-host:" + UUID.randomUUID(), BUCKET)).isEqualTo(Take.ALLOWED);
        }
    }

    @Test
    void aPlainUrlAgainstTheTlsPortFailsWithinTheTimeoutRatherThanHanging() {
        try (RedisState state = new RedisState("redis://127.0.0.1:" + redis.port(), TIMEOUT, "tls:", new SimpleMeterRegistry())) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> state.take("plain", BUCKET)).isInstanceOf(StateUnavailableException.class)
                    .hasMessageContaining("Unable to connect to 127.0.0.1");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void aTlsUrlAgainstAPortWithoutTlsFailsWithinTheTimeoutRatherThanHanging() {
        try (RedisState state = new RedisState("rediss://127.0.0.1:" + plain.port(), TIMEOUT, "tls:", new SimpleMeterRegistry())) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> state.take("tls-to-plain", BUCKET)).isInstanceOf(StateUnavailableException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void aClientCertificateFromTheBundleIsShownToAServerThatAsksForOne() {
        try (RedisState without = new RedisState(mutual.url(), TIMEOUT, "tls:", Optional.of(trusting(mutual.certificates())),
                new SimpleMeterRegistry());
             RedisState with = new RedisState(mutual.url(), TIMEOUT, "tls:", Optional.of(showingClientCertificate(mutual.certificates())),
                     new SimpleMeterRegistry())) {
            assertThat(with.awaitConnection(Duration.ofSeconds(10))).isTrue();
            assertThat(with.take("mutual:" + UUID.randomUUID(), BUCKET)).isEqualTo(Take.ALLOWED);
            assertThatThrownBy(() -> without.take("mutual", BUCKET)).isInstanceOf(StateUnavailableException.class);
        }
    }

    @Test
    void tlsSettingsForAUrlWithoutTlsAreRefused() {
        assertThatThrownBy(() -> new RedisState("redis://127.0.0.1:" + redis.port(), TIMEOUT, "tls:",
                Optional.of(trusting(redis.certificates())), new SimpleMeterRegistry()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without TLS");
    }

    /** As a Spring Boot PEM bundle naming the CA gives them. */
    static RedisState.Tls trusting(TestCertificates certificates) {
        return tls(SslBundle.of(new PemSslStoreBundle(null, PemSslStoreDetails.forCertificate("file:" + certificates.caFile()))));
    }

    static RedisState.Tls showingClientCertificate(TestCertificates certificates) {
        return tls(SslBundle.of(new PemSslStoreBundle(
                PemSslStoreDetails.forCertificate("file:" + certificates.clientCertificate())
                        .withPrivateKey("file:" + certificates.clientKey()),
                PemSslStoreDetails.forCertificate("file:" + certificates.caFile()))));
    }

    private static RedisState.Tls tls(SslBundle bundle) {
        return new RedisState.Tls(bundle.getManagers().getKeyManagerFactory(), bundle.getManagers().getTrustManagerFactory(),
                List.of(), List.of());
    }
}
