package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.type;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.FileSystemResource;

/** A configuration file's keys bind as written, or the file is refused naming the part Boot would change. */
class KeysReadAsWrittenTest {

    @TempDir
    Path directory;

    @Test
    void keysBootKeepsOrRelaxesAndBracketedNamesAreAcceptedAndBoundAsWritten() throws IOException {
        List<PropertySource<?>> read = yaml("""
                policy-gateway:
                  server_name: example.com
                  maxBodySize: 1MB
                users:
                  Alice: a
                  _bob: b
                  carol.smith: c
                  "[alice+work]": d
                  "[@dave:example.org]": e
                  "[café]": f
                  "[日本]": g
                  7: h
                logging:
                  level:
                    org.springframework.web: debug
                    ROOT: info
                list: [one, two]
                nested: [[x]]
                """);

        assertThat(new Binder(ConfigurationPropertySources.from(read)).bind("users", Bindable.mapOf(String.class, String.class)).get())
                .containsOnlyKeys("Alice", "_bob", "carol.smith", "alice+work", "@dave:example.org", "café", "日本", "7");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            alice+work: x          | 'alice+work' would be read as 'alicework' | "[alice+work]":
            "@dave:example.org": x | '@dave:example' would be read as 'daveexample' | "[@dave:example]":
            café: x                | 'café' would be read as 'caf' | "[café]":
            日本: x                 | '日本' would be dropped from it | "[日本]":
            -x: x                  | '-x' would be read as 'x' | "[-x]":
            "a b": x               | 'a b' would be read as 'ab' | "[a b]":
            """)
    void aKeyWhosePartBootWouldChangeIsRefusedNamingThePartWhatBootReadsAndTheBracketedSpelling(String entry, String problem,
            String fix) throws IOException {
        assertThatThrownBy(() -> yaml("policy-gateway:\n  server-name: example.com\nusers:\n  " + entry + "\n"))
                .asInstanceOf(type(InvalidConfigurationException.class)).satisfies(refused -> {
                    assertThat(refused.heading()).isEqualTo("Configuration key that would not be read as written");
                    assertThat(refused.settings().getFirst().key()).startsWith("users.");
                    assertThat(refused.settings().getFirst().problem()).startsWith("its part " + problem + ": outside [brackets]");
                    assertThat(refused.settings().getFirst().fix()).contains("write it in quotes and brackets, " + fix);
                    assertThat(refused.settings().getFirst().describe("key")).contains("gateway.yml, line 4");
                });
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            no      | true or false | false
            On      | true or false | true
            0123    | a number      | 83
            0x1F    | a number      | 31
            1_000   | a number      | 1000
            +7      | a number      | 7
            1.50    | a number      | 1.5
            ~       | no value      | null
            """)
    void aKeyYamlReadsAsAValueOfAnotherTypeIsRefusedNamingWhatBootWouldReadAndTheQuotedSpelling(String written, String type,
            String read) {
        assertThatThrownBy(() -> yaml("policy-gateway:\n  server-name: example.com\nusers:\n  bob: x\n  " + written + ": y\n"))
                .asInstanceOf(type(InvalidConfigurationException.class)).satisfies(refused -> {
                    assertThat(refused.heading()).isEqualTo("Configuration key that would not be read as written");
                    assertThat(refused.settings().getFirst().key()).isEqualTo("users." + written);
                    assertThat(refused.settings().getFirst().problem()).isEqualTo("YAML reads the key '" + written + "' as " + type
                            + ", and Spring Boot as '" + read + "'");
                    assertThat(refused.settings().getFirst().fix()).startsWith("Write the key in quotes, \"" + written + "\":,");
                    assertThat(refused.settings().getFirst().describe("key")).contains("gateway.yml, line 5, column 3").doesNotContain(": y");
                });
    }

    @Test
    void keysYamlReadsAsTheirOwnTextAndQuotedOnesAreBoundAsWritten() throws IOException {
        List<PropertySource<?>> read = yaml("""
                policy-gateway:
                  server-name: example.com
                users:
                  "no": a
                  "0123": b
                  7: c
                  true: d
                  1.5: e
                  2024-01-01: f
                  null: g
                """);

        assertThat(new Binder(ConfigurationPropertySources.from(read)).bind("users", Bindable.mapOf(String.class, String.class)).get())
                .containsOnlyKeys("no", "0123", "7", "true", "1.5", "2024-01-01", "null");
    }

