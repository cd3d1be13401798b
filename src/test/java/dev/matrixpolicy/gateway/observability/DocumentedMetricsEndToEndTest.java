package dev.matrixpolicy.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.ConsoleGateway;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import dev.matrixpolicy.gateway.support.GatewayClient;
import dev.matrixpolicy.gateway.support.Markdown;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The metric names and labels an admin is given (the chart's Grafana dashboard, the alert examples,
 * the metric tables and every other PromQL of the docs) are the ones a real scrape has, and every
 * metric of the gateway's own that a scrape shows is documented. The gateway (application-metrics.yml)
 * runs an entry of every module type whose metrics the docs name and that needs no service beside
 * it; a few calls make the series of decisions, failures and refusals exist.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
@ActiveProfiles("metrics")
class DocumentedMetricsEndToEndTest {
    private static final Path DASHBOARD = Path.of("helm/matrix-policy-gateway/dashboards/matrix-policy-gateway.json");
    /** The series HelmPrometheusRuleTest gives promtool to fire the chart's alerts. */
    private static final Path ALERTS_TEST = Path.of("src/test/resources/prometheus/alerts-test.yaml");
    private static final Pattern ALERT_SERIES = Pattern.compile("^\\s*- series: '(.*)'$");
    /** Our metrics, the JVM's and Spring's, and Micrometer's Caffeine ones (not the {@code cache_ttl} setting). */
    private static final Pattern METRIC = Pattern.compile(
            "\\b((?:policy|jvm|http_server)_[a-z_]*[a-z]|cache_(?:gets|puts|evictions|size)[a-z_]*)\\b(\\{[^}]*})?");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");
    private static final Pattern CODE_SPAN = Pattern.compile("`([^`]+)`");
    private static final Pattern SERIES = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? \\S+.*$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"(?:[^\"\\\\]|\\\\.)*\"");
    /** What Micrometer adds to a meter's name for Prometheus. */
    private static final List<String> SUFFIXES = List.of("", "_total", "_count", "_sum", "_max", "_bucket");
    /** Labels Prometheus adds from the target (the ServiceMonitor), and the one every meter has. */
    private static final Set<String> NOT_FROM_THE_GATEWAY = Set.of("namespace", "job", "pod", "application");
    /** Words of the docs that look like a metric and are not one: a module type, a callback argument. */
    private static final Set<String> NOT_METRICS = Set.of("policy_list", "policy_server", "policy_server_request",
            "policy_room_upgrade_type");
    /**
     * Documented metrics this gateway cannot show: a policy server's requests, its bodies' memory, the servers its rate
     * limit refused and its listener's connections (PolicyServerEndToEndTest, PolicyServerRateLimitEndToEndTest and
     * PolicyServerConnectionLimitEndToEndTest read them), Redis' failures (RateLimitsReplicasEndToEndTest), and
     * a policy room's upgrade, which needs a homeserver to read the room from.
     */
    private static final Set<String> NEED_ANOTHER_GATEWAY = Set.of("policy_server_requests_seconds",
            "policy_server_rate_limited_origins_total", "policy_server_body_memory_bytes", "policy_server_body_memory_max_bytes",
            "policy_server_connections", "policy_server_connections_max", "policy_server_requests_in_progress", "policy_state_failures_total",
            "policy_module_policy_list_source_upgraded");

    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("API access refused");

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    private String scrape;
    private Map<String, Set<String>> scraped;

    @DynamicPropertySource
    static void lists(DynamicPropertyRegistry registry) {
        ConsoleGateway.rulesFile(registry);
        ConsoleGateway.write(registry, "metrics-test.passwords-file", "# no user yet\n");
    }

    /** A decision of each kind, a failure, a shadow answer, refusals of the API and the admin paths, a 404. */
    @BeforeEach
    void traffic() {
        GatewayClient api = new GatewayClient(port, "metrics-token");
        api.post("/v1/spam_checker/user_may_publish_room", "{\"user_id\": \"@dave:example.com\", \"room_id\": \"!pub:example.com\"}");
        api.post("/v1/spam_checker/user_may_create_room", "{\"user_id\": \"@carol:example.com\"}");
        for (String inviter : List.of("@alice:example.com", "@alice:example.com", "@local-spammer:example.com")) {
            api.post("/v1/spam_checker/user_may_invite",
                    "{\"inviter\": \"" + inviter + "\", \"invitee\": \"@bob:example.com\", \"room_id\": \"!r:example.com\"}");
        }
        new GatewayClient(port, "wrong-token").post("/v1/spam_checker/user_may_invite", "{}");
        api.get("/no-such-path");
        new GatewayClient(managementPort, null).get("/actuator/sources");
        scrape = GatewayClient.scrape(managementPort);
        scraped = series(scrape);
    }

    @Test
    void everyMetricAndLabelTheDashboardQueriesIsInAScrape() throws IOException {
        JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(DASHBOARD));
        List<String> missing = new ArrayList<>();
        List<JsonNode> queries = new ArrayList<>(dashboard.findValues("expr"));
        queries.addAll(dashboard.findValues("definition")); // the namespace variable's
        for (JsonNode query : queries) {
            references(query.asString()).forEach((metric, labels) -> check(DASHBOARD + ": " + query.asString(), metric, labels, missing));
        }

        assertThat(missing).isEmpty();
    }

    @Test
    void everyMetricAndLabelTheDocsQueryOrTabulateIsInAScrape() {
        List<String> missing = new ArrayList<>();
        for (DocLine line : docLines()) {
            for (String expression : line.expressions()) {
                references(expression).forEach((metric, labels) -> check(line.where(), metric, labels, missing));
            }
            tableRow(line.text()).forEach((row, tags) -> checkRow(line.where(), row, tags, missing));
        }

        assertThat(missing).isEmpty();
    }

    @Test
    void everyMetricAndLabelOfTheSeriesThatFireTheChartsAlertsIsInAScrape() throws IOException {
        List<String> missing = new ArrayList<>();
        List<String> lines = Files.readAllLines(ALERTS_TEST);
        for (int at = 0; at < lines.size(); at++) {
            Matcher series = ALERT_SERIES.matcher(lines.get(at));
            if (series.matches()) {
                String where = ALERTS_TEST + ":" + (at + 1);
                references(series.group(1)).forEach((metric, labels) -> check(where, metric, labels, missing));
            }
        }

        assertThat(missing).isEmpty();
        assertThat(lines).as("series read").anyMatch(line -> line.contains("- series: '"));
    }

    @Test
    void everyMetricOfTheGatewaysOwnInAScrapeIsDocumented() {
        Set<String> documented = docLines().stream().flatMap(line -> line.expressions().stream())
                .flatMap(expression -> references(expression).keySet().stream())
                .collect(Collectors.toSet());

        assertThat(scraped.keySet()).filteredOn(name -> name.startsWith("policy_") || name.startsWith("jvm_threads_virtual_"))
                .allSatisfy(name -> assertThat(SUFFIXES.stream().filter(name::endsWith)
                        .map(suffix -> name.substring(0, name.length() - suffix.length())))
                        .as("%s named in the docs", name)
                        .anyMatch(family -> documented.contains(family) || documented.contains(family + "_total")));
    }

    /**
     * histogram_quantile interpolates inside a bucket: with the lowest at Micrometer's default of 1 ms,
     * every chain faster than that (most take microseconds, docs/performance.md) showed on the
     * dashboard as a p50 of 0.5 ms, a p95 of 0.95 ms and a p99 of 0.99 ms, whatever its real latency.
     */
    @Test
    void theCallbackLatencyHistogramResolvesTheMicrosecondsAChainTakes() {
        double lowest = Pattern.compile("(?m)^policy_callback_seconds_bucket\\{[^}]*le=\"([0-9.eE+-]+)\"").matcher(scrape).results()
                .mapToDouble(bucket -> Double.parseDouble(bucket.group(1))).min().orElseThrow();

        assertThat(lowest).isLessThanOrEqualTo(0.00001);
    }

    /**
     * A line of the docs, with the PromQL it may hold: its code spans, or the whole line inside a
     * fenced block.
     */
    private record DocLine(String where, String text, List<String> expressions) {
    }

    private static List<DocLine> docLines() {
        List<DocLine> lines = new ArrayList<>();
        for (Markdown page : Markdown.repository()) {
            List<String> text;
            try {
                text = Files.readAllLines(page.file());
            } catch (IOException unreadable) {
                throw new UncheckedIOException(unreadable);
            }
            for (int at = 1; at <= text.size(); at++) {
                int number = at;
                String line = text.get(at - 1);
                boolean fenced = page.blocks().stream()
                        .anyMatch(block -> number >= block.firstLine() && number < block.firstLine() + block.lines().size());
                lines.add(new DocLine(page.at(at), line,
                        fenced ? List.of(line) : CODE_SPAN.matcher(line).results().map(span -> span.group(1)).toList()));
            }
        }
        return lines;
    }

    /** Each series name of a scrape, with every label name its series have. */
    private static Map<String, Set<String>> series(String text) {
        Map<String, Set<String>> series = new HashMap<>();
        for (String line : text.split("\n")) {
            Matcher matcher = SERIES.matcher(line);
            if (line.startsWith("#") || !matcher.matches()) {
                continue;
            }
            Set<String> labels = series.computeIfAbsent(matcher.group(1), name -> new TreeSet<>());
            Matcher label = LABEL.matcher(matcher.group(2) == null ? "" : matcher.group(2));
            while (label.find()) {
                labels.add(label.group(1));
            }
        }
        return series;
    }

    /**
     * The metrics an expression names, each with the labels it selects on, groups by ({@code by},
     * {@code without}), or lists as its labels ({@code policy_decisions_total{callback, outcome}}).
     */
    private static Map<String, Set<String>> references(String expression) {
        Set<String> grouping = new TreeSet<>();
        GROUPING.matcher(expression).results().forEach(group -> grouping.addAll(labelNames(group.group(1))));
        Map<String, Set<String>> references = new HashMap<>();
        Matcher metric = METRIC.matcher(expression);
        while (metric.find()) {
            if (NOT_METRICS.contains(metric.group(1))) {
                continue;
            }
            Set<String> labels = references.computeIfAbsent(metric.group(1), name -> new TreeSet<>(grouping));
            if (metric.group(2) != null) {
                labels.addAll(labelNames(metric.group(2).substring(1, metric.group(2).length() - 1)));
            }
        }
        return references;
    }

    private static Set<String> labelNames(String list) {
        return Arrays.stream(list.split(","))
                .map(part -> part.strip().replaceFirst("^([a-z_]+).*$", "$1"))
                .filter(name -> name.matches("[a-z_]+"))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * A metrics table's row ({@code | `name`, `name` | type | tags |}): its metrics and the tags its
     * third cell lists, in code spans before any explanation (a colon or a semicolon) and outside
     * parentheses (values).
     */
    private static Map<String, Set<String>> tableRow(String line) {
        String[] cells = line.split("(?<!\\\\)\\|");
        if (!line.startsWith("|") || cells.length < 4) {
            return Map.of();
        }
        List<String> metrics = CODE_SPAN.matcher(cells[1]).results().map(span -> span.group(1))
                .filter(span -> METRIC.matcher(span).matches() && !NOT_METRICS.contains(span)).toList();
        String tags = cells[3];
        for (String before = ""; !before.equals(tags); ) {
            before = tags;
            tags = tags.replaceAll("\\([^()]*\\)", "");
        }
        Set<String> listed = CODE_SPAN.matcher(tags.split("[:;]")[0]).results().map(tag -> tag.group(1))
                .collect(Collectors.toCollection(TreeSet::new));
        return metrics.isEmpty() ? Map.of() : Map.of(String.join(", ", metrics), listed);
    }

    private void check(String where, String metric, Set<String> labels, List<String> missing) {
        if (needsAnotherGateway(metric)) {
            return;
        }
        Set<String> have = labelsOf(metric);
        if (have == null) {
            missing.add(where + ": no series " + metric);
            return;
        }
        Set<String> absent = new TreeSet<>(labels);
        absent.removeAll(have);
        absent.removeAll(NOT_FROM_THE_GATEWAY);
        if (!absent.isEmpty()) {
            missing.add(where + ": " + metric + " has no label " + absent + " (it has " + have + ")");
        }
    }

    /** A table row's metrics have every tag it lists, one of them at least, and no label it leaves out. */
    private void checkRow(String where, String row, Set<String> tags, List<String> missing) {
        Set<String> have = new TreeSet<>();
        for (String metric : row.split(", ")) {
            if (needsAnotherGateway(metric)) {
                return;
            }
            check(where, metric, Set.of(), missing);
            have.addAll(labelsOf(metric) == null ? Set.of() : labelsOf(metric));
        }
        have.removeAll(NOT_FROM_THE_GATEWAY);
        have.remove("le");
        if (!have.isEmpty() && !have.equals(tags)) {
            missing.add(where + ": the table lists " + tags + " for " + row + ", which have " + have);
        }
    }

    private static boolean needsAnotherGateway(String metric) {
        return NEED_ANOTHER_GATEWAY.stream().anyMatch(metric::startsWith);
    }

    /** The labels of the series a documented name stands for (a timer's {@code _count}, ...), or null if none. */
    private Set<String> labelsOf(String metric) {
        Set<String> labels = null;
        for (String suffix : SUFFIXES) {
            Set<String> have = scraped.get(metric + suffix);
            if (have != null) {
                labels = labels == null ? new TreeSet<>(have) : labels;
                labels.addAll(have);
            }
        }
        return labels;
    }
}
