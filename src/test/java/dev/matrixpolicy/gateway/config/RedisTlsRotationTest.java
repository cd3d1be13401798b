package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.SharedState;
import dev.matrixpolicy.gateway.state.Take;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.KubeletVolume;
import dev.matrixpolicy.gateway.support.LoggedLines;
import dev.matrixpolicy.gateway.support.RedisServer;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import dev.matrixpolicy.gateway.support.TestCertificates;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/**
 * cert-manager renewing the Secret behind the Redis SSL bundle of a running gateway, as the kubelet
 * updates the mounted files (a {@code ..data} link swapped): with {@code reload-on-update}, the
 * gateway's reconnections to a redis-server that asks for client certificates use the new ones,
 * without a restart. The server changes its own certificate and authority with {@code CONFIG SET},
 * so it accepts only the new client certificate from then on.
 */
class RedisTlsRotationTest {
    private static final Bucket BUCKET = new Bucket(1000, Duration.ofMinutes(1));
    private static final Duration WAIT = Duration.ofSeconds(15);

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = "dev.matrixpolicy.gateway.config")
    static class Gateway {
    }

    /** While the connection is made again, and refused before its files are good again. */
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("serves no module", "Redis connection lost, and reconnecting failed",
            "Redis reconnection still failing", "Cannot reconnect to");

    /** Its certificates are those of the last rotation. */
    @RegisterExtension
    static final RedisServer redis = RedisServer.tls(true, "IP:127.0.0.1");

    @RegisterExtension
    final LoggedLines lines = LoggedLines.of(StateConfiguration.class, Level.INFO);

    @TempDir
    static Path directory;

    private KubeletVolume secret;

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class, SslAutoConfiguration.class))
            .withUserConfiguration(Gateway.class)
            .withBean(SimpleMeterRegistry.class);

    @BeforeEach
    void mountTheSecret() throws IOException {
        secret = KubeletVolume.mount(directory.resolve("redis-tls-" + UUID.randomUUID()), files(redis.certificates()));
    }

    private ApplicationContextRunner gateway() {
        return runner.withPropertyValues("policy-gateway.server-name=example.com",
                "policy-gateway.state.redis.url=" + redis.url(), "policy-gateway.state.redis.ssl-bundle=redis",
                "spring.ssl.bundle.pem.redis.truststore.certificate=file:" + secret.file("ca.crt"),
                "spring.ssl.bundle.pem.redis.keystore.certificate=file:" + secret.file("tls.crt"),
                "spring.ssl.bundle.pem.redis.keystore.private-key=file:" + secret.file("tls.key"),
                "spring.ssl.bundle.pem.redis.reload-on-update=true",
                "spring.ssl.bundle.watch.file.quiet-period=100ms");
    }

    @Test
    void afterTheSecretIsRenewedReconnectionsShowTheNewClientCertificateAndTrustTheNewAuthority() {
        gateway().run(context -> {
            SharedState state = context.getBean(SharedState.class);
            assertThat(state.take("rotation:" + UUID.randomUUID(), BUCKET)).isEqualTo(Take.ALLOWED);
            TestCertificates renewed = TestCertificates.make(Files.createDirectory(directory.resolve("renewed-" + UUID.randomUUID())), "IP:127.0.0.1");

            secret.update(files(renewed));
            redis.rotateTo(renewed);
            // the connection made with the old certificate keeps its session: Redis checked it at the handshake only
            assertThat(state.take("rotation:" + UUID.randomUUID(), BUCKET)).isEqualTo(Take.ALLOWED);
            redis.dropClients();

            // until the gateway has read the renewed files, reconnecting fails
            await().atMost(WAIT).ignoreExceptions().until(() -> state.take("rotation:" + UUID.randomUUID(), BUCKET) == Take.ALLOWED);
            // the gateway hands the renewed files to the connections, then says so: a reconnection may come first
            await().atMost(WAIT).until(() -> lines.at(Level.INFO).stream().anyMatch(line -> line.contains("'redis' changed")));
            assertThat(lines.at(Level.INFO)).filteredOn(line -> line.contains("'redis' changed")).singleElement().asString()
                    .contains("reconnections included");
            assertThat(lines.at(Level.WARN)).isEmpty();
        });
    }

    @Test
    void renewedFilesThatCannotBeLoadedAreNamedInOneWarningAndTheCertificatesLoadedBeforeStayInUse() {
        gateway().run(context -> {
            SharedState state = context.getBean(SharedState.class);
            assertThat(state.take("broken:" + UUID.randomUUID(), BUCKET)).isEqualTo(Take.ALLOWED);

            secret.update(Map.of("ca.crt", Files.readString(redis.certificates().caFile()),
                    "tls.crt", Files.readString(redis.certificates().clientCertificate()), "tls.key", "half-written\n"));
            await().atMost(WAIT).until(() -> !lines.at(Level.WARN).isEmpty());
            assertThat(lines.at(Level.WARN)).singleElement().asString()
                    .contains("SSL bundle 'redis' changed, but its files cannot be loaded")
                    .contains("Missing private key").contains(secret.file("tls.key").toString());
            assertThat(lines.at(Level.INFO)).noneMatch(line -> line.contains("'redis' changed"));
            redis.dropClients();

            await().atMost(WAIT).ignoreExceptions().until(() -> state.take("broken:" + UUID.randomUUID(), BUCKET) == Take.ALLOWED);
        });
    }

    /** The keys of a cert-manager Secret. */
    private static Map<String, String> files(TestCertificates certificates) throws IOException {
        return Map.of("ca.crt", Files.readString(certificates.caFile()), "tls.crt", Files.readString(certificates.clientCertificate()),
                "tls.key", Files.readString(certificates.clientKey()));
    }
}
