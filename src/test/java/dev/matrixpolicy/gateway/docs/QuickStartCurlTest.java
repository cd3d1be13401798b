package dev.matrixpolicy.gateway.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.Markdown;
import dev.matrixpolicy.gateway.support.Markdown.Block;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.json.JsonMapper;

/**
 * The README's first requests work as pasted. Each {@code sh} block of its quick start is one
 * {@code curl} command, and the block right after it is the answer it shows. The gateway runs on
 * the embedded default configuration, as {@code ./mvnw spring-boot:run} runs it; each command runs
 * in {@code bash} with {@code /usr/bin/curl}, only the ports 8090 and 8091 replaced by this run's,
 * and must print the answer shown (compared as JSON when it is JSON).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class QuickStartCurlTest {
    /** The default configuration has no token, and says so. */
    @RegisterExtension
    static final ExpectedOutput output = ExpectedOutput.warnings("answering loopback callers only");

    static final String QUICK_START = "first-request";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    /** A command the README shows, and the answer shown under it. */
    record Example(String where, String command, String answer) {
    }

    @Test
    void theQuickStartShowsRequestsWithTheirAnswers() {
        assertThat(examples()).hasSizeGreaterThanOrEqualTo(2);
    }

    @TestFactory
    Stream<DynamicTest> everyCurlOfTheQuickStartPrintsTheAnswerShownUnderIt() {
        return examples().stream().map(example -> DynamicTest.dynamicTest(example.where(), () -> {
            String printed = run(example.command()
                    .replace("localhost:8090", "localhost:" + port)
                    .replace("localhost:8091", "localhost:" + managementPort));
            if (looksLikeJson(example.answer())) {
                assertThat(JSON.readTree(printed)).as("what %s prints: %s", example.where(), printed)
                        .isEqualTo(JSON.readTree(example.answer()));
            } else {
                assertThat(printed.strip()).as("what %s prints", example.where()).isEqualTo(example.answer().strip());
            }
        }));
    }

    private static List<Example> examples() {
        Markdown readme = Markdown.read(Path.of("README.md"));
        List<Block> blocks = readme.section(QUICK_START);
        List<Example> examples = new ArrayList<>();
        for (int index = 0; index < blocks.size(); index++) {
            Block block = blocks.get(index);
            if (!block.language().equals("sh") || !block.text().strip().startsWith("curl ")) {
                continue;
            }
            assertThat(index + 1).as("%s: the answer, in the block right after the command", readme.at(block.firstLine()))
                    .isLessThan(blocks.size());
            examples.add(new Example(readme.at(block.firstLine()), block.text(), blocks.get(index + 1).text()));
        }
        return examples;
    }

    private static boolean looksLikeJson(String text) {
        return text.strip().startsWith("{") || text.strip().startsWith("[");
    }

    private static String run(String command) throws IOException, InterruptedException {
        assertThat(Path.of("/usr/bin/curl")).as("curl, which the README's examples use").isExecutable();
        Path output = Files.createTempFile("curl", ".out");
        try {
            Process curl = new ProcessBuilder("bash", "-c", command)
                    .redirectErrorStream(true).redirectOutput(output.toFile()).start();
            assertThat(curl.waitFor(30, TimeUnit.SECONDS)).as("curl finished within 30 s").isTrue();
            String printed = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(curl.exitValue()).as("curl's exit status; it printed %s", printed).isZero();
            return printed;
        } finally {
            Files.delete(output);
        }
    }
}
