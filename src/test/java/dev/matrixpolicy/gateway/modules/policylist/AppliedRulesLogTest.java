package dev.matrixpolicy.gateway.modules.policylist;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.FileSource;
import dev.matrixpolicy.gateway.policylist.RuleText;
import dev.matrixpolicy.gateway.policylist.UrlSource;
import dev.matrixpolicy.gateway.support.LoggedLines;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file's or URL's rules put in force are said in one INFO line, as every list reader says what it
 * loaded: at startup, and at each change of its content, never at a check that finds it unchanged.
 */
class AppliedRulesLogTest {
    private static final String LOCATION = "/etc/gateway/bans.txt";

    @RegisterExtension
    final LoggedLines logged = LoggedLines.of(PolicyList.class, Level.INFO);

    @TempDir
    Path directory;

    private final WireMockServer server = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    private PolicyList list;
    private FileSource source;

    @AfterEach
    void close() {
        if (list != null) {
            list.close();
        }
        server.stop();
    }

    @Test
    void aPolicyFileReadAtStartupIsLoggedOnceWithItsRulesByKind() throws Exception {
        Path file = Files.writeString(directory.resolve("bans.txt"),
                "ban user @a:example.org\nban user @b:example.org\nban server evil.example\n");

        start(file);
        awaitApplied(1);
        awaitACheckOfTheFileAsItIs();

        assertThat(applied()).singleElement().asString()
                .startsWith("bans: source 'local' read from " + LOCATION + ": 3 rules in force (user ban: 2, server ban: 1), compiled in ")
                .endsWith(" ms");
    }

    @Test
    void aPolicyFileWhoseRulesChangeIsLoggedOnceForEachChange() throws Exception {
        Path file = Files.writeString(directory.resolve("bans.txt"), "ban user @a:example.org\n");
        start(file);
        awaitApplied(1);

        Files.writeString(file, "ban user @a:example.org\nban user @b:example.org\n");
        awaitApplied(2);
        awaitACheckOfTheFileAsItIs();

        assertThat(applied()).hasSize(2);
        assertThat(applied().get(0)).contains(": 1 rule in force (user ban: 1)");
        assertThat(applied().get(1)).contains(": 2 rules in force (user ban: 2)");
    }

    @Test
    void aListAtAUrlIsLoggedWithItsUrlAsStatusPagesShowIt() {
        server.start();
        server.stubFor(get(urlPathEqualTo("/bans.txt")).willReturn(aResponse().withBody("ban user @a:example.org\n")));
        String url = server.baseUrl() + "/bans.txt?token=s3cret";
        list = OneSourceList.of("community", "url", url, EnumSet.allOf(EntityKind.class),
                new UrlSource("community", URI.create(url), Duration.ofMillis(50), Duration.ofSeconds(5), 1 << 20, Clock.systemUTC()));
        list.start();
        awaitApplied(1);

        assertThat(applied()).singleElement().asString()
                .startsWith("bans: source 'community' read from " + server.baseUrl() + "/bans.txt?…: 1 rule in force (user ban: 1)")
                .doesNotContain("s3cret");
    }

    @Test
    void aPolicyRoomIsNotLoggedHereForItSaysWhenItIsReadItselfAndThenChangesABanAtATime() throws Exception {
        ChangedRulesTest.Scripted room = new ChangedRulesTest.Scripted();
        list = OneSourceList.of("community", "room", "!policies:example.org", EnumSet.allOf(EntityKind.class), room);
        list.start();
        room.listener.updated(room, RuleText.parse("ban user @a:example.org", "community").rules(), Map.of());
        await().atMost(Duration.ofSeconds(10)).until(() -> list.index().decide(EntityKind.USER, "@a:example.org").isPresent());
        list.awaitCompiled(); // the compile's last steps, after the index is served

        assertThat(applied()).isEmpty();
    }

    private void start(Path file) {
        source = new FileSource("local", file, Duration.ofMillis(50), Clock.systemUTC());
        list = OneSourceList.of("local", LOCATION, EnumSet.allOf(EntityKind.class), source);
        list.start();
    }

    /**
     * Waits for a good read of the file that began after this call (the second read to end from now),
     * and for the compile of whatever it handed over.
     */
    private void awaitACheckOfTheFileAsItIs() {
        for (int reads = 0; reads < 2; reads++) {
            Optional<Instant> last = source.status().lastSuccess();
            await().atMost(Duration.ofSeconds(10)).until(() -> !source.status().lastSuccess().equals(last));
        }
        list.awaitCompiled();
    }

    /** Waits for the {@code count}th line of rules put in force. */
    private void awaitApplied(int count) {
        await().atMost(Duration.ofSeconds(10)).until(() -> applied().size() >= count);
    }

    /** The lines that said a source's rules were put in force. */
    private List<String> applied() {
        return logged.at(Level.INFO).stream().filter(line -> line.contains(" in force")).toList();
    }
}
