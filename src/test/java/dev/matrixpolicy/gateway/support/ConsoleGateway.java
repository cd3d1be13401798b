package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * The gateway of the console's stories (application-console.yml): its {@code policy_list} reads a
 * local file of rules, written here.
 */
public final class ConsoleGateway {
    public static final String PROFILE = "console";
    public static final String TOKEN = "console-token";
    public static final String RULES = "# our own list\nban user @local-spammer:example.com posted scams\nban server evil.example\n";

    private ConsoleGateway() {
    }

    /** Writes the rules file and points the configuration at it. */
    public static void rulesFile(DynamicPropertyRegistry registry) {
        try {
            Path file = Files.createTempFile("console-rules", ".txt");
            file.toFile().deleteOnExit();
            Files.writeString(file, RULES);
            registry.add("console-test.file", file::toString);
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }
}
