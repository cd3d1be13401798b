package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.springframework.util.FileSystemUtils;

/**
 * One headless Debian Chromium for a test class, driven through Debian's chromedriver: register
 * with {@code @RegisterExtension static}. Both binaries are named explicitly, so Selenium Manager
 * never tries to download a browser. A fresh machine has neither: they are installed with apt-get,
 * as root or through passwordless sudo, as {@code synapse-module/maven/RunPythonTests.java} installs
 * the Python test tools (that launcher runs as a single-file program, so it cannot share this code).
 * Where installing is impossible the test class fails; it never skips.
 */
public final class ChromiumBrowser implements BeforeAllCallback, AfterAllCallback {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String PACKAGES = "chromium chromium-driver";
    private static final Path INSTALL_LOG = Path.of("target", "chromium-install.log");
    private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    /**
     * Selenium looks for a DevTools binding matching this Chromium and warns when it has none; the
     * tests need only the commands every ChromiumDriver has (executeCdpCommand). Held here: JUL
     * forgets the level of a logger nobody references.
     */
    private static final java.util.logging.Logger CDP_VERSION_FINDER =
            java.util.logging.Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

    private ChromeDriver driver;
    private Path profile;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        installed();
        profile = Files.createTempDirectory("chromium-profile");
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
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        if (driver != null) {
            driver.quit();
        }
        if (profile != null) {
            FileSystemUtils.deleteRecursively(profile);
        }
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

    /** Installs Chromium and its driver unless both are there; once per JVM. */
    private static synchronized void installed() {
        if (present()) {
            return;
        }
        List<String> sudo = "root".equals(System.getProperty("user.name")) ? List.of() : List.of("sudo", "-n");
        // A fresh machine may be running its own updates: wait up to 5 minutes for the dpkg lock.
        List<String> apt = new ArrayList<>(sudo);
        apt.addAll(List.of("apt-get", "-o", "DPkg::Lock::Timeout=300"));
        List<String> update = new ArrayList<>(apt);
        update.addAll(List.of("update", "-qq"));
        List<String> install = new ArrayList<>(apt);
        install.addAll(List.of("install", "-y", "-qq"));
        install.addAll(List.of(PACKAGES.split(" ")));
        boolean done = run(update) && run(install) && present();
        if (!done) {
            throw new IllegalStateException("The browser tests need Debian's " + PACKAGES + " (" + CHROMIUM + ", "
                    + CHROMEDRIVER + ") and installing them failed (apt-get as root or through sudo -n; output in "
                    + INSTALL_LOG.toAbsolutePath() + "). Install them: apt-get install " + PACKAGES);
        }
    }

    private static boolean present() {
        return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    }

    private static boolean run(List<String> command) {
        try {
            Files.createDirectories(INSTALL_LOG.getParent());
            Files.writeString(INSTALL_LOG, "$ " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(INSTALL_LOG.toFile()));
            builder.environment().putAll(Map.of("DEBIAN_FRONTEND", "noninteractive"));
            return builder.start().waitFor() == 0;
        } catch (IOException cannotStart) {
            return false;
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
