package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.PolicyGatewayApplication;
import dev.matrixpolicy.gateway.support.AdminConsolePage;
import dev.matrixpolicy.gateway.support.ChromiumBrowser;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The admin console in a real browser against a gateway started on a configuration file, as
 * {@code ReloadEndToEndTest} starts one, so that the reload button has a file to apply: the explain
 * form, the marks of a {@code mode: shadow} entry, and reloading a changed and a broken file. The
 * file watcher is off, so only the button applies a change. Screenshots go to
 * {@code target/console-screenshots}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(ExpectedOutput.class) // the refused reload's WARN line is proven, off the console
class AdminConsoleConfigFileBrowserTest {
    private static final String TOKEN = "file-console-token";
    private static final String ADMIN_TOKEN = "file-console-admin-token";
    private static final String MALLORYS_INVITE = """
            {"inviter": "@mallory:evil.example", "invitee": "@bob:example.com", "room_id": "!room:example.com"}""";
    private static final String ALICES_INVITE = """
            {"inviter": "@alice:example.com", "invitee": "@bob:example.com", "room_id": "!room:example.com"}""";
    /** user_may_invite: a shadow entry that would refuse every invite, then three denylists. */
    private static final String CONFIG = """
            policy-gateway:
              server-name: example.com
              auth:
                token: %s
              admin:
                token: %s
              modules:
                - module: static
                  name: trial-deny
                  mode: shadow
                  config:
                    error: Refused by trial-deny
                    results:
                      user_may_invite: M_FORBIDDEN
                - module: user_denylist
                  name: known-spammers
                  config:
                    users: ["@mallory:evil.example"]
                    error: This account is not welcome on this server
                - module: user_denylist
                  name: spam-domains
                  config:
                    users: ["*:spam.example"]
                - module: user_denylist
                  name: bots
                  config:
                    users: ["@bot-*:*"]
            """.formatted(TOKEN, ADMIN_TOKEN);
    private static final String ADDED_ENTRY = """
                - module: static
                  name: no-directory-publishing
                  config:
                    error: Publishing rooms to the room directory is disabled on this server
                    results:
                      user_may_publish_room: M_FORBIDDEN
            """;

    @RegisterExtension
    static final ChromiumBrowser browser = new ChromiumBrowser();

    @TempDir
    static Path directory;

    static Path config;
    static ConfigurableApplicationContext gateway;
    static GatewayClient policyApi;

    AdminConsolePage console;

    @BeforeAll
    static void start() throws IOException {
        config = write(CONFIG);
        gateway = new SpringApplicationBuilder(PolicyGatewayApplication.class).run(
                "--spring.config.additional-location=file:" + config, "--server.port=0", "--management.server.port=0",
                "--policy-gateway.reload.watch=false");
        policyApi = new GatewayClient(port("local.server.port"), TOKEN);
    }

    @AfterAll
    static void stop() {
        if (policyApi != null) {
            policyApi.close();
        }
        if (gateway != null) {
            gateway.close();
        }
    }

    @BeforeEach
    void console() {
        console = new AdminConsolePage(browser, port("local.management.port"), ADMIN_TOKEN);
    }

    @Test
    @Order(1)
    void theChainsMarkTheShadowEntryAndTheStatusLineShowsTheServingGeneration() {
        console.open();

        assertThat(console.entries("user_may_invite")).containsExactly("trial-deny", "known-spammers", "spam-domains", "bots");
        assertThat(chainRow("user_may_invite", "trial-deny").getDomAttribute("data-mode")).isEqualTo("shadow");
        assertThat(chainRow("user_may_invite", "trial-deny").getText()).contains("shadow");
        assertThat(chainRow("user_may_invite", "known-spammers").getDomAttribute("data-mode")).isEqualTo("enforce");
        JsonNode stats = new GatewayClient(port("local.management.port"), null).get("/actuator/chainstats").json();
        assertThat(stats.at("/spam_checker/user_may_invite/trial-deny/mode").asString()).isEqualTo("shadow");
        assertThat(stats.at("/spam_checker/user_may_invite/bots/mode").asString()).isEqualTo("enforce");
        assertThat(text("#config-status")).contains("generation 1").contains("Last reload: reloaded").contains("startup");
        console.screenshot("shadow-chains");
    }

