package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.Markdown;
import dev.matrixpolicy.gateway.support.Markdown.Block;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import dev.matrixpolicy.gateway.support.TestCertificates;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.FileSystemResource;

/**
 * Every configuration the documentation shows starts the gateway. The convention, stated at the top of
 * docs/configuration.md:
 *
 * <ul>
 *   <li>A {@code yaml} block with a top-level {@code policy-gateway:} is a gateway configuration. It is
 *       laid over the embedded default {@code application.yml}, as a file given with
 *       {@code --spring.config.additional-location} is, and must pass what startup checks: binding and
 *       validation of {@code policy-gateway}, unknown keys, and every {@code modules} entry built by its
 *       built-in module type (its {@code config:} bound, validated and accepted by the type). A failure
 *       prints the startup message, whose file and line are the page's and the block's.</li>
 *   <li>Helm values (a block whose first line is a comment naming a values file) check their
 *       {@code config:}, which the chart renders as {@code policy-gateway:}, the same way.</li>
 *   <li>Every other {@code yaml} block says in a first-line comment which file it belongs to
 *       ({@code # homeserver.yaml}); one that does not, or that holds a gateway module entry
 *       ({@code module:} with a gateway module type's name) outside a whole configuration, fails: a
 *       fragment would be copied and never checked.</li>
 * </ul>
 *
 * The files an example names and startup reads (token files, a password file, a media hash list)
 * are not on this machine: {@link #FILES_THE_EXAMPLES_NAME} holds a stand-in for each (a certificate
 * authority made for the run for {@link #REDIS_CA_THE_EXAMPLES_NAME}), written under
 * the test's own directory, and the example is pointed there. A new example that names another
 * such file fails until it is added. Not checked: the URLs and hosts an example names (modules ask
 * their backends when asked, or in the background), the policy server's key file (read when its
 * listener starts), and keys outside {@code policy-gateway}, which are Spring Boot's.
 */
class DocumentedConfigurationTest {
    private static final Pattern TOP_LEVEL_KEY = Pattern.compile("^([\\w-]+):.*");
    private static final Pattern GATEWAY_MODULE_ENTRY = Pattern.compile("^\\s*(?:-\\s*)?module:\\s*[a-z_]+\\s*(#.*)?$");
    private static final Pattern FIRST_LINE_SAYS_WHERE = Pattern.compile("^\\s*(#|\\{\\{/\\*).+");
    private static final Pattern HELM_VALUES = Pattern.compile("^#.*values.*\\.yaml.*");

    /** The environment variables the examples' placeholders name, with a stand-in value, as a pod would set them. */
    private static final Map<String, Object> ENVIRONMENT_THE_EXAMPLES_NAME = Map.of(
            "AUDIT_WEBHOOK_TOKEN", "an-audit-token-from-the-environment");

    /** The files the examples name, with a stand-in content of the right form. */
    private static final Map<String, String> FILES_THE_EXAMPLES_NAME = Map.of(
            "/run/secrets/policy-gateway-token", "a-shared-token\n",
            "/run/secrets/policy-service-token", "a-backend-token\n",
            "/run/secrets/policy-bot-token", "a-bot-access-token\n",
            "/run/secrets/audit-webhook-token", "an-audit-webhook-token\n",
            "/etc/policy-gateway/passwords", "alice:$2y$12$ek71DoNrB82PTJwS2zgPJ.WFTSkUCRso1O/JUXYZOO.ztkojt2vlW\n",
            "/etc/policy-gateway/media-hashes.txt", "# one SHA-256 per line\n",
            "/etc/policy-gateway/denylist.txt", "# one user ID or glob per line\n@spammer:example.com\n");

    /** A certificate authority's PEM file, which the example's SSL bundle loads at startup: one made for the run. */
    private static final String REDIS_CA_THE_EXAMPLES_NAME = "/etc/redis-tls/ca.crt";

    @TempDir
    Path copies;

    /** The examples name hosts and files that are not here: what the gateway says of them, kept off the console. */
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("does not answer yet", "could not be read");

    @Test
    void theDocumentationShowsGatewayConfigurations() {
        assertThat(gatewayConfigurations().count()).isGreaterThanOrEqualTo(10);
    }

    @TestFactory
    Stream<DynamicTest> everyGatewayConfigurationInTheDocumentationStartsTheGateway() {
        return gatewayConfigurations().map(shown -> DynamicTest.dynamicTest(shown.where(), () -> starts(shown)));
    }