    @Test
    void aRefusedKeyIsShownWithTheLineOfItsValueAndWithoutTheValue() throws IOException {
        assertThatThrownBy(() -> yaml("""
                policy-gateway:
                  server-name: example.com
                  modules:
                    - module: password_file
                      config:
                        users:
                          bob: "$2y$12$hash-of-bob"
                          alice+work: "$2y$12$hash-of-alice"
                """)).asInstanceOf(type(InvalidConfigurationException.class)).satisfies(refused -> {
                    assertThat(refused.settings().getFirst().key()).isEqualTo("policy-gateway.modules[0].config.users.alice+work");
                    assertThat(refused.settings().getFirst().value()).isNull();
                    assertThat(refused.settings().getFirst().describe("key")).contains("gateway.yml, line 8").doesNotContain("hash-of-alice");
                });
    }

    @Test
    void anEmptyPartOfAKeyIsRefused() {
        assertThatThrownBy(() -> yaml("policy-gateway:\n  server-name: example.com\nusers:\n  \"\": x\n"))
                .asInstanceOf(type(InvalidConfigurationException.class))
                .satisfies(refused -> assertThat(refused.settings().getFirst().problem()).startsWith("its part '' (between two dots"));
    }

    @Test
    void aBracketNeverClosedIsRefusedAsSplitOtherwiseThanItReads() {
        assertThatThrownBy(() -> yaml("policy-gateway:\n  server-name: example.com\nusers:\n  \"[alice\": x\n"))
                .asInstanceOf(type(InvalidConfigurationException.class))
                .satisfies(refused -> {
                    assertThat(refused.settings().getFirst().problem()).startsWith("Spring Boot would split it otherwise than its brackets read");
                    assertThat(refused.settings().getFirst().fix()).startsWith("Close every '['");
                });
    }

    @Test
    void aPropertiesFileIsHeldToTheSameRuleAndToldItsOwnBracketedSpelling() throws IOException {
        Path file = Files.writeString(directory.resolve("gateway.properties"),
                "policy-gateway.server-name=example.com\nusers[alice+work]=a\nusers.bob=b\nusers.carol+x=c\n");

        assertThatThrownBy(() -> new PropertiesFileLoader().load("gateway", new FileSystemResource(file)))
                .asInstanceOf(type(InvalidConfigurationException.class)).satisfies(refused -> {
                    assertThat(refused.settings().getFirst().key()).isEqualTo("users.carol+x");
                    assertThat(refused.settings().getFirst().fix()).contains("write it in brackets, [carol+x],");
                    assertThat(refused.settings().getFirst().describe("key")).contains("gateway.properties, line 4");
                });
    }

    @Test
    void twoSpellingsOfOneSettingInOneFileAreRefusedNamingBothAndTheLineOfEach() {
        assertThatThrownBy(() -> yaml("""
                policy-gateway:
                  server-name: example.com
                  max-body-size: 1MB
                  maxBodySize: 2MB
                """)).asInstanceOf(type(InvalidConfigurationException.class)).satisfies(refused -> {
                    assertThat(refused.heading()).isEqualTo("Configuration key that would not be read as written");
                    assertThat(refused.settings().getFirst().key()).isEqualTo("policy-gateway.maxBodySize");
                    assertThat(refused.settings().getFirst().problem())
                            .startsWith("Spring Boot reads it as the same setting as 'policy-gateway.max-body-size' (line 3)");
                    assertThat(refused.settings().getFirst().describe("key")).contains("gateway.yml, line 4").doesNotContain("2MB");
                    assertThat(refused.settings().getFirst().fix()).startsWith("Keep one of the two.");
                });
    }

