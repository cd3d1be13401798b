package dev.matrixpolicy.gateway.reload;

import static org.assertj.core.api.Assertions.assertThat;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.awaitility.Awaitility.await;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.config.Generations;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.matrixpolicy.gateway.support.Commands;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.Fixtures;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.GatewayClient.Answer;
import dev.matrixpolicy.gateway.support.KubeletVolume;
import dev.matrixpolicy.gateway.support.NamedPipe;
import dev.matrixpolicy.gateway.support.ScannedOnceContext;
import dev.matrixpolicy.gateway.testmodules.Gate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/** A running gateway applies a changed configuration without a restart, and refuses a broken one. */
@ExtendWith(ExpectedOutput.class)
class ReloadEndToEndTest {
    private static final String TOKEN = "reload-test-token";
    private static final String INVITE = """
            {"inviter": "@spam:bad.example", "invitee": "@bob:example.com", "room_id": "!room:example.com"}""";
    private static final String JOIN = """
            {"user": "@alice:example.com", "room": "!room:example.com", "is_invited": false}""";

    @TempDir
    Path directory;

    private ConfigurableApplicationContext gateway;
    private GatewayClient policy;
    private GatewayClient management;
    /** Every client of the test's gateway, closed with it. */
    private final List<GatewayClient> clients = new ArrayList<>();
    /** The policy service of the test's {@code http} module, if it has one: stopped after the gateway. */
    private WireMockServer service;

    @AfterEach
    void stop() {
        stopGateway();
        if (service != null) {
            service.stop();
        }
    }

    @Test
    void aChangedFileIsAppliedUnderASteadyStreamOfRequestsEachAnsweredWholeByTheOldOrTheNewChains() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("old refusal");

        AtomicBoolean running = new AtomicBoolean(true);
        List<String> unexpected = new CopyOnWriteArrayList<>();
        Map<Integer, List<String>> seenByClient = new ConcurrentHashMap<>();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        List<Future<?>> streams = new ArrayList<>();
        for (int client = 0; client < 4; client++) {
            List<String> seen = new CopyOnWriteArrayList<>();
            seenByClient.put(client, seen);
            streams.add(clients.submit(() -> {
                while (running.get()) {
                    Answer answer = policy.post("/v1/spam_checker/user_may_invite", INVITE);
                    String error = answer.status() == 403 ? answer.json().path("error").asText() : answer.status() + " " + answer.body();
                    if (!error.equals("old refusal") && !error.equals("new refusal")) {
                        unexpected.add(error);
                    }
                    seen.add(error);
                }
            }));
        }
        awaitEveryClientSaw(seenByClient, "old refusal");
        long written = System.nanoTime();
        write("gateway.yml", denylist("new refusal"));
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
                .until(() -> gauge("policy_config_generation") == 2.0);
        long visibleMillis = (System.nanoTime() - written) / 1_000_000;
        awaitEveryClientSaw(seenByClient, "new refusal");
        running.set(false);
        for (Future<?> stream : streams) {
            stream.get();
        }
        clients.shutdown();