    @Test
    void everyOtherYamlBlockSaysWhichFileItBelongsToAndHoldsNoGatewayModuleEntry() {
        List<String> unclear = new ArrayList<>();
        for (Markdown page : Markdown.repository()) {
            for (Block block : page.blocks()) {
                if (!block.language().equals("yaml") || isGatewayConfiguration(block) || isHelmValues(block)) {
                    continue;
                }
                if (block.lines().isEmpty() || !FIRST_LINE_SAYS_WHERE.matcher(block.lines().getFirst()).matches()) {
                    unclear.add(page.at(block.firstLine()) + ": a yaml block that is not a gateway configuration "
                            + "must say in a first-line comment which file it belongs to (# homeserver.yaml)");
                }
                for (int line = 0; line < block.lines().size(); line++) {
                    if (GATEWAY_MODULE_ENTRY.matcher(block.lines().get(line)).matches()) {
                        unclear.add(page.at(block.firstLine() + line) + ": a gateway module entry outside a whole "
                                + "configuration; show it under policy-gateway: modules: so that it is checked");
                    }
                }
            }
        }
        assertThat(unclear).isEmpty();
    }

    /** A configuration shown on a page: the page, and the block rewritten as an application.yml. */
    record Shown(Markdown page, Block block, String yaml) {
        String where() {
            return page.at(block.firstLine());
        }
    }

    private static Stream<Shown> gatewayConfigurations() {
        return Markdown.repository().stream().flatMap(page -> page.blocks().stream()
                .filter(block -> block.language().equals("yaml"))
                .<Shown>mapMulti((block, shown) -> {
                    if (isGatewayConfiguration(block)) {
                        shown.accept(new Shown(page, block, block.text()));
                    } else if (isHelmValues(block) && topLevelKeys(block).contains("config")) {
                        shown.accept(new Shown(page, block, block.text().replaceFirst("(?m)^config:", "policy-gateway:")));
                    }
                }));
    }

    private static boolean isGatewayConfiguration(Block block) {
        return topLevelKeys(block).contains("policy-gateway");
    }

    private static boolean isHelmValues(Block block) {
        return !block.lines().isEmpty() && HELM_VALUES.matcher(block.lines().getFirst()).matches();
    }

    private static List<String> topLevelKeys(Block block) {
        return block.lines().stream().map(TOP_LEVEL_KEY::matcher).filter(Matcher::matches)
                .map(key -> key.group(1)).toList();
    }

    /**
     * Starts what startup starts of the gateway on the shown configuration: the shown file above the
     * embedded default, the built-in module types, and no web server. The copy has the page's path
     * and the block at the page's lines, so that a message naming its file and line names the page's.
     */
    private void starts(Shown shown) {
        Path copy = copies.resolve(shown.page().file());
        String yaml = shown.yaml();
        try {
            if (yaml.contains(REDIS_CA_THE_EXAMPLES_NAME)) {
                Path made = Files.createDirectories(copies.resolve("redis-tls"));
                yaml = yaml.replace(REDIS_CA_THE_EXAMPLES_NAME, TestCertificates.make(made, "DNS:redis.internal").caFile().toString());
            }
            for (Map.Entry<String, String> file : FILES_THE_EXAMPLES_NAME.entrySet()) {
                if (yaml.contains(file.getKey())) {
                    Path standIn = copies.resolve("files" + file.getKey());
                    Files.createDirectories(standIn.getParent());
                    Files.writeString(standIn, file.getValue());
                    yaml = yaml.replace(file.getKey(), standIn.toString());
                }
            }
            Files.createDirectories(copy.getParent());
            Files.writeString(copy, "\n".repeat(shown.block().firstLine() - 1) + yaml);
        } catch (IOException unwritable) {
            throw new UncheckedIOException(unwritable);
        }
        AtomicReference<ConfigurableEnvironment> environment = new AtomicReference<>();
        ScannedOnceContext.runner()
                .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class, SslAutoConfiguration.class))
                .withUserConfiguration(GatewayConfiguration.class, ConfiguredGateway.BuiltInModuleTypes.class)
                .withBean(SimpleMeterRegistry.class)
                .withInitializer(context -> {
                    environment.set(context.getEnvironment());
                    context.getEnvironment().getPropertySources().addFirst(yaml(copy));
                    context.getEnvironment().getPropertySources().addLast(yaml(Markdown.ROOT.resolve("application.yml")));
                    context.getEnvironment().getPropertySources().addLast(
                            new MapPropertySource("the environment the examples name", ENVIRONMENT_THE_EXAMPLES_NAME));
                })
                .run(context -> {
                    Throwable failure = context.getStartupFailure();
                    assertThat(failure == null ? null : ConfigurationLoader.describe(asRuntime(failure), Optional.of(environment.get())))
                            .as("what startup says of the configuration at %s", shown.where())
                            .isNull();
                    PolicyGatewayProperties properties = context.getBean(PolicyGatewayProperties.class);
                    properties.state().sharedRedis(); // what the shared state checks before connecting
                });
    }

    private static PropertySource<?> yaml(Path file) {
        try {
            List<PropertySource<?>> documents = new YamlFileLoader().load(file.toString(), new FileSystemResource(file));
            assertThat(documents).as("one YAML document in %s", file).hasSize(1);
            return documents.getFirst();
        } catch (IOException unreadable) {
            throw new UncheckedIOException(unreadable);
        }
    }

    private static RuntimeException asRuntime(Throwable failure) {
        return failure instanceof RuntimeException runtime ? runtime : new IllegalStateException(failure);
    }
}
