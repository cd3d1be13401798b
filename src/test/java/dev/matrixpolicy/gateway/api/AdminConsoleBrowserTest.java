package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ChromiumBrowser;
import dev.matrixpolicy.gateway.support.ConsoleGateway;
import dev.matrixpolicy.gateway.support.GatewayClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The admin console in a real browser against a real gateway (application-console.yml), logged in
 * with HTTP Basic and the admin token as the password, as an admin's browser is after its own login
 * prompt. Each test saves what it shows in {@code target/console-screenshots}. The explain form is
 * left for when the explain endpoint exists.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.server.port=0", "policy-gateway.admin.token=" + AdminConsoleBrowserTest.ADMIN_TOKEN})
@ActiveProfiles(ConsoleGateway.PROFILE)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminConsoleBrowserTest {
    static final String ADMIN_TOKEN = "console-admin-token";

    @RegisterExtension
    static final ChromiumBrowser browser = new ChromiumBrowser();

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @DynamicPropertySource
    static void rules(DynamicPropertyRegistry registry) {
        ConsoleGateway.rulesFile(registry);
    }

    @BeforeEach
    void logIn() {
        String basic = Base64.getEncoder().encodeToString(("admin:" + ADMIN_TOKEN).getBytes(StandardCharsets.UTF_8));
        browser.driver().executeCdpCommand("Network.enable", Map.of());
        browser.driver().executeCdpCommand("Network.setExtraHTTPHeaders", Map.of("headers", Map.of("Authorization", "Basic " + basic)));
    }

    @Test
    @Order(1)
    void theChainsSectionListsEachCallbacksEntriesInChainOrder() {
        open();

        assertThat(entries("user_may_invite")).containsExactly("known-spammers", "bans");
        assertThat(entries("user_may_create_room")).containsExactly("known-spammers", "bans", "broken");
        assertThat(entries("user_may_publish_room")).containsExactly("bans", "no-directory-publishing");
        browser.screenshot("chains");
    }

    @Test
    @Order(2)
    void aRefusalShowsInTheDecisionsAndTheUserFilterFindsIt() {
        GatewayClient policyApi = new GatewayClient(port, ConsoleGateway.TOKEN);
        assertThat(policyApi.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"@mallory:evil.example\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!room:example.com\"}").status())
                .isEqualTo(403);
        assertThat(policyApi.post("/v1/spam_checker/user_may_publish_room",
                "{\"user_id\": \"@carol:example.com\", \"room_id\": \"!pub:example.com\"}").status()).isEqualTo(403);
        assertThat(policyApi.post("/v1/spam_checker/user_may_invite",
                "{\"inviter\": \"@local-spammer:example.com\", \"invitee\": \"@dave:example.com\", \"room_id\": \"!room:example.com\"}").status())
                .isEqualTo(403);

        open();
        assertThat(decisionRows()).hasSize(3);

        ChromeDriver driver = browser.driver();
        WebElement user = driver.findElement(By.cssSelector("#decisions-filter [name=user]"));
        user.sendKeys("@carol:example.com");
        driver.findElement(By.cssSelector("#decisions-filter button[type=submit]")).click();
        waitUntil(() -> decisionRows().size() == 1);

        String row = decisionRows().getFirst().getText();
        assertThat(row).contains("user_may_publish_room").contains("no-directory-publishing").contains("M_FORBIDDEN")
                .contains("Publishing rooms to the room directory is disabled").contains("@carol:example.com").contains("!pub:example.com");
        scrollTo("decisions");
        browser.screenshot("decisions-filtered");

        driver.findElement(By.cssSelector("#decisions-filter button[type=reset]")).click();
        waitUntil(() -> decisionRows().size() == 3);
        assertThat(decisionRows().getFirst().getText()).contains("bans").contains("@local-spammer:example.com");
        browser.screenshot("decisions");
    }

    @Test
    @Order(3)
    void theSourcesSectionShowsThePolicyListFileAndItsRules() {
        open();

        WebElement source = waitFor(By.cssSelector("#sources-body tr.source[data-source=local]"));
        assertThat(source.getText()).contains("file").contains("user ban: 1").contains("server ban: 1").doesNotContain("never");
        assertThat(browser.driver().findElement(By.cssSelector("#sources-body h3")).getText()).isEqualTo("bans");
        scrollTo("sources");
        browser.screenshot("sources");
    }

    @Test
    @Order(4)
    void theChainsShowWhatEachEntryDecided() {
        open();

        WebElement spammers = waitFor(By.cssSelector("#chains-body tr[data-callback=user_may_invite][data-entry=known-spammers]"));
        assertThat(spammers.getText()).contains("deny 1");
        WebElement bans = browser.driver().findElement(By.cssSelector("#chains-body tr[data-callback=user_may_invite][data-entry=bans]"));
        assertThat(bans.getText()).contains("deny 1").containsPattern("\\d (µs|ms)");
        browser.screenshot("console");
    }

    private void open() {
        browser.driver().get("http://127.0.0.1:" + managementPort + "/console/");
        waitFor(By.cssSelector("body[data-loaded=true]"));
    }

    private List<String> entries(String callback) {
        return browser.driver().findElements(By.cssSelector("#chains-body tr[data-callback=" + callback + "] td.entry"))
                .stream().map(WebElement::getText).toList();
    }

    private List<WebElement> decisionRows() {
        return browser.driver().findElements(By.cssSelector("#decisions-body tr.decision"));
    }

    private void scrollTo(String section) {
        browser.driver().executeScript("document.getElementById(arguments[0]).scrollIntoView()", section);
    }

    private WebElement waitFor(By selector) {
        return new WebDriverWait(browser.driver(), Duration.ofSeconds(10)).until(ExpectedConditions.presenceOfElementLocated(selector));
    }

    private void waitUntil(java.util.function.BooleanSupplier condition) {
        new WebDriverWait(browser.driver(), Duration.ofSeconds(10)).until(driver -> condition.getAsBoolean());
    }
}
