package dev.matrixpolicy.gateway.support;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin console as its browser tests read it: opened in a {@link ChromiumBrowser} logged in
 * with HTTP Basic and the admin token as the password, as an admin's browser is after its own login
 * prompt, and the elements the tests look at found by the names the page gives them.
 */
public final class AdminConsolePage {
    private static final Duration PATIENCE = Duration.ofSeconds(10);

    private final ChromiumBrowser browser;
    private final int managementPort;
    private final String adminToken;

    public AdminConsolePage(ChromiumBrowser browser, int managementPort, String adminToken) {
        this.browser = browser;
        this.managementPort = managementPort;
        this.adminToken = adminToken;
    }

    /** Loads the console and waits until every section has drawn itself. */
    public void open() {
        String basic = Base64.getEncoder().encodeToString(("admin:" + adminToken).getBytes(StandardCharsets.UTF_8));
        driver().executeCdpCommand("Network.enable", Map.of());
        driver().executeCdpCommand("Network.setExtraHTTPHeaders", Map.of("headers", Map.of("Authorization", "Basic " + basic)));
        driver().get("http://127.0.0.1:" + managementPort + "/console/");
        waitFor(By.cssSelector("body[data-loaded=true]"));
    }

    /**
     * Loads the console as an admin's bookmark may name it, {@code http://admin:<token>@host/console/},
     * with no other login, and waits until every section has drawn itself.
     */
    public void openWithTheLoginInItsUrl() {
        driver().executeCdpCommand("Network.enable", Map.of());
        driver().executeCdpCommand("Network.setExtraHTTPHeaders", Map.of("headers", Map.of()));
        driver().get("http://admin:" + adminToken + "@127.0.0.1:" + managementPort + "/console/");
        waitFor(By.cssSelector("body[data-loaded=true]"));
    }

    public ChromeDriver driver() {
        return browser.driver();
    }

    /**
     * A callback's entries in the chains section, in chain order. Read in one script, inside the
     * page, because the console redraws its chains after a reload: rows found first and read one by
     * one later may be gone by then (a stale element, which failed a CI run).
     */
    public List<String> entries(String callback) {
        Object names = driver().executeScript("""
                return Array.from(document.querySelectorAll('#chains-body tr[data-entry]'))
                    .filter(row => row.dataset.callback === arguments[0])
                    .map(row => row.dataset.entry);""", callback);
        return ((List<?>) names).stream().map(String.class::cast).toList();
    }

    public List<WebElement> decisionRows() {
        return driver().findElements(By.cssSelector("#decisions-body tr.decision"));
    }

    public void scrollTo(String section) {
        driver().executeScript("document.getElementById(arguments[0]).scrollIntoView()", section);
    }

    public void screenshot(String name) {
        browser.screenshot(name);
    }

    public WebElement waitFor(By selector) {
        return new WebDriverWait(driver(), PATIENCE).until(ExpectedConditions.presenceOfElementLocated(selector));
    }

    /** Waits for a condition, asking again when the page redrew an element while it was read. */
    public void waitUntil(BooleanSupplier condition) {
        new WebDriverWait(driver(), PATIENCE).ignoring(StaleElementReferenceException.class)
                .until(driver -> condition.getAsBoolean());
    }
}
