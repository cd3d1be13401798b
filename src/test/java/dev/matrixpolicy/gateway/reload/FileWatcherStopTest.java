package dev.matrixpolicy.gateway.reload;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.config.ConfigurationLoader;
import dev.matrixpolicy.gateway.config.GenerationBuilder;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.config.SettingSources;
import dev.matrixpolicy.gateway.config.SpringSettingsCheck;
import dev.matrixpolicy.gateway.support.LoggedLines;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.validation.Validator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.io.Resource;

/** The file watcher's stop, as the gateway stops, with a reload under way. */
class FileWatcherStopTest {
    private static final String CONFIG = """
            policy-gateway:
              server-name: example.com
              auth:
                token: watcher-stop-token
              modules:
                - module: user_denylist
                  name: spammers
                  config:
                    users: ["@spam:bad.example"]
                    error: old refusal
            """;

    @RegisterExtension
    final LoggedLines reloaderLines = LoggedLines.of(Reloader.class, Level.DEBUG);
    @RegisterExtension
    final LoggedLines watcherLines = LoggedLines.of(FileWatcher.class, Level.INFO);

    @TempDir
    static Path directory;

    private static Path config;
    /** Started before the lines are watched: Spring Boot sets its logging up as it starts. */
    private static ConfigurableApplicationContext gateway;

    @BeforeAll
    static void start() throws IOException {
        config = Files.writeString(directory.resolve("gateway.yml"), CONFIG);
        gateway = new SpringApplicationBuilder(PolicyGatewayApplication.class).run(
                "--spring.config.additional-location=file:" + config, "--server.port=0", "--management.server.port=0",
                "--policy-gateway.reload.watch=false");
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void aReloadCutShortByTheWatchersStopIsNeitherRefusedNorCountedAsFailed() throws Exception {
        StoppedReading files = new StoppedReading();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Reloader reloader = new Reloader(gateway.getBean(Generations.class), gateway.getBean(GenerationBuilder.class),
                new ConfigurationLoader(gateway.getBean(SettingSources.BEAN_NAME, SettingSources.class), files,
                        gateway.getBean(Validator.class)), new SpringSettingsCheck(gateway), gateway.getEnvironment().getPropertySources(), registry, Clock.systemUTC());
        FileWatcher watcher = new FileWatcher(reloader, Duration.ofMillis(50));
        watcher.start();

        files.held = true;
        Files.writeString(config, CONFIG.replace("old refusal", "new refusal"));
        assertThat(files.reading.await(10, TimeUnit.SECONDS)).as("the reload reads the changed file").isTrue();
        watcher.stop();

        assertThat(reloaderLines.at(Level.DEBUG)).singleElement().asString().contains("cut short by the stop");
        assertThat(reloaderLines.at(Level.WARN)).isEmpty();
        assertThat(reloaderLines.at(Level.ERROR)).isEmpty();
        assertThat(watcherLines.at(Level.WARN)).isEmpty();
        assertThat(reloader.failing()).isFalse();
        assertThat(registry.get("policy.config.reloads").tag("result", "failed").counter().count()).isZero();
        assertThat(registry.get("policy.config.reload.failing").gauge().value()).isZero();
    }

    /**
     * Configuration files read as Spring Boot reads them, except that, once {@link #held}, the reading
     * waits until its thread is interrupted and then fails, as a step of a reload that waits (a fetch,
     * a lock) fails when interrupted: the stop lands in the middle of a reload.
     */
    private static final class StoppedReading extends DefaultResourceLoader {
        final CountDownLatch reading = new CountDownLatch(1);
        volatile boolean held;

        @Override
        public Resource getResource(String location) {
            if (held) {
                reading.countDown();
                try {
                    new CountDownLatch(1).await();
                } catch (InterruptedException stopping) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while reading " + location, stopping);
                }
            }
            return super.getResource(location);
        }
    }
}