    @Test
    @Order(2)
    void theExplainFormShowsTheDecidingEntryTheShadowAnswerAndTheEntriesNotAskedWithThePolicyApisAnswer() {
        console.open();
        console.driver().findElement(By.cssSelector("#explain-callback option[value='spam_checker/user_may_invite']")).click();
        WebElement body = console.driver().findElement(By.id("explain-body"));
        body.clear();
        body.sendKeys(MALLORYS_INVITE);
        console.driver().findElement(By.cssSelector("#explain-form button[type=submit]")).click();
        console.waitFor(By.id("explain-answer"));

        assertThat(text("#explain-summary")).contains("HTTP 403").contains("decided by known-spammers");
        List<WebElement> steps = console.driver().findElements(By.cssSelector("#explain-result tr.step"));
        assertThat(steps).extracting(step -> step.getDomAttribute("data-entry")).containsExactly("trial-deny", "known-spammers");
        assertThat(steps.get(0).getDomAttribute("data-mode")).isEqualTo("shadow");
        assertThat(steps.get(0).getText()).contains("shadow").contains("answered").contains("M_FORBIDDEN").doesNotContain("decided");
        assertThat(steps.get(1).getText()).contains("enforce").contains("answered").contains("decided");
        assertThat(steps.get(1).getAttribute("class")).contains("decided");
        assertThat(console.driver().findElements(By.cssSelector("#explain-not-asked .id")))
                .extracting(WebElement::getText).containsExactly("spam-domains", "bots");

        GatewayClient.Answer asked = policyApi.post("/v1/spam_checker/user_may_invite", MALLORYS_INVITE);
        assertThat(text("#explain-summary")).contains("HTTP " + asked.status());
        assertThat(GatewayClient.json(text("#explain-answer"))).isEqualTo(asked.json());
        console.scrollTo("explain");
        console.screenshot("explain");
    }

    @Test
    @Order(3)
    void aShadowRefusalShowsInTheDecisionsMarkedShadow() {
        assertThat(policyApi.post("/v1/spam_checker/user_may_invite", ALICES_INVITE).status()).isEqualTo(200);

        console.open();
        WebElement row = console.decisionRows().stream()
                .filter(decision -> decision.getText().contains("@alice:example.com")).findFirst().orElseThrow();
        assertThat(row.getDomAttribute("data-mode")).isEqualTo("shadow");
        assertThat(row.getAttribute("class")).contains("shadow");
        assertThat(row.getText()).contains("trial-deny").contains("would have refused").contains("M_FORBIDDEN");
        assertThat(chainRow("user_may_invite", "trial-deny").getText()).contains("would have: deny");
        console.scrollTo("decisions");
        console.screenshot("shadow-decisions");
    }

    @Test
    @Order(4)
    void theReloadButtonAppliesTheChangedFileAndTheChainsShowTheNewEntry() throws IOException {
        console.open();
        write(CONFIG + ADDED_ENTRY);

        console.driver().findElement(By.id("reload-button")).click();
        console.waitUntil(() -> text("#reload-result").startsWith("Reloaded"));
        console.waitUntil(() -> console.entries("user_may_publish_room").contains("no-directory-publishing"));

        assertThat(text("#reload-result")).isEqualTo("Reloaded: generation 2 serves.");
        assertThat(text("#config-status")).contains("generation 2").contains("Last reload: reloaded").contains("request")
                .doesNotContain("null");
        console.screenshot("reload");
    }

    @Test
    @Order(5)
    void theReloadButtonShowsTheErrorOfABrokenFileAndTheOldChainsStayListed(CapturedOutput output) throws IOException {
        console.open();
        write((CONFIG + ADDED_ENTRY).replace("    error: Publishing", "    eror: Publishing"));

        console.driver().findElement(By.id("reload-button")).click();
        WebElement error = console.waitFor(By.cssSelector("#reload-result .error-box"));

        assertThat(error.getText()).contains("Reload failed; generation 2 keeps serving.")
                .contains("policy-gateway.modules[4].config.eror").contains(config.toString());
        console.waitUntil(() -> text("#config-status").contains("failed"));
        assertThat(text("#config-status")).contains("generation 2");
        assertThat(console.driver().findElement(By.id("last-reload-error")).getDomProperty("textContent"))
                .contains("policy-gateway.modules[4].config.eror");
        assertThat(console.entries("user_may_publish_room")).containsExactly("known-spammers", "spam-domains", "bots", "no-directory-publishing");
        assertThat(console.entries("user_may_invite")).containsExactly("trial-deny", "known-spammers", "spam-domains", "bots");
        assertThat(output.getOut()).contains("Configuration reload refused (request), generation 2 keeps serving")
                .contains("policy-gateway.modules[4].config.eror");
        console.screenshot("reload-failed");
    }

    private WebElement chainRow(String callback, String entry) {
        return console.waitFor(By.cssSelector("#chains-body tr[data-callback=" + callback + "][data-entry=" + entry + "]"));
    }

    private String text(String selector) {
        return console.driver().findElement(By.cssSelector(selector)).getText();
    }

    private static int port(String property) {
        return Integer.parseInt(gateway.getEnvironment().getProperty(property));
    }

    /** Replaces the configuration file whole, as an editor or a ConfigMap update does. */
    private static Path write(String content) throws IOException {
        Path file = directory.resolve("gateway.yml");
        Path temporary = directory.resolve("gateway.yml.tmp");
        Files.writeString(temporary, content);
        return Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
