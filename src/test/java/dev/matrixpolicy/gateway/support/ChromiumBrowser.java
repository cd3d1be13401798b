package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.springframework.util.FileSystemUtils;

/**
 * One headless Debian Chromium for the test classes of a run, driven through Debian's chromedriver:
 * register with {@code @RegisterExtension static}. The first class starts it (about 3 s) and the run's
 * end quits it; each class gets it back with no cookies, cache, extra headers or blocked URLs of the
 * class before, on a blank page, and a fresh one if the one before stopped answering. Both binaries
 * are named explicitly, so Selenium Manager never tries to download a browser. A fresh machine has
 * neither: {@link DebianPackages} installs them, and where it cannot the test class fails; it never
 * skips.
 */
public final class ChromiumBrowser implements BeforeAllCallback {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String PACKAGES = "chromium chromium-driver";
    private static final Path INSTALL_LOG = Path.of("target", "chromium-install.log");
    private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    private static final ExtensionContext.Namespace RUN = ExtensionContext.Namespace.create(ChromiumBrowser.class);
    /**
     * Selenium looks for a DevTools binding matching this Chromium and warns when it has none; the
     * tests need only the commands every ChromiumDriver has (executeCdpCommand). Held here: JUL
     * forgets the level of a logger nobody references.
     */
    private static final java.util.logging.Logger CDP_VERSION_FINDER =
            java.util.logging.Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

    private ChromeDriver driver;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        ExtensionContext.Store store = context.getRoot().getStore(RUN);
        Session session = store.get(Session.class, Session.class);
        if (session == null || !session.cleared()) {
            if (session != null) {
                session.close();
            }
            session = Session.start();
            store.put(Session.class, session);
        }
        driver = session.driver;
    }

    public ChromeDriver driver() {
        return driver;
    }

    /** Saves what the browser shows as {@code target/console-screenshots/<name>.png}. */
    public Path screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path file = SCREENSHOTS.resolve(name + ".png");
            Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
            return file;
        } catch (IOException failed) {
            throw new UncheckedIOException(failed);
        }
    }

    /** The browser and its profile directory; closed by JUnit at the end of the run. */
    private record Session(ChromeDriver driver, Path profile) implements AutoCloseable {
        static Session start() throws IOException {
            DebianPackages.require("The browser tests", List.of(CHROMIUM, CHROMEDRIVER), PACKAGES, INSTALL_LOG);
            Path profile = Files.createTempDirectory("chromium-profile");
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM.toFile());
            // Without the background-networking flags Chromium keeps calling Google's services, which a
            // closed network answers with nothing but timeouts.
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1400,1000", "--user-data-dir=" + profile);
            CDP_VERSION_FINDER.setLevel(java.util.logging.Level.SEVERE);
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(CHROMEDRIVER.toFile())
                    .usingAnyFreePort()
                    .withSilent(true)
                    .build();
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
            return new Session(driver, profile);
        }

        /** Leaves nothing of the class before for the next; false when the browser no longer answers. */
        boolean cleared() {
            try {
                driver.get("about:blank");
                driver.executeCdpCommand("Network.enable", Map.of());
                driver.executeCdpCommand("Network.setExtraHTTPHeaders", Map.of("headers", Map.of()));
                driver.executeCdpCommand("Network.setBlockedURLs", Map.of("urls", List.of()));
                driver.executeCdpCommand("Network.clearBrowserCookies", Map.of());
                driver.executeCdpCommand("Network.clearBrowserCache", Map.of());
                return true;
            } catch (WebDriverException gone) {
                return false;
            }
        }

        @Override
        public void close() throws IOException {
            try {
                driver.quit();
            } catch (WebDriverException alreadyGone) {
                // a browser that stopped answering: its process is gone or going, nothing left to quit
            } finally {
                FileSystemUtils.deleteRecursively(profile);
            }
        }
    }
}
