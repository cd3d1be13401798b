package dev.matrixpolicy.gateway.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * The gateway of the console's stories (application-console.yml): its {@code policy_list} reads a
 * local file of rules, its {@code user_denylist} a users file and its {@code content_rules} a media
 * hashes file, all written here.
 */
public final class ConsoleGateway {
    public static final String PROFILE = "console";
    public static final String TOKEN = "console-token";
    public static final String RULES = "# our own list\nban user @local-spammer:example.com posted scams\nban server evil.example\n";
    /** Two exact user IDs and a glob. */
    public static final String USERS = "@troll:example.com\n@raider:example.com # from the raid\n@raid-*:*\n";
    /** Three hashes. */
    public static final String HASHES = ("a".repeat(64) + "\n" + "b".repeat(64) + " # a scam flyer\n" + "C".repeat(64) + "\n");

    private ConsoleGateway() {
    }

    /**
     * Waits until the gateway is ready: a new gateway is not before its rules file's first read has
     * ended, and until then its health is 503. For tests that assert a health of 200.
     */
    public static void awaitReady(int managementPort) {
        await().atMost(Duration.ofSeconds(10))
                .until(() -> new GatewayClient(managementPort, null).get("/actuator/health/readiness").status() == 200);
    }

    /** Writes the rules, users and hashes files and points the configuration at them. */
    public static void rulesFile(DynamicPropertyRegistry registry) {
        rulesFile(registry, RULES);
    }

    /** As {@link #rulesFile(DynamicPropertyRegistry)}, with the policy list's rules given. */
    public static void rulesFile(DynamicPropertyRegistry registry, String rules) {
        write(registry, "console-test.file", rules);
        write(registry, "console-test.users-file", USERS);
        write(registry, "console-test.hashes-file", HASHES);
    }

    /** Writes {@code content} to a temporary file and sets {@code property} to its path. */
    public static void write(DynamicPropertyRegistry registry, String property, String content) {
        try {
            Path file = Files.createTempFile(property, ".txt");
            file.toFile().deleteOnExit();
            Files.writeString(file, content);
            registry.add(property, file::toString);
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }
}