        assertThat(unexpected).as("every request answered by one chain or the other").isEmpty();
        for (List<String> seen : seenByClient.values()) {
            int firstNew = seen.indexOf("new refusal");
            assertThat(firstNew).as("each client sees the new chains").isPositive();
            assertThat(seen.subList(firstNew, seen.size())).as("once a client saw the new chains, never the old").containsOnly("new refusal");
        }
        assertThat(visibleMillis).as("the switch shows in metrics within 2 s").isLessThan(2000);
        assertThat(counter("policy_config_reloads_total", "reloaded")).isEqualTo(1.0);
    }

    /** Waits until every client has had an answer with this error. */
    private static void awaitEveryClientSaw(Map<Integer, List<String>> seenByClient, String error) {
        await().atMost(Duration.ofSeconds(10)).until(() -> seenByClient.values().stream().allMatch(seen -> seen.contains(error)));
    }

    private static final Pattern ENTRIES_EXACT = Pattern.compile("(?m)^policy_module_denylist_entries\\{[^}]*kind=\"exact\",module=\"spammers\"");
    private static final Pattern ENTRIES_GLOB = Pattern.compile("(?m)^policy_module_denylist_entries\\{[^}]*kind=\"glob\",module=\"spammers\"");

    /** Each reload rebuilds the denylist under its name, replacing its meters with ones of the same names and tags. */
    @Test
    void prometheusScrapesDuringReloadsThatRebuildAModuleUnderItsNameAllSucceedWithItsSeries() throws Exception {
        Path config = write("gateway.yml", denylist("refusal 0"));
        start(config, "--policy-gateway.reload.watch=false");
        AtomicBoolean reloading = new AtomicBoolean(true);
        List<String> failed = new ArrayList<>();
        int scrapes = 0;
        try (ExecutorService reloader = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Integer> reloads = reloader.submit(() -> {
                int count = 0;
                while (reloading.get()) {
                    write("gateway.yml", denylist("refusal " + ++count));
                    assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");
                }
                return count;
            });
            try {
                for (long end = System.nanoTime() + Duration.ofSeconds(3).toNanos(); System.nanoTime() < end; scrapes++) {
                    Answer scrape = management.get("/actuator/prometheus");
                    // the instance's own meters, which each reload removes and registers again
                    if (scrape.status() != 200 || !ENTRIES_EXACT.matcher(scrape.body()).find()
                            || !ENTRIES_GLOB.matcher(scrape.body()).find()) {
                        failed.add(scrape.status() + " " + scrape.body().lines().findFirst().orElse(""));
                    }
                }
            } finally {
                reloading.set(false);
            }
            assertThat(reloads.get()).as("reloads during the scrapes").isGreaterThan(5);
        }

        assertThat(failed).as("of %d scrapes", scrapes).isEmpty();
    }

    @Test
    void aBrokenFileLeavesTheOldChainsServingAndSaysWhyUntilAGoodOneArrives(CapturedOutput output) throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config);

        write("gateway.yml", denylist("old refusal").replace("    error:", "    eror:"));
        // the reloader counts a reload, then makes it the last one, which the gauge and the health read
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);

        assertThat(counter("policy_config_reloads_total", "failed")).isEqualTo(1.0);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("old refusal");
        Answer health = management.get("/actuator/health/configReload");
        assertThat(health.json().path("status").asText()).isEqualTo("UP");
        assertThat(health.json().at("/details/last_reload/result").asText()).isEqualTo("failed");
        assertThat(health.json().at("/details/last_reload/error").asText())
                .contains("policy-gateway.modules[0].config.eror").contains(config.toString());
        assertThat(output.getOut().lines().filter(line -> line.contains("Configuration reload refused")))
                .singleElement().asString().contains("generation 1 keeps serving").contains("eror").doesNotContain("\tat ");

        write("gateway.yml", denylist("new refusal"));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("new refusal");
        assertThat(gauge("policy_config_generation")).isEqualTo(2.0);
    }

    @Test
    void aConfigurationFileThatDisappearsOrIsEmptiedIsRefusedNotReadAsNoSettings() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config);

        Files.writeString(config, "");
        await().atMost(Duration.ofSeconds(5)).until(() -> counter("policy_config_reloads_total", "failed") == 1.0);
        Files.delete(config);
        await().atMost(Duration.ofSeconds(5)).until(() -> counter("policy_config_reloads_total", "failed") == 2.0);

        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("old refusal");
        // the reloader counts a reload, then makes it the last one, which the health reads
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(management.get("/actuator/health/configReload").json()
                .at("/details/last_reload/error").asText()).contains(config.toString()).contains("restore it"));
        assertThat(management.get("/actuator/reload").json().at("/last_reload/error").asText())
                .as("the same, where the console reads it").contains(config.toString()).contains("restore it");
        write("gateway.yml", denylist("new refusal"));
        await().atMost(Duration.ofSeconds(5)).until(() ->
                policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText().equals("new refusal"));
    }

    /** A pipe has no size: taken for an empty file, it was refused as one, which says nothing of the cause. */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aConfigurationFileTurnedIntoANamedPipeIsRefusedAsAtStartupAndTheOldChainsServe() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false");

        Files.delete(config);
        try (NamedPipe pipe = NamedPipe.at(config)) {
            Answer refused = management.post("/actuator/reload", "");

            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.json().path("error").asText()).contains("Configuration file that is not a regular file")
                    .contains(config.toString()).contains("it is a named pipe or a device").doesNotContain("is empty");
        }
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("old refusal");
        assertThat(gauge("policy_config_generation")).isEqualTo(1.0);
    }

    @Test
    void aConfigurationFileThatGivesNoSettingsNowIsRefusedNotReadAsThePackagedDefaults() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false");

        for (String nothing : List.of("\n", "# maintained by config management\n", "---\n", "{}\n", "~\n")) {
            write("gateway.yml", nothing);
            Answer refused = management.post("/actuator/reload", "");
            assertThat(refused.status()).as(nothing).isEqualTo(409);
            assertThat(refused.json().path("error").asText()).as(nothing).contains(config.toString()).contains("holds no settings");
        }
        for (String noGateway : List.of("policy-gateway:\n", "logging:\n  level:\n    root: info\n")) {
            write("gateway.yml", noGateway);
            Answer refused = management.post("/actuator/reload", "");
            assertThat(refused.status()).as(noGateway).isEqualTo(409);
            assertThat(refused.json().path("error").asText()).as(noGateway)
                    .contains(config + " holds no policy-gateway settings now");
        }
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("old refusal");
        assertThat(gauge("policy_config_generation")).isEqualTo(1.0);
    }

    @Test
    void aSettingReadAtStartupOnlyThatAReloadChangesIsNamedInAWarning(CapturedOutput output) throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("new refusal") + "  decision-log:\n    capacity: 7\n");
        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");

        assertThat(output.getOut().lines().filter(line -> line.contains("take(s) effect only at its next restart")))
                .singleElement().asString().contains("WARN").contains("policy-gateway.decision-log").doesNotContain("policy-gateway.state");
        assertThat(management.get("/actuator/decisions").json().path("capacity").asInt()).isNotEqualTo(7);
    }

    @Test
    void aReloadToNoModuleIsAppliedAndSaidInAWarningWhileAReloadWithModulesNamesThem(CapturedOutput output) throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false", "--logging.level.dev.matrixpolicy.gateway.reload.Reloader=info");

        write("gateway.yml", denylist("old refusal").substring(0, denylist("old refusal").indexOf("  modules:")) + "  modules: []\n");
        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("result").asText()).isEqualTo("NOT_SPAM");

        write("gateway.yml", denylist("new refusal"));
        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");
        assertThat(output.getOut().lines().filter(line -> line.contains("Configuration reloaded (request)")))
                .satisfiesExactly(
                        empty -> assertThat(empty).contains("WARN").contains("generation 2 serves no module"),
                        full -> assertThat(full).contains("INFO")
                                .contains("generation 3 serves 1 module(s): user_denylist 'spammers'; 0 kept from generation 2"));
    }

    @Test
    void theDecisionsOfAnEntryThatAReloadRemovedCanStillBeFilteredByItsName() throws Exception {
        Path config = write("gateway.yml", denylist("refused"));
        start(config, "--policy-gateway.reload.watch=false");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).status()).isEqualTo(403);

        write("gateway.yml", denylist("refused").replace("name: spammers", "name: renamed"));
        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");

        Answer removed = management.get("/actuator/decisions?entry=spammers");
        assertThat(removed.status()).as(removed.body()).isEqualTo(200);
        assertThat(removed.json().path("decisions")).hasSize(1);
        assertThat(management.get("/actuator/decisions?entry=spamers").status()).isEqualTo(400);
    }

    @Test
    void aFileRewrittenAsLatin1OrAsAListIsRefusedNamingTheFileAndTheOldChainsServe() throws Exception {
        Path config = write("gateway.yml", denylist("refused"));
        start(config, "--policy-gateway.reload.watch=false");

        Files.write(config, denylist("refus\u00e9").getBytes(StandardCharsets.ISO_8859_1));
        Answer latin1 = management.post("/actuator/reload", "");
        write("gateway.yml", "- policy-gateway\n- server-name: example.com\n");
        Answer list = management.post("/actuator/reload", "");

        assertThat(latin1.status()).isEqualTo(409);
        assertThat(latin1.json().path("error").asText()).contains(config + ", line").contains("is not UTF-8");
        assertThat(list.status()).isEqualTo(409);
        assertThat(list.json().path("error").asText()).contains(config + ", line 1").contains("its top level is a list");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("refused");
    }

    @Test
    void aFileThatNowHoldsAKeySpringWouldRenameIsRefusedNamingTheBracketedSpellingAndTheOldChainsServe() throws Exception {
        Path config = write("gateway.yml", denylist("refused"));
        start(config, "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("renamed") + """
                    - module: password_file
                      config:
                        users:
                          alice+work: "$2y$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
                """);
        Answer refused = management.post("/actuator/reload", "");

        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().path("error").asText()).contains("policy-gateway.modules[1].config.users.alice+work")
                .contains("'alice+work' would be read as 'alicework'").contains(config + ", line 16");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("refused");
    }

    @Test
    void aFileThatNowHoldsTextYamlReadsAsABooleanIsRefusedNamingTheQuotedSpellingAndTheOldChainsServe() throws Exception {
        Path config = write("gateway.yml", denylist("refused"));
        start(config, "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("Off"));
        Answer refused = management.post("/actuator/reload", "");

        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().path("error").asText()).contains("config.error")
                .contains("YAML reads 'Off', written without quotes, as true or false, so it would be taken as 'false'")
                .contains(config + ", line 12");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("refused");
    }

    @Test
    void aFileThatNowHoldsADurationPastAYearIsRefusedNamingTheKeyAndTheOldChainsServe() throws Exception {
        Path config = write("gateway.yml", denylist("refused"));
        start(config, "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("renewed") + "        reload-interval: 200000d\n");
        Answer refused = management.post("/actuator/reload", "");

        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().path("error").asText()).contains("config.reload-interval")
                .contains("must be at most 366d, got 17280000000s").doesNotContain("overflow:").doesNotContain("Exception");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("refused");
    }

    @Test
    void aFileThatNowWritesTheRootKeyInSnakeCaseIsAppliedAsSpringBindsIt() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("new refusal").replace("policy-gateway:", "policy_gateway:"));

        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("new refusal");
    }

    @Test
    void aFileChangedAfterStartupReadItWhileTheModulesWereBuiltIsAppliedByTheWatchersFirstCheck() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(rewritingAfterStartupRead("gateway.yml", denylist("new refusal")), config);

        await().atMost(Duration.ofSeconds(10)).until(() -> gauge("policy_config_generation") == 2.0);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText())
                .isEqualTo("new refusal");
    }

    /**
     * A token file changed after startup read it, before the reloader took the watched files' fingerprints
     * (a Secret rotated during a rollout), is applied by the watcher's first check: it does not start from
     * the token the serving generation does not hold.
     */
    @Test
    void aTokenFileChangedAfterStartupReadItIsAppliedByTheWatchersFirstCheck() throws Exception {
        Path tokenFile = write("shared-token", TOKEN + "\n");
        Path config = write("gateway.yml", denylist("refused").replace("token: " + TOKEN, "token-file: " + tokenFile));
        start(rewritingOnceServing("shared-token", "rotated-token\n"), config);

        await().atMost(Duration.ofSeconds(10)).until(() -> gauge("policy_config_generation") == 2.0);
        assertThat(client("local.server.port", "rotated-token")
                .post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("refused");
    }

    /**
     * A configuration file that no longer parses when the reloader reads it while the gateway starts is
     * watched all the same, from what startup read: the first check reports it, and its correction is applied.
     */
    @Test
    void aFileMalformedAfterStartupReadItIsReportedByTheWatchersFirstCheckAndAppliedOnceCorrected() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(rewritingOnceServing("gateway.yml", "policy-gateway: [\n"), config);

        await().atMost(Duration.ofSeconds(10)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        write("gateway.yml", denylist("new refusal"));

        await().atMost(Duration.ofSeconds(10)).until(() -> gauge("policy_config_generation") == 2.0);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText())
                .isEqualTo("new refusal");
    }

    @Test
    void aFileChangedWhileTheGatewayStartedIsAppliedOnceTheWatcherStarts() throws Exception {
        start(write("gateway.yml", denylist("old refusal")), "--policy-gateway.reload.watch=false");
        write("gateway.yml", denylist("new refusal")); // after startup read it, before the watcher looked

        FileWatcher watcher = new FileWatcher(gateway.getBean(Reloader.class), Duration.ofMillis(100));
        watcher.start();
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_generation") == 2.0);
            assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText())
                    .isEqualTo("new refusal");
        } finally {
            watcher.stop();
        }
    }

    /** The watcher starts from the bytes startup read: files that did not change since ask for no reload. */
    @Test
    void filesUnchangedSinceStartupReadThemAskForNoReloadAtTheWatchersFirstCheck() throws Exception {
        Path imported = write("imported.properties", "policy-gateway.max-body-size=2MB\n");
        start(write("gateway.yml", denylist("refused") + "spring.config.import: file:" + imported + "\n"),
                "--policy-gateway.reload.watch=false");
        FileWatcher watcher = new FileWatcher(gateway.getBean(Reloader.class), Duration.ofHours(1)); // checked by hand
        watcher.start();
        try {
            watcher.check();

            assertThat(gateway.getBean(Reloader.class).watchedFiles()).contains(directory.resolve("gateway.yml"), imported);
            assertThat(List.of("reloaded", "unchanged", "failed")).allSatisfy(result ->
                    assertThat(counter("policy_config_reloads_total", result)).as(result).isZero());
        } finally {
            watcher.stop();
        }
    }

    /**
     * A configuration file a reload begins to read (a new {@code spring.config.import}) is taken as the
     * reload read it, not as it is once the reload is done: changed while the modules were built, it is
     * applied by the next check.
     */
    @Test
    void aFileAReloadBeganToReadThatChangedWhileTheModulesWereBuiltIsAppliedByTheNextCheck() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false");
        FileWatcher watcher = new FileWatcher(gateway.getBean(Reloader.class), Duration.ofHours(1)); // checked by hand
        watcher.start();
        ExecutorService reloading = Executors.newSingleThreadExecutor();
        try {
            Path imported = write("imported.yml", heldBuildAndDenylist("new refusal"));
            Gate.close();
            write("gateway.yml", denylist("old refusal") + "spring.config.import: file:" + imported + "\n");
            Future<?> check = reloading.submit(watcher::check);
            assertThat(Gate.reached(Duration.ofSeconds(10))).isTrue();
            write("imported.yml", heldBuildAndDenylist("newer refusal")); // while the reload builds the modules
            Gate.open();
            check.get(10, TimeUnit.SECONDS);
            assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText())
                    .isEqualTo("new refusal");

            watcher.check();

            assertThat(gauge("policy_config_generation")).isEqualTo(3.0);
            assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText())
                    .isEqualTo("newer refusal");
        } finally {
            Gate.open();
            watcher.stop();
            reloading.shutdownNow();
        }
    }

    /**
     * A configuration file a reload begins to read that does not parse refuses the reload and is watched
     * from then on, from the bytes the refusal read: its correction is applied, and until then no check
     * asks for it again.
     */
    @Test
    void aFileAReloadBeganToReadThatDoesNotParseIsAppliedWhenCorrected(CapturedOutput output) throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config);
        Path imported = write("imported.yml", "policy-gateway: [\n");

        write("gateway.yml", denylist("old refusal") + "spring.config.import: file:" + imported + "\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(output.getOut()).contains("Malformed configuration file");

        write("imported.yml", "policy-gateway.max-body-size: 2MB\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(counter("policy_config_reloads_total", "failed")).isEqualTo(1.0);
    }

    /** The modules of an imported file: one whose build waits at the {@link Gate}, and a denylist refusing with {@code error}. */
    /**
     * A module whose calls run on past their deadlines, interrupted but not stopping, is asked no more
     * once {@code 64} of them hold their threads: on any callback it answers, and after a reload that
     * keeps it, which gives it no fresh allowance. As they end, it is asked again.
     */
    @Test
    void aModuleStuckPastItsDeadlinesIsAskedNoMoreOnAnyCallbackNorAfterAReloadThatKeepsIt() throws Exception {
        start(write("gateway.yml", stuckAndDenylist("refused")), "--policy-gateway.reload.watch=false");
        Gate.close();
        try (ExecutorService questions = Executors.newVirtualThreadPerTaskExecutor()) {
            int stuck = 0;
            // in waves: a call whose deadline passed before its thread started was never asked, and holds nothing
            for (int wave = 0; wave < 10 && stuck < 64; wave++) {
                List<Future<Answer>> answers = new ArrayList<>();
                for (int i = stuck; i < 64; i++) {
                    answers.add(questions.submit(() -> policy.post("/v1/spam_checker/user_may_invite", INVITE)));
                }
                for (Future<Answer> answer : answers) {
                    assertThat(answer.get(10, TimeUnit.SECONDS).json().path("error").asText())
                            .as("the stuck module skipped at its deadline (fail-open)").isEqualTo("refused");
                }
                while (Gate.reached(Duration.ofMillis(500))) {
                    stuck++;
                }
            }
            assertThat(stuck).isEqualTo(64);
            assertThat(gauge("policy_module_overrunning_calls", "module=\"stuck\"")).isEqualTo(64.0);

            assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);
            assertThat(Gate.reached(Duration.ofMillis(500))).as("asked on another callback").isFalse();

            write("gateway.yml", stuckAndDenylist("refused again"));
            assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");
            assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText())
                    .isEqualTo("refused again");
            assertThat(Gate.reached(Duration.ofMillis(500))).as("asked after a reload that kept it").isFalse();
            assertThat(gauge("policy_module_overrunning_calls", "module=\"stuck\"")).isEqualTo(64.0);

            Gate.open();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                policy.post("/v1/spam_checker/user_may_invite", INVITE);
                assertThat(Gate.reached(Duration.ofMillis(100))).as("asked again once its calls ended").isTrue();
            });
            assertThat(gauge("policy_module_overrunning_calls", "module=\"spammers\"")).as("never blocks: no series").isNaN();
        } finally {
            Gate.open();
        }
    }

    /** {@link #denylist}, after an entry {@code stuck} whose invites and joins wait at the {@link Gate} despite their 100 ms deadline. */
    private static String stuckAndDenylist(String error) {
        return denylist(error).replace("    - module: user_denylist\n", """
                    - module: test_faulty
                      name: stuck
                      timeout: 100ms
                      on-failure: fail-open
                      config:
                        callbacks: [user_may_invite, user_may_join_room]
                        behaviour: stuck
                    - module: user_denylist
                """);
    }

    private static String heldBuildAndDenylist(String error) {
        return """
                policy-gateway:
                  modules:
                    - module: test_held_build
                    - module: user_denylist
                      name: spammers
                      config:
                        users: ["@spam:bad.example"]
                        error: %s
                """.formatted(error);
    }

    @Test
    void aReloadThatChangesOnlySettingsReadAtStartupIsUnchangedAndNamesThem() throws Exception {
        start(write("gateway.yml", denylist("refused")), "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("refused") + "  decision-log:\n    capacity: 7\n  policy-server:\n    port: 18448\n");
        JsonNode answer = management.post("/actuator/reload", "").json();

        assertThat(answer.path("result").asText()).isEqualTo("unchanged");
        assertThat(answer.path("generation").asLong()).isEqualTo(1);
        assertThat(answer.path("restart_needed")).extracting(JsonNode::asText)
                .containsExactly("policy-gateway.decision-log", "policy-gateway.policy-server.port");
    }

    @Test
    void aReloadThatEnablesThePolicyServerWithAKeyFileTheNextStartCouldNotReadIsRefusedNamingTheKeyAndTheFile(
            CapturedOutput output) throws Exception {
        start(write("gateway.yml", denylist("refused")), "--policy-gateway.reload.watch=false");
        Path missing = directory.resolve("policy_server.key");

        write("gateway.yml", denylist("refused") + """
                  policy-server:
                    enabled: true
                    name: example.com
                    key-file: %s
                """.formatted(missing));
        Answer refused = management.post("/actuator/reload", "");

        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.json().path("error").asText())
                .contains("policy-gateway.policy-server.key-file").contains(missing.toString()).contains("does not exist");
        assertThat(gauge("policy_config_reload_failing")).isEqualTo(1.0);
        assertThat(output.getOut().lines().filter(line -> line.contains("Configuration reload refused")))
                .singleElement().asString().contains("WARN").contains("policy-gateway.policy-server.key-file");
    }

    @Test
    void aReloadThatChangesOnlySpringsListenerOrLoggingSettingsSaysTheyWaitForARestart(CapturedOutput output) throws Exception {
        start(write("gateway.yml", denylist("refused")), "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("refused") + "logging:\n  level:\n    dev.matrixpolicy: debug\n");
        JsonNode answer = management.post("/actuator/reload", "").json();

        assertThat(answer.path("result").asText()).isEqualTo("unchanged");
        assertThat(answer.path("restart_needed")).hasSize(1);
        assertThat(answer.path("restart_needed").get(0).asText()).isEqualTo("logging.level.dev.matrixpolicy");
        assertThat(management.get("/actuator/reload").json().at("/last_reload/restart_needed/0").asText())
                .isEqualTo("logging.level.dev.matrixpolicy");
        assertThat(output.getOut().lines().filter(line -> line.contains("take(s) effect only at its next restart")))
                .singleElement().asString().contains("WARN").contains("Configuration unchanged (request)");
    }

    @Test
    void aFileThatNowHoldsAKeySpringBootDoesNotReadIsRefusedNamingItAndTheOldChainsServe() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("new refusal") + "managment:\n  server:\n    port: 9999\n");
        Answer refused = management.post("/actuator/reload", "");

        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().path("error").asText()).contains("managment").contains(config + ", line")
                .contains("Did you mean management?");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("old refusal");
    }

    @Test
    void aSpringSettingWrittenInCapitalsWaitsForARestartAsSpringBindsIt() throws Exception {
        start(write("gateway.yml", denylist("refused")), "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("refused") + "Server:\n  Shutdown: immediate\n");
        JsonNode answer = management.post("/actuator/reload", "").json();

        assertThat(answer.path("result").asText()).isEqualTo("unchanged");
        assertThat(answer.path("restart_needed")).extracting(JsonNode::asText).containsExactly("server.shutdown");
    }

    @Test
    void springSettingsChangedAfterAStartWhoseFilesTurnedWrongWhileStartingStillWaitForARestart() throws Exception {
        Path config = write("gateway.yml", denylist("refused"));
        start(rewritingAfterStartupRead("gateway.yml", "policy-gateway:\n  server-name: [\n"), config,
                "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("refused") + "server:\n  shutdown: immediate\n");
        JsonNode answer = management.post("/actuator/reload", "").json();

        assertThat(answer.path("result").asText()).isEqualTo("unchanged");
        assertThat(answer.path("restart_needed")).extracting(JsonNode::asText).containsExactly("server.shutdown");
    }

    /** A reload cannot apply Spring Boot's settings, but it refuses one that would stop every restarted replica. */
    @Test
    void aSpringSettingNoStartCouldBindIsRefusedRatherThanLeftToFailTheNextStart(CapturedOutput output) throws Exception {
        start(write("gateway.yml", denylist("old refusal")), "--policy-gateway.reload.watch=false");

        Map<String, List<String>> refusals = Map.of(
                "server:\n  shutdown: sometimes\n", List.of("server.shutdown", "'sometimes'", "graceful, immediate"),
                "server:\n  tomcat:\n    threads:\n      max: many\n", List.of("server.tomcat.threads.max", "'many'", "a whole number"),
                "server:\n  max-http-request-header-size: huge\n", List.of("server.max-http-request-header-size", "'huge'", "a size"),
                "logging:\n  level:\n    dev.matrixpolicy: loud\n", List.of("logging.level.dev.matrixpolicy", "'loud'", "warn"));
        for (Map.Entry<String, List<String>> refused : refusals.entrySet()) {
            write("gateway.yml", denylist("new refusal") + refused.getKey());
            Answer answer = management.post("/actuator/reload", "");
            assertThat(answer.status()).as(refused.getKey()).isEqualTo(409);
            assertThat(answer.json().path("error").asText()).as(refused.getKey())
                    .contains(refused.getValue()).contains("gateway.yml").contains("Fix:");
        }
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText())
                .as("nothing of a refused configuration applies, however valid its own part").isEqualTo("old refusal");
        assertThat(output.getOut().lines().filter(line -> line.contains("Configuration reload refused"))).hasSize(refusals.size());

        write("gateway.yml", denylist("new refusal") + "server:\n  shutdown: immediate\n");
        JsonNode accepted = management.post("/actuator/reload", "").json();
        assertThat(accepted.path("result").asText()).isEqualTo("reloaded");
        assertThat(accepted.path("restart_needed").get(0).asText()).isEqualTo("server.shutdown");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("new refusal");
    }

    @Test
    void configMapUpdatesMadeTheKubeletWayTwiceInQuickSuccessionEndOnTheLastVersion() throws Exception {
        KubeletVolume volume = KubeletVolume.mount(directory.resolve("config"), Map.of("gateway.yml", denylist("old refusal")));
        start(volume.file("gateway.yml"));

        volume.update(Map.of("gateway.yml", denylist("new refusal")));
        volume.update(Map.of("gateway.yml", denylist("newest refusal")));

        await().atMost(Duration.ofSeconds(5)).until(() ->
                policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText().equals("newest refusal"));
        assertThat(counter("policy_config_reloads_total", "failed")).isZero();
    }

    @Test
    void aSecretKeyRemovedKeepsTheModulesTokenSaysWhyAndItsReturnIsApplied(CapturedOutput output) throws Exception {
        service = policyService();
        KubeletVolume secret = KubeletVolume.mount(directory.resolve("secret"), Map.of("token", "first-service-token\n"));
        start(write("gateway.yml", denylist("refused") + forwarder(service.baseUrl(), secret.file("token"))));

        secret.update(Map.of("other", "x"));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);
        assertThat(management.get("/actuator/health/configReload").json().at("/details/last_reload/error").asText())
                .contains(secret.file("token") + " does not exist");
        assertThat(output.getOut().lines().filter(line -> line.contains("Configuration reload refused"))).hasSize(1);

        secret.update(Map.of("token", "second-service-token\n"));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);
        assertThat(sentTokens(service)).containsExactly("Bearer first-service-token", "Bearer second-service-token");
    }

    /**
     * The kubelet syncs each volume on its own: a ConfigMap that names a new key of a Secret can arrive
     * a minute before the Secret does. The reload it asks for is refused; the Secret's arrival applies it.
     */
    @Test
    void aReloadRefusedForASecretFileNotThereYetIsAppliedWhenTheFileArrives(CapturedOutput output) throws Exception {
        service = policyService();
        KubeletVolume secret = KubeletVolume.mount(directory.resolve("secret"), Map.of("other", "x"));
        Path config = write("gateway.yml", denylist("refused"));
        start(config);

        write("gateway.yml", denylist("refused") + forwarder(service.baseUrl(), secret.file("token")));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(output.getOut()).contains(secret.file("token") + " does not exist");

        secret.update(Map.of("other", "x", "token", "service-token\n"));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(gateway.getBean(Generations.class).current().number()).isEqualTo(2);
        assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);
        assertThat(sentTokens(service)).containsExactly("Bearer service-token");
    }

    @Test
    void aReloadRefusedForATokenFileNotThereYetIsAppliedWhenTheFileArrives(CapturedOutput output) throws Exception {
        Path config = write("gateway.yml", denylist("refused"));
        start(config);
        Path tokenFile = directory.resolve("shared-token");

        write("gateway.yml", denylist("refused").replace("token: " + TOKEN, "token-file: " + tokenFile));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(output.getOut()).contains("policy-gateway.auth.token-file");

        write("shared-token", "rotated-token\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(client("local.server.port", "rotated-token")
                .post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("refused");
    }

    /**
     * A token file refused for what it holds is watched from then on, from what the refusal read: its
     * correction applies the configuration, and until then no check asks for it again.
     */
    @Test
    void aReloadRefusedForATokenFileHoldingAControlCharacterIsAppliedWhenTheFileIsCorrected(CapturedOutput output)
            throws Exception {
        start(write("gateway.yml", denylist("refused")));
        Path tokenFile = write("shared-token", "rotated\ttoken\n");

        write("gateway.yml", denylist("refused").replace("token: " + TOKEN, "token-file: " + tokenFile));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(output.getOut()).contains("a token holds a control character");

        write("shared-token", "rotated-token\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(client("local.server.port", "rotated-token")
                .post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("refused");
        assertThat(counter("policy_config_reloads_total", "failed")).isEqualTo(1.0);
    }

    @Test
    void aReloadRefusedForAnAdminTokenFileHoldingTheSharedTokenIsAppliedWhenTheFileIsCorrected(CapturedOutput output)
            throws Exception {
        start(write("gateway.yml", denylist("refused")));
        Path adminTokenFile = write("admin-token", TOKEN + "\n");

        write("gateway.yml", denylist("refused") + "  admin:\n    token-file: " + adminTokenFile + "\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(output.getOut()).contains("the admin token equals the homeserver's token");

        write("admin-token", "admin-token\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(management.post("/actuator/reload", "").status()).isEqualTo(401);
        assertThat(client("local.management.port", "admin-token").post("/actuator/reload", "").json().path("result").asText())
                .isEqualTo("unchanged");
        assertThat(counter("policy_config_reloads_total", "failed")).isEqualTo(1.0);
    }

    @Test
    void aReloadRefusedForAModulesTokenFileOfTwoWordsIsAppliedWhenTheFileIsCorrected(CapturedOutput output) throws Exception {
        service = policyService();
        start(write("gateway.yml", denylist("refused")));
        Path tokenFile = write("service-token", "service token\n");

        write("gateway.yml", denylist("refused") + forwarder(service.baseUrl(), tokenFile));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(output.getOut()).contains("field: config.token-file");

        write("service-token", "service-token\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);
        assertThat(sentTokens(service)).containsExactly("Bearer service-token");
        assertThat(counter("policy_config_reloads_total", "failed")).isEqualTo(1.0);
    }

    /**
     * A token or secret file the configuration no longer names is no longer watched: its next change (a
     * Secret's old key rewritten, removed) asks for no reload, and a refusal that awaited a file the
     * configuration then stopped naming leaves no watch behind.
     */
    @Test
    void aTokenFileTheConfigurationNoLongerNamesIsNoLongerWatched() throws Exception {
        Path first = write("first-token", "first-token\n");
        Path second = write("second-token", "second-token\n");
        Path never = directory.resolve("never-written");
        String configured = denylist("refused").replace("token: " + TOKEN, "token-file: %s");
        start(write("gateway.yml", configured.formatted(first)));
        Reloader reloader = gateway.getBean(Reloader.class);
        assertThat(reloader.watchedFiles()).contains(first);

        write("gateway.yml", configured.formatted(never));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(reloader.watchedFiles()).contains(first, never);
        write("gateway.yml", configured.formatted(second));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);

        assertThat(reloader.watchedFiles()).contains(second).doesNotContain(first, never);
        assertThat(counter("policy_config_reloads_total", "reloaded")).isEqualTo(1.0);
    }

    @Test
    void postReloadAppliesTheFileAtOnceAndSaysWhenNothingChangedOrWhatIsWrong() throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("new refusal"));
        Answer reloaded = management.post("/actuator/reload", "");
        assertThat(reloaded.status()).isEqualTo(200);
        assertThat(reloaded.json().path("result").asText()).isEqualTo("reloaded");
        assertThat(reloaded.json().path("generation").asLong()).isEqualTo(2);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("new refusal");

        Answer unchanged = management.post("/actuator/reload", "");
        assertThat(unchanged.json().path("result").asText()).isEqualTo("unchanged");
        assertThat(unchanged.json().path("generation").asLong()).isEqualTo(2);

        Files.delete(config);
        Answer gone = management.post("/actuator/reload", "");
        assertThat(gone.status()).as("a file that disappeared is refused even unwatched").isEqualTo(409);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("new refusal");

        write("gateway.yml", denylist("new refusal").replace("fail-closed", "fail-sometimes"));
        Answer failed = management.post("/actuator/reload", "");
        assertThat(failed.status()).isEqualTo(409);
        assertThat(failed.json().path("result").asText()).isEqualTo("failed");
        assertThat(failed.json().path("error").asText()).contains("policy-gateway.defaults.on-failure")
                .contains("fail-sometimes").contains(config + ", line");
        assertThat(failed.json().path("generation").asLong()).isEqualTo(2);
    }

    /**
     * A file changed and then applied by {@code POST /actuator/reload} (the console's button) is not
     * read again by the watcher's next check: a refused one would be logged and counted twice.
     */
    @Test
    void aChangeThatPostReloadHasReadIsTakenAsSeenByTheWatcherSoARefusalIsLoggedAndCountedOnce(CapturedOutput output)
            throws Exception {
        Path config = write("gateway.yml", denylist("old refusal"));
        start(config, "--policy-gateway.reload.watch=false");
        FileWatcher watcher = new FileWatcher(gateway.getBean(Reloader.class), Duration.ofHours(1)); // checked by hand
        watcher.start();
        try {
            write("gateway.yml", denylist("old refusal").replace("    error:", "    eror:"));
            assertThat(management.post("/actuator/reload", "").status()).isEqualTo(409);
            watcher.check();

            assertThat(counter("policy_config_reloads_total", "failed")).isEqualTo(1.0);
            assertThat(output.getOut().lines().filter(line -> line.contains("Configuration reload refused"))).hasSize(1);

            write("gateway.yml", denylist("new refusal"));
            assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");
            watcher.check();

            assertThat(counter("policy_config_reloads_total", "unchanged")).isZero();

            write("gateway.yml", denylist("newer refusal"));
            watcher.check();

            assertThat(gauge("policy_config_generation")).as("a change no reload read is applied").isEqualTo(3.0);
            assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText())
                    .isEqualTo("newer refusal");
        } finally {
            watcher.stop();
        }
    }

    @Test
    void theDiscoveryDocumentAnnouncesTheBodyLimitAReloadSets() throws Exception {
        start(write("gateway.yml", denylist("refused")), "--policy-gateway.reload.watch=false");
        assertThat(policy.get("/v1/callbacks").json().path("max_body_size").asLong()).isEqualTo(1024 * 1024); // the default 1MB

        write("gateway.yml", denylist("refused").replace("  defaults:", "  max-body-size: 300KB\n  defaults:"));
        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");

        assertThat(policy.get("/v1/callbacks").json().path("max_body_size").asLong()).isEqualTo(300 * 1024);
        String over = "{\"pad\": \"" + "x".repeat(300 * 1024) + "\"}";
        assertThat(policy.post("/v1/spam_checker/user_may_invite", over).status()).isEqualTo(413);
    }

    @Test
    void aReloadThatRebuildsTheDenylistWhileItsFileIsEmptiedIsRefusedNamingTheFileAndKeepsTheBans() throws Exception {
        Path users = write("users.txt", "@spam:bad.example\n");
        Path config = write("gateway.yml", denylistOfFile("old refusal", users));
        start(config, "--policy-gateway.reload.watch=false");

        Files.writeString(users, ""); // a job about to write it again, in place
        write("gateway.yml", denylistOfFile("new refusal", users));
        Answer refused = management.post("/actuator/reload", "");

        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().path("error").asText()).contains("users-file")
                .contains(users + " is empty; write the file whole and move it into place");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("old refusal");

        write("users.txt", "@spam:bad.example\n");
        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("reloaded");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).json().path("error").asText()).isEqualTo("new refusal");
    }

    @Test
    void anUnchangedEntryKeepsItsInstanceWhileAChangedOneIsRebuiltAndTheOldOneClosed() throws Exception {
        Path bans = write("bans.txt", "ban user @spam:bad.example\n");
        Path config = write("gateway.yml", withPolicyList(denylist("old refusal"), bans, "community"));
        start(config);
        Generations generations = gateway.getBean(Generations.class);
        Object list = generations.current().instance("community").orElseThrow().module();
        Object denylist = generations.current().instance("spammers").orElseThrow().module();
        assertThat(threads("policy-source-community-bans")).isEqualTo(1);

        write("gateway.yml", withPolicyList(denylist("new refusal"), bans, "community"));
        await().atMost(Duration.ofSeconds(5)).until(() -> generations.current().number() == 2);
        assertThat(generations.current().instance("community").orElseThrow().module()).isSameAs(list);
        assertThat(generations.current().instance("spammers").orElseThrow().module()).isNotSameAs(denylist);

        assertThat(gauge("policy_module_policy_list_update_seconds_count", "module=\"community\"")).isPositive();

        write("gateway.yml", withPolicyList(denylist("new refusal"), bans, "renamed"));
        await().atMost(Duration.ofSeconds(5)).until(() -> generations.current().number() == 3);
        await().atMost(Duration.ofSeconds(5)).until(() -> threads("policy-source-community-bans") == 0);
        assertThat(threads("policy-source-renamed-bans")).isEqualTo(1);
        // the removed instance's series leave the scrape: its update timings, its rule counts
        await().atMost(Duration.ofSeconds(5)).until(() -> !GatewayClient.scrape(port("local.management.port")).contains("module=\"community\""));
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_module_policy_list_update_seconds_count", "module=\"renamed\"") > 0);
    }

    @Test
    void aContentRulesEntryIsKeptWhenRewrittenInAnotherSpellingAndRebuiltWhenOneWordDeepInItsRulesChanges() throws Exception {
        Path config = write("gateway.yml", contentRules(200, "[\"free\", \"crypto\"]", "ordinary"));
        start(config);
        Generations generations = gateway.getBean(Generations.class);
        Object rules = generations.current().instance("filter").orElseThrow().module();

        // the same settings (lists in block layout instead of flow, a key in camel case, a number quoted), and a new entry
        write("gateway.yml", contentRules(200, "\n              - free\n              - crypto", "ordinary")
                .replace("max-scanned-length: 16384", "maxScannedLength: \"16384\"")
                .replace("    - module: content_rules", "    - module: user_denylist\n      config:\n        users: [\"@spam:bad.example\"]\n"
                        + "    - module: content_rules"));
        await().atMost(Duration.ofSeconds(20)).until(() -> generations.current().number() == 2);
        assertThat(generations.current().instance("filter").orElseThrow().module()).isSameAs(rules);

        write("gateway.yml", contentRules(200, "[\"free\", \"crypto\"]", "changed"));
        await().atMost(Duration.ofSeconds(20)).until(() -> generations.current().number() == 3);
        assertThat(generations.current().instance("filter").orElseThrow().module()).isNotSameAs(rules);
        String message = "{\"event\": {\"event_id\": \"$e\", \"room_id\": \"!r:example.com\", \"type\": \"m.room.message\", "
                + "\"sender\": \"@a:example.com\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"this is changed\"}}}";
        assertThat(policy.post("/v1/spam_checker/check_event_for_spam", message).json().path("errcode").asText())
                .isEqualTo("M_FORBIDDEN");
    }

    @Test
    void aRebuiltPolicyListServesTheRulesItsPredecessorReadUntilItsOwnSourceReads() throws Exception {
        reloadWhileTheListsSourceFails("bans", """
                    - module: policy_list
                      name: bans
                      config:
                        show-reason: true
                """);
    }

    @Test
    void anUnnamedPolicyListThatAReloadRenamesByRemovingOneAheadServesTheRulesItReadBefore() throws Exception {
        Path other = write("other.txt", "ban user @other:bad.example\n");
        String unnamed = """
                    - module: policy_list
                      config:
                """;
        reloadWhileTheListsSourceFails(unnamed + """
                        sources:
                          - name: other
                            file: %s
                """.formatted(other), unnamed, "policy_list-1", "policy_list-0", unnamed);
    }

    @Test
    void aPolicyListRenamedByAReloadServesTheRulesItsPredecessorReadUntilItsOwnSourceReads() throws Exception {
        reloadWhileTheListsSourceFails("renamed", """
                    - module: policy_list
                      name: renamed
                      config:
                """);
    }

    /**
     * Starts a gateway whose list {@code bans} reads a URL, then reloads it as {@code listAfter} (the
     * entry up to its sources, which stay as they are) while that URL answers 502.
     */
    private void reloadWhileTheListsSourceFails(String nameAfter, String listAfter) throws Exception {
        reloadWhileTheListsSourceFails("", """
                    - module: policy_list
                      name: bans
                      config:
                """, "bans", nameAfter, listAfter);
    }

    /**
     * As above, the list being {@code list}, named {@code name}, after the entries {@code ahead}, which
     * the reload removes.
     */
    private void reloadWhileTheListsSourceFails(String ahead, String list, String name, String nameAfter, String listAfter)
            throws Exception {
        WireMockServer community = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        community.start();
        try {
            community.stubFor(get("/bans.txt").willReturn(aResponse().withBody("ban user @listed:bad.example spam\n")));
            String listed = INVITE.replace("@spam:bad.example", "@listed:bad.example");
            String sources = """
                            sources:
                              - name: community
                                url: %s/bans.txt
                                poll-interval: 1s
                    """.formatted(community.baseUrl());
            start(write("gateway.yml", denylist("refused") + ahead + list + sources));
            Generations generations = gateway.getBean(Generations.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> policy.post("/v1/spam_checker/user_may_invite", listed).status() == 403);
            Object before = generations.current().instance(name).orElseThrow().module();

            // the list's source fails, as a homeserver does while it restarts, when the instance is rebuilt
            community.stubFor(get("/bans.txt").willReturn(aResponse().withStatus(502)));
            write("gateway.yml", denylist("refused") + listAfter + sources);
            await().atMost(Duration.ofSeconds(5)).until(() -> generations.current().number() == 2);
            assertThat(generations.current().instance(nameAfter).orElseThrow().module()).isNotSameAs(before);
            await().atMost(Duration.ofSeconds(10)).until(() -> management.get("/actuator/policylists").body().contains("HTTP 502"));

            assertThat(policy.post("/v1/spam_checker/user_may_invite", listed).status()).as("the rules read before").isEqualTo(403);
            assertThat(management.get("/actuator/policylists").json().at("/" + nameAfter + "/sources/1/status/last_success").isMissingNode())
                    .as("the predecessor's last good read").isFalse();
        } finally {
            stopGateway();
            community.stop();
        }
    }

    @Test
    void anAuditWebhookReplacedByAReloadDeliversEveryRecordItAcceptedBeforeItCloses() throws Exception {
        WireMockServer receiver = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        receiver.start();
        try {
            receiver.stubFor(post("/old").willReturn(aResponse().withStatus(200).withFixedDelay(100)));
            receiver.stubFor(post("/new").willReturn(aResponse().withStatus(200)));
            Path config = write("gateway.yml", denylist("refused") + audit(receiver.baseUrl() + "/old"));
            start(config);
            String event = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": []}";
            for (int i = 0; i < 10; i++) {
                assertThat(policy.post("/v1/third_party_rules/on_new_event", event).status()).isEqualTo(200);
            }

            write("gateway.yml", denylist("refused") + audit(receiver.baseUrl() + "/new"));
            await().atMost(Duration.ofSeconds(5)).until(() -> gateway.getBean(Generations.class).current().number() == 2);
            assertThat(policy.post("/v1/third_party_rules/on_new_event", event).status()).isEqualTo(200);

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(receiver.findAll(postRequestedFor(urlEqualTo("/old")))).as("queued before the reload").hasSize(10);
                assertThat(receiver.findAll(postRequestedFor(urlEqualTo("/new")))).as("after it").hasSize(1);
            });
        } finally {
            // the gateway first: the old instance may still be waiting for the last record's answer
            stopGateway();
            receiver.stop();
        }
    }

    /**
     * What the grace did not deliver goes on to the successor, the delivery in flight at its end too,
     * under the instance's name: nothing is dropped.
     */
    @Test
    void anAuditWebhookRebuiltByAReloadHandsOnItsQueueAndItsDeliveryInFlight() throws Exception {
        WireMockServer receiver = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        receiver.start();
        try {
            receiver.stubFor(post("/stalls").willReturn(aResponse().withStatus(200).withFixedDelay(20_000)));
            String audit = audit(receiver.baseUrl() + "/stalls");
            start(write("gateway.yml", denylist("refused") + audit + "        shutdown-grace: 200ms\n"));
            String event = "{\"event\": " + Fixtures.MESSAGE_EVENT + ", \"state_events\": []}";
            for (int i = 0; i < 5; i++) {
                assertThat(policy.post("/v1/third_party_rules/on_new_event", event).status()).isEqualTo(200);
            }

            write("gateway.yml", denylist("refused") + audit + "        shutdown-grace: 300ms\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> gateway.getBean(Generations.class).current().number() == 2);

            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.findAll(postRequestedFor(urlEqualTo("/stalls"))).size() == 2
                    && gauge("policy_module_audit_queued", "module=\"audit\"") == 4.0); // and one in the successor's hands, sent again
            assertThat(gauge("policy_module_audit_dropped_total", "reason=\"shutdown\"")).isZero();
        } finally {
            stopGateway();
            receiver.stop();
        }
    }

    @Test
    void aReloadRefusedLeavesNoSeriesOfTheModulesItBuiltForNothing() throws Exception {
        start(write("gateway.yml", denylist("refused")), "--policy-gateway.reload.watch=false");

        write("gateway.yml", denylist("refused") + audit("http://127.0.0.1:9/audit").replace("name: audit", "name: never-served")
                + "    - module: no_such_module\n");
        assertThat(management.post("/actuator/reload", "").status()).isEqualTo(409);

        assertThat(GatewayClient.scrape(port("local.management.port"))).doesNotContain("module=\"never-served\"")
                .contains("module=\"spammers\"");
    }

    @Test
    void aReloadRefusedByAnEntryThatRegisteredMetersBeforeItFailedLeavesNoSeriesOfIt() throws Exception {
        start(write("gateway.yml", denylist("refused")), "--policy-gateway.reload.watch=false");

        // rate_limits registers each limit's refusal counters, then refuses skip-older-than on joins
        write("gateway.yml", denylist("refused") + """
                    - module: rate_limits
                      name: never-served-limits
                      config:
                        events: {per-sender: {capacity: 5, period: 1m}}
                        joins: {per-sender: {capacity: 5, period: 1m}, skip-older-than: 1h}
                """);
        assertThat(management.post("/actuator/reload", "").status()).isEqualTo(409);

        assertThat(GatewayClient.scrape(port("local.management.port"))).doesNotContain("module=\"never-served-limits\"")
                .contains("module=\"spammers\"");
    }

    @Test
    void aReloadRenamingAContentRulesRuleRemovesTheOldRulesSeriesOnceTheOldGenerationIsDoneAndAKeptRuleCountsOn() throws Exception {
        start(write("gateway.yml", contentRules(2, "[\"free\"]", "last")), "--policy-gateway.reload.watch=false");
        String message = "{\"event\": {\"event_id\": \"$e\", \"room_id\": \"!r:example.com\", \"type\": \"m.room.message\", "
                + "\"sender\": \"@a:example.com\", \"content\": {\"msgtype\": \"m.text\", \"body\": \"free stuff\"}}}";
        assertThat(policy.post("/v1/spam_checker/check_event_for_spam", message).status()).isEqualTo(403);
        assertThat(gauge("policy_module_content_rules_matches_total", "rule=\"rule-1\"")).isZero();

        write("gateway.yml", contentRules(2, "[\"free\"]", "last").replace("name: rule-1", "name: renamed"));
        assertThat(management.post("/actuator/reload", "").status()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(5)).until(() -> Double.isNaN(gauge("policy_module_content_rules_matches_total",
                "rule=\"rule-1\"")));
        assertThat(gauge("policy_module_content_rules_matches_total", "rule=\"renamed\"")).isZero();
        assertThat(gauge("policy_module_content_rules_matches_total", "rule=\"rule-0\"")).as("the kept rule's count").isEqualTo(1.0);
        assertThat(policy.post("/v1/spam_checker/check_event_for_spam", message).status()).isEqualTo(403);
        assertThat(gauge("policy_module_content_rules_matches_total", "rule=\"rule-0\"")).as("and it counts on").isEqualTo(2.0);
    }

    @Test
    void aCallbackRemovedFromAKeptHttpModuleTakesItsChainSeriesOutOfTheScrapeOnceTheOldGenerationIsDone() throws Exception {
        service = policyService();
        service.stubFor(post("/policy/spam_checker/user_may_invite").willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));
        Path token = write("service-token", "service-token\n");
        String both = forwarder(service.baseUrl(), token).replace("[user_may_join_room]", "[user_may_join_room, user_may_invite]");
        start(write("gateway.yml", denylist("refused") + both), "--policy-gateway.reload.watch=false");
        String invite = INVITE.replace("@spam:bad.example", "@alice:example.com");
        assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", invite).status()).isEqualTo(200);
        assertThat(gauge("policy_module_seconds_count", "callback=\"user_may_invite\",category=\"spam_checker\",module=\"policy-service\"")).isEqualTo(1.0);

        write("gateway.yml", denylist("refused") + forwarder(service.baseUrl(), token));
        assertThat(management.post("/actuator/reload", "").status()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(5)).until(() -> Double.isNaN(gauge("policy_module_seconds_count",
                "callback=\"user_may_invite\",category=\"spam_checker\",module=\"policy-service\"")));
        assertThat(gauge("policy_module_seconds_count", "callback=\"user_may_join_room\",category=\"spam_checker\",module=\"policy-service\""))
                .as("the callback it still serves counts on").isEqualTo(1.0);
    }

    @Test
    void aRebuiltInstanceReportsItsOwnStateInMetricsNotTheOneItReplaced() throws Exception {
        Path config = write("gateway.yml", denylist("refused"));
        start(config);
        assertThat(gauge("policy_module_denylist_entries", "kind=\"exact\"")).isEqualTo(1.0);

        write("gateway.yml", denylist("refused").replace("[\"@spam:bad.example\"]", "[\"@spam:bad.example\", \"@eggs:bad.example\"]"));

        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_module_denylist_entries", "kind=\"exact\"") == 2.0);
    }

    /**
     * A named pipe in a watched file's place (a token file pointed at {@code <(...)}) is never opened:
     * opening one blocks until a writer comes, which would stop every later check and wedge the reload.
     */
    @Test
    void aNamedPipeWhereATokenFileWasIsRefusedWithoutStoppingTheWatcher(CapturedOutput output) throws Exception {
        Path token = write("token", TOKEN + "\n");
        start(write("gateway.yml", denylist("old refusal").replace("token: " + TOKEN, "token-file: " + token)));

        Files.delete(token);
        Commands.run("mkfifo", token.toString());
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 1.0);
        assertThat(management.get("/actuator/health/configReload").json().at("/details/last_reload/error").asText())
                .contains("policy-gateway.auth.token-file", token.toString(), "is not a regular file");
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).status()).isEqualTo(403);

        Files.delete(token);
        write("token", "rotated-token\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gauge("policy_config_reload_failing") == 0.0);
        assertThat(client("local.server.port", "rotated-token")
                .post("/v1/spam_checker/user_may_invite", INVITE).status()).isEqualTo(403);
        assertThat(output.getOut().lines().filter(line -> line.contains("Configuration reload refused"))).hasSize(1);
    }

    @Test
    void aNewTokenInTheTokenFileIsRequiredFromTheNextRequest() throws Exception {
        Path token = write("token", TOKEN + "\n");
        Path config = write("gateway.yml", denylist("old refusal").replace("  auth:\n    token: " + TOKEN, "  auth:\n    token-file: " + token));
        start(config);
        assertThat(policy.post("/v1/spam_checker/user_may_invite", INVITE).status()).isEqualTo(403);

        write("token", "rotated-token\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> policy.post("/v1/spam_checker/user_may_invite", INVITE).status() == 401);
        GatewayClient rotated = client("local.server.port", "rotated-token");
        assertThat(rotated.post("/v1/spam_checker/user_may_invite", INVITE).status()).isEqualTo(403);
    }

    @Test
    void aNewTokenInAnHttpModulesTokenFileIsSentFromTheNextForwardedRequestAfterTheFileWatcherSeesIt() throws Exception {
        service = policyService();
        Path token = write("service-token", "first-service-token\n");
        start(write("gateway.yml", denylist("refused") + forwarder(service.baseUrl(), token)));
        assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);

        write("service-token", "second-service-token\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> gateway.getBean(Generations.class).current().number() == 2);
        assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);

        assertThat(sentTokens(service)).containsExactly("Bearer first-service-token", "Bearer second-service-token");
    }

    @Test
    void postReloadRebuildsAModuleWhoseSecretFileHoldsANewSecretAndKeepsOneWhoseFileDidNotChange() throws Exception {
        service = policyService();
        Path token = write("service-token", "first-service-token\n");
        start(write("gateway.yml", denylist("refused") + forwarder(service.baseUrl(), token)), "--policy-gateway.reload.watch=false");
        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("unchanged");

        write("service-token", "  second-service-token  \n");
        Answer reloaded = management.post("/actuator/reload", "");
        assertThat(reloaded.json().path("result").asText()).isEqualTo("reloaded");
        assertThat(policy.post("/v1/spam_checker/user_may_join_room", JOIN).status()).isEqualTo(200);
        assertThat(sentTokens(service)).containsExactly("Bearer second-service-token");

        write("service-token", "second-service-token\n"); // the same secret, written again
        assertThat(management.post("/actuator/reload", "").json().path("result").asText()).isEqualTo("unchanged");
    }

    /** The Authorization headers the policy service received, in order. */
    private static List<String> sentTokens(WireMockServer service) {
        return service.findAll(postRequestedFor(urlEqualTo("/policy/spam_checker/user_may_join_room"))).stream()
                .map(request -> request.getHeader("Authorization")).toList();
    }

    /** A policy service that lets every join through. */
    private static WireMockServer policyService() {
        WireMockServer service = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        service.start();
        service.stubFor(post("/policy/spam_checker/user_may_join_room").willReturn(okJson("{\"result\": \"NOT_SPAM\"}")));
        return service;
    }

    private static String forwarder(String url, Path tokenFile) {
        return """
                    - module: http
                      name: policy-service
                      config:
                        url: %s/policy
                        token-file: %s
                        callbacks: [user_may_join_room]
                """.formatted(url, tokenFile);
    }

    private static String denylist(String error) {
        return """
                policy-gateway:
                  server-name: example.com
                  auth:
                    token: %s
                  defaults:
                    on-failure: fail-closed
                  modules:
                    - module: user_denylist
                      name: spammers
                      config:
                        users: ["@spam:bad.example"]
                        error: %s
                """.formatted(TOKEN, error);
    }

    /** {@link #denylist} with its users in {@code file}. */
    private static String denylistOfFile(String error, Path file) {
        return denylist(error).replace("users: [\"@spam:bad.example\"]", "users-file: " + file);
    }

    /** A {@code content_rules} entry of {@code count} rules; the last rule's last keyword is {@code lastWord}. */
    private static String contentRules(int count, String firstKeywords, String lastWord) {
        StringBuilder rules = new StringBuilder();
        for (int rule = 0; rule < count; rule++) {
            String keywords = rule == 0 ? firstKeywords
                    : "[\"word" + rule + "\", \"" + (rule == count - 1 ? lastWord : "other" + rule) + "\"]";
            rules.append("          - name: rule-").append(rule).append('\n')
                    .append("            keywords: ").append(keywords).append('\n');
        }
        return """
                policy-gateway:
                  server-name: example.com
                  auth:
                    token: %s
                  modules:
                    - module: content_rules
                      name: filter
                      config:
                        max-scanned-length: 16384
                        rules:
                """.formatted(TOKEN) + rules;
    }

    private static String audit(String url) {
        return """
                    - module: audit_webhook
                      name: audit
                      config:
                        url: %s
                        callbacks: [on_new_event]
                """.formatted(url);
    }

    private static String withPolicyList(String config, Path bans, String name) {
        return config + """
                    - module: policy_list
                      name: %s
                      config:
                        sources:
                          - name: %s-bans
                            file: %s
                """.formatted(name, name, bans);
    }

    private Path write(String name, String content) throws IOException {
        Path file = directory.resolve(name);
        Path temporary = directory.resolve(name + ".tmp");
        Files.writeString(temporary, content);
        return Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The gateway, with {@code name} rewritten to {@code content} by an initializer: after startup read
     * the files, before the modules and the reloader are built.
     */
    private SpringApplicationBuilder rewritingAfterStartupRead(String name, String content) {
        return ScannedOnceContext.application(PolicyGatewayApplication.class).initializers(context -> {
            try {
                write(name, content);
            } catch (IOException unwritable) {
                throw new UncheckedIOException(unwritable);
            }
        });
    }

    /** The gateway, with {@code name} rewritten once the first generation serves: after startup read its token files. */
    private SpringApplicationBuilder rewritingOnceServing(String name, String content) {
        return ScannedOnceContext.application(PolicyGatewayApplication.class).initializers(context ->
                context.getBeanFactory().addBeanPostProcessor(new BeanPostProcessor() {
                    @Override
                    public Object postProcessAfterInitialization(Object bean, String beanName) {
                        if (bean instanceof Generations) {
                            try {
                                write(name, content);
                            } catch (IOException unwritable) {
                                throw new UncheckedIOException(unwritable);
                            }
                        }
                        return bean;
                    }
                }));
    }

    private void start(Path config, String... more) {
        start(ScannedOnceContext.application(PolicyGatewayApplication.class), config, more);
    }

    private void start(SpringApplicationBuilder application, Path config, String... more) {
        List<String> args = new ArrayList<>(List.of("--spring.config.additional-location=file:" + config,
                "--server.port=0", "--management.server.port=0", "--policy-gateway.reload.check-interval=200ms"));
        args.addAll(List.of(more));
        gateway = application.run(args.toArray(String[]::new));
        policy = client("local.server.port", TOKEN);
        management = client("local.management.port", null);
    }

    /** Closes the gateway, its clients first so that its drain waits for none of them. */
    private void stopGateway() {
        clients.forEach(GatewayClient::close);
        clients.clear();
        if (gateway != null) {
            gateway.close();
            gateway = null;
        }
    }

    private GatewayClient client(String portProperty, String token) {
        GatewayClient client = new GatewayClient(port(portProperty), token);
        clients.add(client);
        return client;
    }

    private int port(String property) {
        return Integer.parseInt(gateway.getEnvironment().getProperty(property));
    }

    private double gauge(String name) {
        return gauge(name, "");
    }

    /** The value of a series of the scrape whose labels contain {@code label}. */
    private double gauge(String name, String label) {
        Matcher value = Pattern.compile("(?m)^" + name + "\\{[^}]*" + Pattern.quote(label) + "[^}]*} (\\S+)$")
                .matcher(GatewayClient.scrape(port("local.management.port")));
        return value.find() ? Double.parseDouble(value.group(1)) : Double.NaN;
    }

    private double counter(String name, String result) {
        Matcher value = Pattern.compile("(?m)^" + name + "\\{[^}]*result=\"" + result + "\"[^}]*} (\\S+)$")
                .matcher(GatewayClient.scrape(port("local.management.port")));
        return value.find() ? Double.parseDouble(value.group(1)) : Double.NaN;
    }

    private static long threads(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(thread -> thread.getName().equals(name)).count();
    }
}
