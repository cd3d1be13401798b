package dev.matrixpolicy.gateway.modules.passwordfile;

import dev.matrixpolicy.gateway.config.Generations;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.BUILDER_ARGON2;
import static dev.matrixpolicy.gateway.modules.passwordfile.Hashes.WONDERLAND_BCRYPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.ModuleConfigs;
import dev.matrixpolicy.gateway.support.NamedPipe;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;

/** What a {@code password_file} entry does to startup: the auth checkers it adds, or the message that stops it. */
class PasswordFileConfigurationTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings(ExpectedOutput.FAILED_CONTEXT);

    private static final String ENTRY = "policy-gateway.modules[0] (module: password_file) ";

    @Configuration(proxyBeanMethods = false)
    @ComponentScan(basePackages = {"dev.matrixpolicy.gateway.config", "dev.matrixpolicy.gateway.modules.passwordfile"})
    static class GatewayWithPasswordFile {
    }

    @TempDir
    Path directory;

    private final ApplicationContextRunner runner = ScannedOnceContext.runner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(GatewayWithPasswordFile.class)
            .withBean(SimpleMeterRegistry.class)
            .withPropertyValues("policy-gateway.server-name=example.com", "policy-gateway.modules[0].module=password_file");

    private String passwordFile(String content) throws IOException {
        Path file = directory.resolve("passwords");
        Files.writeString(file, content);
        return file.toString();
    }

    @Test
    void fileAndInlineUsersAddAnAuthCheckerForPasswordLogins() throws IOException {
        runner.withPropertyValues("policy-gateway.modules[0].config.file=" + passwordFile("alice:" + WONDERLAND_BCRYPT),
                        "policy-gateway.modules[0].config.users.bob=" + BUILDER_ARGON2)
                .run(context -> assertThat(context.getBean(Generations.class).current().chains().authCheckers())
                        .containsOnlyKeys(LoginType.of("m.login.password", "password")));
    }

    @Test
    void synapseStyleKeysBindTooAndAddTheCustomLoginType() {
        runner.withPropertyValues("policy-gateway.modules[0].config.users.alice=" + WONDERLAND_BCRYPT,
                        "policy-gateway.modules[0].config.custom_login_type.type=my.login_type",
                        "policy-gateway.modules[0].config.custom_login_type.field=my_field",
                        "policy-gateway.modules[0].config.reload_check_interval=30s")
                .run(context -> assertThat(context.getBean(Generations.class).current().chains().authCheckers()).containsOnlyKeys(
                        LoginType.of("m.login.password", "password"), LoginType.of("my.login_type", "my_field")));
    }

    @Test
    void plaintextInTheFileStopsStartupNamingTheLineButNotThePassword() throws IOException {
        String file = passwordFile("alice:" + WONDERLAND_BCRYPT + "\nbob:hunter2\n");

        runner.withPropertyValues("policy-gateway.modules[0].config.file=" + file)
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.file: " + file + " line 2 (user 'bob'): not a bcrypt")
                        .satisfies(failure -> assertThat(stackTraceOf(failure)).doesNotContain("hunter2")));
    }

    @Test
    void plaintextInlineStopsStartupNamingTheUserButNotThePassword() {
        runner.withPropertyValues("policy-gateway.modules[0].config.users.alice=hunter2")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.users.alice: not a bcrypt")
                        .satisfies(failure -> assertThat(stackTraceOf(failure)).doesNotContain("hunter2")));
    }

    @Test
    void missingFileStopsStartupInTheWordsOfAnAdminNotOfJava() {
        String missing = directory.resolve("absent").toString();

        runner.withPropertyValues("policy-gateway.modules[0].config.file=" + missing)
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.file: " + missing + " does not exist: create it, or correct the path"));
    }

    /** Opened, a pipe would hold the startup until a writer came, without a line. */
    @Test
    void aNamedPipeStopsStartupSayingToNameARegularFile() throws Exception {
        try (NamedPipe pipe = NamedPipe.at(directory.resolve("passwords"))) {
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> runner
                    .withPropertyValues("policy-gateway.modules[0].config.file=" + pipe.path())
                    .run(context -> assertThat(context).getFailure().hasStackTraceContaining(ENTRY + "config.file: " + pipe.path()
                            + " is not a regular file (a device or a named pipe): name a regular file")));
        }
    }

    @Test
    void aDirectoryOrAFileThatIsNotUtf8StopsStartupSayingWhich() throws Exception {
        Path latin1 = Files.write(directory.resolve("latin1"), "alice:$2b$12$caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));

        runner.withPropertyValues("policy-gateway.modules[0].config.file=" + directory)
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.file: " + directory + " is a directory: name a file"));
        runner.withPropertyValues("policy-gateway.modules[0].config.file=" + latin1)
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.file: " + latin1 + " is not valid UTF-8: save it as UTF-8"));
    }

    @Test
    void neitherFileNorUsersStopsStartup() {
        runner.run(context -> assertThat(context).getFailure()
                .hasStackTraceContaining(ENTRY + "config.file: set file, users, or both"));
    }

    @Test
    void customLoginTypeCannotTakeOverPasswordLogins() {
        runner.withPropertyValues("policy-gateway.modules[0].config.users.alice=" + WONDERLAND_BCRYPT,
                        "policy-gateway.modules[0].config.custom-login-type.type=m.login.password",
                        "policy-gateway.modules[0].config.custom-login-type.field=secret")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.custom-login-type.type: m.login.password is always checked"));
    }

    @Test
    void customLoginTypeLongerThanAMatrixNamespacedIdentifierIsRefusedNamingTheKey() {
        // 255 characters at most (the spec's common identifier grammar): the Synapse module refuses a discovery
        // naming a longer one, so none of the gateway's login types would be registered
        runner.withPropertyValues("policy-gateway.modules[0].config.users.alice=" + WONDERLAND_BCRYPT,
                        "policy-gateway.modules[0].config.custom-login-type.type=org.example." + "x".repeat(288),
                        "policy-gateway.modules[0].config.custom-login-type.field=secret")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.custom-login-type.type: is 300 characters long, more than "
                                + "the 255 of a Matrix namespaced identifier such as m.login.password: shorten it"));
    }

    @Test
    void customLoginTypeWithoutAFieldIsRefusedNamingTheFieldInFull() {
        runner.withPropertyValues("policy-gateway.modules[0].config.users.alice=" + WONDERLAND_BCRYPT,
                        "policy-gateway.modules[0].config.custom-login-type.type=my.login_type")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.custom-login-type.field: must not be blank"));
    }

    /** 200000 days do not fit the nanoseconds the interval is kept in: they stopped startup with 'long overflow'. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"0s, must be positive", "-1s, must be positive", "200000d, must be at most 366 days"})
    void reloadCheckIntervalOutOfRangeIsRefusedNamingTheKey(String interval, String problem) {
        runner.withPropertyValues("policy-gateway.modules[0].config.users.alice=" + WONDERLAND_BCRYPT,
                        "policy-gateway.modules[0].config.reload-check-interval=" + interval)
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining(ENTRY + "config.reload-check-interval: " + problem));
    }

    @Test
    void inlineLocalpartsWithPlusOrSlashKeepThemWhenWrittenInBrackets() {
        runner.withPropertyValues("policy-gateway.modules[0].config.users.[alice+work]=" + WONDERLAND_BCRYPT,
                        "policy-gateway.modules[0].config.users.[team/bob]=" + BUILDER_ARGON2)
                .run(context -> assertThat(((PasswordFile) context.getBean(Generations.class).current().modules().getFirst().module())
                        .credentials().current().users()).containsOnlyKeys("alice+work", "team/bob"));
    }

    /** A configuration printed (a log line, a debugger) names the inline users but hands out no hash to guess against. */
    @Test
    void printedConfigurationNamesTheInlineUsersButNotTheirHashes() {
        PasswordFileConfig config = ModuleConfigs.bind(PasswordFileConfig.class, Map.of("users.alice", WONDERLAND_BCRYPT),
                Map.of("users.bob", BUILDER_ARGON2));

        assertThat(config.toString()).contains("alice", "bob", "hashes redacted")
                .doesNotContain(WONDERLAND_BCRYPT).doesNotContain(BUILDER_ARGON2).doesNotContain("$2").doesNotContain("$argon2id");
    }

    private static String stackTraceOf(Throwable failure) {
        StringWriter trace = new StringWriter();
        failure.printStackTrace(new PrintWriter(trace));
        return trace.toString();
    }
}
