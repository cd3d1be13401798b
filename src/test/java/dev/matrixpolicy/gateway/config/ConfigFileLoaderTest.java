package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** The gateway's configuration file loaders read files as Spring Boot's own do. */
class ConfigFileLoaderTest {
    /** A configuration without a token: the gateway warns that it answers loopback callers only. */
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("answering loopback callers only", "serves no module");

    @TempDir
    Path directory;

    @Test
    void propertiesFileStillOutranksAYamlFileOfTheSameNameAsInSpringBoot() throws IOException {
        Files.writeString(directory.resolve("application.yml"), """
                policy-gateway:
                  server-name: from-yaml.example
                  max-body-size: 3MB
                """);
        Files.writeString(directory.resolve("application.properties"), "policy-gateway.server-name=from-properties.example\n");

        try (ConfigurableApplicationContext gateway = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                .web(WebApplicationType.NONE)
                .run("--spring.config.location=file:" + directory + "/")) {
            PolicyGatewayProperties properties = gateway.getBean(PolicyGatewayProperties.class);

            assertThat(properties.serverName()).isEqualTo("from-properties.example");
            assertThat(properties.maxBodySize().toMegabytes()).isEqualTo(3);
        }
    }

    /** Boot reads a properties file in ISO-8859-1, unless its location names another encoding. */
    @Test
    void aPropertiesFileIsReadInTheEncodingItsLocationNamesAsInSpringBoot() throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.properties"), """
                policy-gateway.modules[0].module=user_denylist
                policy-gateway.modules[0].config.users=@spam:bad.example
                policy-gateway.modules[0].config.error=Bienvenue à personne — ни за что
                """, StandardCharsets.UTF_8);

        try (ConfigurableApplicationContext gateway = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                .web(WebApplicationType.NONE)
                .run("--spring.config.additional-location=file:" + config + "[encoding=utf-8]")) {
            assertThat(gateway.getBean(PolicyGatewayProperties.class).modules().getFirst().config())
                    .containsEntry("error", "Bienvenue à personne — ни за что");
        }
    }

    /** The hint the screen for a location without a known extension gives ({@link ConfigLocationFailureAnalyzer}). */
    @Test
    void aFileWithoutAKnownExtensionIsReadByTheFormatInBracketsAfterItsLocationOptionalOrNot() throws IOException {
        Path config = Files.writeString(directory.resolve("gateway.conf"), "policy-gateway:\n  server-name: from-conf.example\n");

        for (String location : new String[] {"file:" + config + "[.yml]", "optional:file:" + config + "[.yml]"}) {
            try (ConfigurableApplicationContext gateway = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                    .web(WebApplicationType.NONE)
                    .run("--spring.config.additional-location=" + location)) {
                assertThat(gateway.getBean(PolicyGatewayProperties.class).serverName()).as(location).isEqualTo("from-conf.example");
            }
        }
    }

    @Test
    void aFileOfAFewAliasesIsReadWithTheAliasesExpanded() throws IOException {
        Files.writeString(directory.resolve("application.yml"), """
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: user_denylist
                      name: first
                      config: &spammers
                        users: ["@spam:bad.example"]
                    - module: user_denylist
                      name: second
                      config: *spammers
                """);

        try (ConfigurableApplicationContext gateway = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                .web(WebApplicationType.NONE).run("--spring.config.location=file:" + directory + "/")) {
            assertThat(gateway.getBean(PolicyGatewayProperties.class).modules()).hasSize(2);
        }
    }

    @Test
    void anEmptyModulesListReplacesThePackagedChainWithNone() throws IOException {
        for (String empty : java.util.List.of("modules: []", "modules:")) {
            Files.writeString(directory.resolve("application.yml"), "policy-gateway:\n  server-name: example.com\n  " + empty + "\n");

            try (ConfigurableApplicationContext gateway = new SpringApplicationBuilder(PolicyGatewayApplication.class)
                    .web(WebApplicationType.NONE).run("--spring.config.additional-location=file:" + directory + "/")) {
                assertThat(gateway.getBean(PolicyGatewayProperties.class).modules()).as(empty).isEmpty();
            }
        }
    }
}
