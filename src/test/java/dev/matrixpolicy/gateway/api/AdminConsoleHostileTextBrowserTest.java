package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.AdminConsolePage;
import dev.matrixpolicy.gateway.support.ChromiumBrowser;
import dev.matrixpolicy.gateway.support.ConsoleGateway;
import dev.matrixpolicy.gateway.support.GatewayClient;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.json.JsonMapper;

/**
 * The console shows what a Matrix user wrote, in IDs and in a policy list's reasons, as text: markup
 * that would run a script runs nothing, and a character that shows nothing or turns text round (a
 * bidirectional override, a zero-width space) is shown by its code, so one user ID cannot pass for
 * another. Each value goes the whole way: the policy API, the decision log, the actuator, the browser.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"management.server.port=0", "policy-gateway.admin.token=" + AdminConsoleHostileTextBrowserTest.ADMIN_TOKEN})
@ActiveProfiles(ConsoleGateway.PROFILE)
class AdminConsoleHostileTextBrowserTest {
    static final String ADMIN_TOKEN = "console-admin-token";
    /** Sets {@code window.__pwned} if the browser ever takes it for markup, in an element or in an attribute. */
    static final String MARKUP = "<img src=x onerror=\"window.__pwned='element'\"> \"><svg/onload=window.__pwned='attribute'>";
    /** Reads as @alice:example.com, but its server is ecila: the override turns the rest round. */
    static final String TURNED_ROUND = "@\u202emoc.elpmaxe:ecila";
    /** Reads as @alice:example.com too. */
    static final String ZERO_WIDTH = "@al\u200bice:example.com";

    @RegisterExtension
    static final ChromiumBrowser browser = new ChromiumBrowser();

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @DynamicPropertySource
    static void rules(DynamicPropertyRegistry registry) {
        ConsoleGateway.rulesFile(registry, "ban server hostile.example " + MARKUP + " " + "x".repeat(10_000) + "\n");
    }

    AdminConsolePage console;

    @BeforeEach
    void console() {
        ConsoleGateway.awaitReady(managementPort); // the rules file's ban in force
        console = new AdminConsolePage(browser, managementPort, ADMIN_TOKEN);
    }

    @Test
    void markupInIdsAndReasonsShowsAsTextAndRunsNothing() {
        invite("@" + MARKUP + ":hostile.example", "@bob:example.com", "!" + MARKUP + ":example.com");

        console.open();

        assertThat(console.driver().executeScript("return window.__pwned === undefined")).isEqualTo(true);
        assertThat(console.driver().findElements(By.cssSelector("img, svg"))).isEmpty();
        String row = console.decisionRows().getFirst().getText();
        assertThat(row).contains("@<img src=x onerror=\"window.__pwned='element'\"> \"><svg/onload=window.__pwned='attribute'>:hostile.example")
                .contains("!<img src=x onerror=").contains(MARKUP + " xxx").contains("x…"); // cut at 500 characters

        console.driver().executeScript("document.getElementById('explain-callback').value = 'spam_checker/user_may_invite';"
                        + " document.getElementById('explain-body').value = arguments[0]",
                body("@" + MARKUP + ":hostile.example", "@bob:example.com", "!room:example.com"));
        console.driver().findElement(By.cssSelector("#explain-form button[type=submit]")).click();
        WebElement trace = console.waitFor(By.cssSelector("#explain-result tr.step.decided"));
        // the answer as JSON, its quotes escaped
        assertThat(trace.getText()).contains("<img src=x onerror=\\\"window.__pwned='element'\\\">")
                .contains("\\\"><svg/onload=window.__pwned='attribute'>").contains("x".repeat(400));
        // hundreds of characters without a space wrap in their cell rather than widening the page
        assertThat(console.driver().executeScript("return document.documentElement.scrollWidth <= window.innerWidth")).isEqualTo(true);
        assertThat(console.driver().executeScript("return window.__pwned === undefined")).isEqualTo(true);
        assertThat(console.driver().findElements(By.cssSelector("img, svg"))).isEmpty();
        console.screenshot("hostile-markup");
    }

    @Test
    void anIdThatWouldReadAsAnothersShowsItsInvisibleCharactersByTheirCodes() {
        invite("@x:hostile.example", TURNED_ROUND, "!room:example.com");
        invite("@y:hostile.example", ZERO_WIDTH, "!room:example.com");

        console.open();

        List<String> users = console.driver().findElements(By.cssSelector("#decisions-body a.id")).stream()
                .map(WebElement::getText).toList();
        assertThat(users).contains("@U+202Emoc.elpmaxe:ecila", "@alU+200Bice:example.com")
                .noneMatch(user -> user.codePoints().anyMatch(c -> Character.getType(c) == Character.FORMAT));
        assertThat(console.driver().findElements(By.cssSelector("#decisions-body .unseen")))
                .extracting(mark -> mark.getDomAttribute("title")).allMatch(title -> title.contains("shows nothing"));

        // the filter a click sets asks for the ID itself, not for what is shown of it
        console.driver().findElements(By.cssSelector("#decisions-body a.id")).stream()
                .filter(link -> link.getText().contains("U+202E")).findFirst().orElseThrow().click();
        console.waitUntil(() -> console.decisionRows().size() == 1);
        assertThat(console.driver().findElement(By.cssSelector("#decisions-filter [name=user]")).getDomProperty("value"))
                .isEqualTo(TURNED_ROUND);
        // which the field shows turned round, as @alice:example.com: the line above the decisions says what it holds
        assertThat(console.driver().findElement(By.id("decisions-summary")).getText()).startsWith("1 shown for user @U+202Emoc.elpmaxe:ecila;");
        console.screenshot("hostile-invisible-characters");
    }

    /** An invite the rules file's server ban refuses. */
    private void invite(String inviter, String invitee, String room) {
        assertThat(new GatewayClient(port, ConsoleGateway.TOKEN).post("/v1/spam_checker/user_may_invite", body(inviter, invitee, room))
                .status()).isEqualTo(403);
    }

    private static String body(String inviter, String invitee, String room) {
        return JsonMapper.shared().writeValueAsString(Map.of("inviter", inviter, "invitee", invitee, "room_id", room));
    }
}
