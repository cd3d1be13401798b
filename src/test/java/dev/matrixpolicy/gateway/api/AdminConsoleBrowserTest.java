package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.AdminConsolePage;
import dev.matrixpolicy.gateway.support.ChromiumBrowser;
import dev.matrixpolicy.gateway.support.ConsoleGateway;
import dev.matrixpolicy.gateway.support.GatewayClient;
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
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The admin console in a real browser against a real gateway (application-console.yml), logged in
 * as an admin ({@link AdminConsolePage}). Each test saves what it shows in
 * {@code target/console-screenshots}. Explain, reload and shadow entries are
 * {@link AdminConsoleConfigFileBrowserTest}'s stories.
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

    AdminConsolePage console;

    @BeforeEach
    void console() {
        ConsoleGateway.awaitReady(managementPort); // the rules file's bans in force (@local-spammer's, below)
        console = new AdminConsolePage(browser, managementPort, ADMIN_TOKEN);
    }

    @Test
    @Order(1)
    void theChainsSectionListsEachCallbacksEntriesInChainOrder() {
        console.open();

        assertThat(console.entries("user_may_invite")).containsExactly("known-spammers", "bans");
        assertThat(console.entries("user_may_create_room")).containsExactly("known-spammers", "bans", "broken");
        assertThat(console.entries("user_may_publish_room")).containsExactly("known-spammers", "bans", "no-directory-publishing");
        assertThat(console.entries("on_new_event")).containsExactly("notified-service");
        console.screenshot("chains");
    }

    @Test
    @Order(1)
    void theExplainFormOffersTheDecisionCallbacksWithEntriesAndNoNotification() {
        console.open();

        List<String> offered = console.driver().findElements(By.cssSelector("#explain-callback option")).stream()
                .map(option -> option.getDomAttribute("value")).toList();
        assertThat(offered).contains("spam_checker/user_may_invite", "spam_checker/user_may_join_room")
                .doesNotContain("third_party_rules/on_new_event");
        console.scrollTo("explain");
        console.screenshot("explain-callbacks");
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

        console.open();
        assertThat(console.decisionRows()).hasSize(3);

        ChromeDriver driver = console.driver();
        WebElement user = driver.findElement(By.cssSelector("#decisions-filter [name=user]"));
        user.sendKeys("@carol:example.com");
        driver.findElement(By.cssSelector("#decisions-filter button[type=submit]")).click();
        console.waitUntil(() -> console.decisionRows().size() == 1);

        String row = console.decisionRows().getFirst().getText();
        assertThat(row).contains("user_may_publish_room").contains("no-directory-publishing").contains("M_FORBIDDEN")
                .contains("Publishing rooms to the room directory is disabled").contains("@carol:example.com").contains("!pub:example.com");
        console.scrollTo("decisions");
        console.screenshot("decisions-filtered");

        driver.findElement(By.cssSelector("#decisions-filter button[type=reset]")).click();
        console.waitUntil(() -> console.decisionRows().size() == 3);
        assertThat(console.decisionRows().getFirst().getText()).contains("bans").contains("@local-spammer:example.com");
        console.screenshot("decisions");
    }

    @Test
    @Order(3)
    void theSourcesSectionShowsThePolicyListFileAndItsRules() {
        console.open();

        WebElement source = console.waitFor(By.cssSelector("#sources-body tr.source[data-source=local]"));
        assertThat(source.getText()).contains("file").contains("user ban: 1").contains("server ban: 1").doesNotContain("never");
        assertThat(console.driver().findElement(By.cssSelector("#sources-body h3")).getText()).isEqualTo("bans policy_list");
        console.scrollTo("sources");
        console.screenshot("sources");
    }

    @Test
    @Order(4)
    void theSourcesSectionShowsEveryModulesListsAUsersFileAndAMediaHashesFile() {
        console.open();

        WebElement users = console.waitFor(By.cssSelector("#sources-body tr.source[data-instance=listed-joiners][data-source=users-file]"));
        assertThat(users.getText()).contains("file").contains("exact: 2").contains("glob: 1").contains("UTC").doesNotContain("never");
        WebElement hashes = console.driver().findElement(
                By.cssSelector("#sources-body tr.source[data-instance=known-bad-media][data-source='rules[0].media.hashes-file']"));
        assertThat(hashes.getText()).contains("hashes: 3").contains("UTC");
        assertThat(console.driver().findElements(By.cssSelector("#sources-body h3")))
                .extracting(heading -> heading.getDomAttribute("data-instance")).containsExactly("bans", "listed-joiners", "known-bad-media");
        console.driver().executeScript("document.querySelector('#sources-body h3[data-instance=listed-joiners]').scrollIntoView()");
        console.screenshot("sources-files");
    }

    @Test
    @Order(5)
    void theChainsShowWhatEachEntryDecided() {
        console.open();

        WebElement spammers = console.waitFor(By.cssSelector("#chains-body tr[data-callback=user_may_invite][data-entry=known-spammers]"));
        assertThat(spammers.getText()).contains("deny 1");
        WebElement bans = console.driver().findElement(By.cssSelector("#chains-body tr[data-callback=user_may_invite][data-entry=bans]"));
        assertThat(bans.getText()).contains("deny 1").containsPattern("\\d (µs|ms)");
        console.screenshot("console");
    }

    @Test
    @Order(6)
    void theConsoleOpenedWithTheLoginInItsUrlReadsEverySection() {
        console.openWithTheLoginInItsUrl();

        assertThat(console.entries("user_may_invite")).containsExactly("known-spammers", "bans");
        assertThat(console.driver().findElement(By.id("generation")).getText()).isEqualTo("generation 1");
        assertThat(console.driver().findElements(By.cssSelector("#sources-body h3"))).isNotEmpty();
        assertThat(console.driver().findElements(By.cssSelector(".error-box"))).isEmpty();
    }

    @Test
    @Order(7)
    void aConsoleThatCannotReadItsEndpointListSaysSoRatherThanLoadingForEver() {
        console.driver().executeCdpCommand("Network.enable", Map.of());
        console.driver().executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of("*endpoints.json")));
        try {
            console.open();

            assertThat(console.driver().findElement(By.cssSelector("#config-status .error-box")).getText())
                    .contains("Cannot read the console's endpoint list (endpoints.json)");
            assertThat(console.driver().findElements(By.cssSelector(".body .loading")))
                    .allSatisfy(section -> assertThat(section.getText()).isEqualTo("Not loaded."));
        } finally {
            console.driver().executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of()));
        }
    }
}
