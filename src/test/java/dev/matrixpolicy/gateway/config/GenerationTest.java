package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.chain.ChainObserver;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.SecretFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

/** What a generation read from its secret files, told apart from what they hold now (the file watcher asks). */
class GenerationTest {
    private final ChainRunner runner = new ChainRunner(ChainObserver.NONE);

    @TempDir
    Path directory;

    @AfterEach
    void stop() {
        runner.close();
    }

    @Test
    void tokenFilesHoldWhatTheGenerationReadUntilTheirTokenChanges() throws IOException {
        Path shared = write("shared-token", "homeserver-token\n");
        Path admin = write("admin-token", "admin-token");
        Generation generation = generation(new PolicyGatewayProperties.Auth(null, shared), new PolicyGatewayProperties.Admin(null, admin),
                Optional.of("homeserver-token"), Optional.of("admin-token"));

        assertThat(generation.holdsWhatItRead(shared)).isTrue();
        assertThat(generation.holdsWhatItRead(admin)).isTrue();

        write("shared-token", "rotated\n");
        Files.delete(admin);

        assertThat(generation.holdsWhatItRead(shared)).isFalse();
        assertThat(generation.holdsWhatItRead(admin)).isFalse();
    }

    @Test
    void aModulesSecretFileHoldsWhatItReadUntilTheSecretChanges() throws IOException {
        Path secret = write("webhook-token", "first\n");
        Generation generation = generation(new PolicyGatewayProperties.Auth(null, null), new PolicyGatewayProperties.Admin(null, null),
                Optional.empty(), Optional.empty(),
                instance(Map.of(secret, SecretFile.fingerprint("first"))));

        assertThat(generation.holdsWhatItRead(secret)).isTrue();

        write("webhook-token", "");

        assertThat(generation.holdsWhatItRead(secret)).as("an empty file holds no secret").isFalse();
    }

    @Test
    void aFileItReadNoSecretFromHoldsWhatItRead() throws IOException {
        Path configuration = write("gateway.yml", "policy-gateway: {}\n");
        Generation generation = generation(new PolicyGatewayProperties.Auth(null, null), new PolicyGatewayProperties.Admin(null, null),
                Optional.empty(), Optional.empty(), instance(Map.of()));

        assertThat(generation.holdsWhatItRead(configuration)).isTrue();
        assertThat(generation.holdsWhatItRead(directory.resolve("missing"))).isTrue();
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(directory.resolve(name), content);
    }

    private Generation generation(PolicyGatewayProperties.Auth auth, PolicyGatewayProperties.Admin admin,
                                  Optional<String> sharedToken, Optional<String> adminToken, ModuleInstance... modules) {
        PolicyGatewayProperties properties = new PolicyGatewayProperties("example.com", auth, admin,
                new PolicyGatewayProperties.DecisionLog(100),
                new PolicyGatewayProperties.Defaults(FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(5)), DataSize.ofMegabytes(1),
                List.of(), new PolicyGatewayProperties.Reload(true, Duration.ofSeconds(1)),
                PolicyGatewayProperties.PolicyServer.disabled(), PolicyGatewayProperties.State.inMemory());
        return new Generation(1, properties, List.of(modules), new CallbackChains(List.of(modules), runner), sharedToken, adminToken,
                Instant.EPOCH);
    }

    private static ModuleInstance instance(Map<Path, String> secretFiles) {
        return new ModuleInstance(0, "test", "webhook", new PolicyModule() {
        }, FailurePolicy.FAIL_CLOSED, Duration.ofSeconds(1), Link.Mode.ENFORCE, secretFiles);
    }
}