    @Test
    void namesOfYourOwnThatBootReadsAsOneAreRefusedAndKeptApartInBrackets() throws IOException {
        assertThatThrownBy(() -> yaml("policy-gateway:\n  server-name: example.com\nusers:\n  carol-smith: a\n  carolsmith: b\n"))
                .asInstanceOf(type(InvalidConfigurationException.class)).satisfies(refused -> {
                    assertThat(refused.settings().getFirst().key()).isEqualTo("users.carolsmith");
                    assertThat(refused.settings().getFirst().fix()).contains("write each of them in quotes and brackets (\"[Alice]\":)");
                });
        assertThatThrownBy(() -> yaml("policy-gateway:\n  server-name: example.com\nusers:\n  Alice: a\n  alice: b\n"))
                .asInstanceOf(type(InvalidConfigurationException.class))
                .satisfies(refused -> assertThat(refused.settings().getFirst().key()).isEqualTo("users.alice"));

        List<PropertySource<?>> read = yaml("""
                policy-gateway:
                  server-name: example.com
                users:
                  "[carol-smith]": a
                  "[carolsmith]": b
                  "[Alice]": c
                  "[alice]": d
                """);
        assertThat(new Binder(ConfigurationPropertySources.from(read)).bind("users", Bindable.mapOf(String.class, String.class)).get())
                .containsExactlyInAnyOrderEntriesOf(Map.of("carol-smith", "a", "carolsmith", "b", "Alice", "c", "alice", "d"));
    }

    @Test
    void aSettingWrittenBothDottedAndNestedInOneDocumentIsRefusedNamingTheLineOfEach() {
        assertThatThrownBy(() -> yaml("""
                policy-gateway.max-body-size: 1MB
                policy-gateway:
                  server-name: example.com
                  max-body-size: 2MB
                """)).asInstanceOf(type(InvalidConfigurationException.class)).satisfies(refused -> {
                    assertThat(refused.heading()).isEqualTo("Configuration key that would not be read as written");
                    assertThat(refused.settings().getFirst().key()).isEqualTo("policy-gateway.max-body-size");
                    assertThat(refused.settings().getFirst().problem()).startsWith("Spring Boot reads it as the same setting as"
                            + " 'policy-gateway.max-body-size' (line 1), written a second time (once as a dotted key, once nested)");
                    assertThat(refused.settings().getFirst().describe("key")).contains("gateway.yml, line 4").doesNotContain("2MB");
                });
    }

    @Test
    void keysBesideAMergeOverrideItsEntriesAndAnAliasRepeatsAValueWithoutConflict() throws IOException {
        List<PropertySource<?>> read = yaml("""
                policy-gateway:
                  server-name: example.com
                defaults: &defaults
                  timeout: 1s
                  cache-ttl: 5m
                entry:
                  <<: *defaults
                  timeout: 2s
                other: *defaults
                """);

        Binder binder = new Binder(ConfigurationPropertySources.from(read));
        assertThat(binder.bind("entry", Bindable.mapOf(String.class, String.class)).get())
                .containsExactlyInAnyOrderEntriesOf(Map.of("timeout", "2s", "cache-ttl", "5m"));
        assertThat(binder.bind("other.timeout", String.class).get()).isEqualTo("1s");
    }

    @Test
    void aSettingWrittenAgainInALaterDocumentOfTheFileIsNoConflict() throws IOException {
        assertThat(yaml("""
                policy-gateway:
                  server-name: example.com
                  max-body-size: 1MB
                ---
                spring.config.activate.on-profile: big
                policy-gateway:
                  maxBodySize: 2MB
                """)).hasSize(2);
    }

    @Test
    void aPropertiesFileWithOneSettingWrittenTwoWaysIsRefusedAndToldItsBracketedSpelling() throws IOException {
        Path file = Files.writeString(directory.resolve("gateway.properties"),
                "policy-gateway.server-name=example.com\nusers.bob_x=a\nusers.bob-x=b\n");

        assertThatThrownBy(() -> new PropertiesFileLoader().load("gateway", new FileSystemResource(file)))
                .asInstanceOf(type(InvalidConfigurationException.class)).satisfies(refused -> {
                    assertThat(refused.settings().getFirst().key()).isEqualTo("users.bob-x");
                    assertThat(refused.settings().getFirst().problem()).contains("'users.bob_x' (line 2)");
                    assertThat(refused.settings().getFirst().fix()).contains("in brackets (users[Alice]=)");
                    assertThat(refused.settings().getFirst().describe("key")).contains("gateway.properties, line 3");
                });
    }

    private List<PropertySource<?>> yaml(String text) throws IOException {
        Path file = Files.writeString(directory.resolve("gateway.yml"), text);
        return new YamlFileLoader().load("gateway", new FileSystemResource(file));
    }
}
