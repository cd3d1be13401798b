package dev.matrixpolicy.gateway.deploy;

import static dev.matrixpolicy.gateway.deploy.HelmChart.FULLNAME;
import static dev.matrixpolicy.gateway.deploy.HelmChart.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.TemplateCommand;
import dev.matrixpolicy.gateway.support.Promtool;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Service;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The chart's PrometheusRule (prometheusRule.enabled): rules Prometheus accepts ({@code promtool check
 * rules}), each alert firing in the situation docs/operations.md gives it, only after its {@code for},
 * and never on a healthy gateway's series ({@code promtool test rules} with
 * src/test/resources/prometheus/alerts-test.yaml, whose series DocumentedMetricsEndToEndTest holds to a
 * real scrape), scoped to the release's series, and the docs' table of alerts equal to it.
 */
class HelmPrometheusRuleTest {
    private static final Path ALERTS_TEST = Path.of("src/test/resources/prometheus/alerts-test.yaml");
    private static final Path OPERATIONS = Path.of("docs/operations.md");
    /** The labels the ServiceMonitor gives this release's series, as every selector of the rules names them. */
    private static final String SCOPE = "namespace=\"" + NAMESPACE + "\",job=\"" + FULLNAME + "-management\"";
    private static final Pattern SELECTOR = Pattern.compile("\\b((?:policy|jvm)_[a-z_]*[a-z])(\\{[^}]*})?");
    /** The test of alerts-test.yaml with a healthy gateway's series, and how many minutes they cover. */
    private static final String HEALTHY = "a healthy gateway";
    private static final int HEALTHY_MINUTES = 120;
    private static final Pattern CODE_SPAN = Pattern.compile("`([^`]+)`");

    /** Where the rules and the tests promtool reads are written, kept for running promtool by hand after a failure. */
    private static final Path DIR = Path.of("target", "prometheus-rule-test");

    private static List<JsonNode> rules;

    @BeforeAll
    static void render() throws IOException {
        Files.createDirectories(DIR);
        JsonNode groups = groups(command -> command);
        Files.writeString(DIR.resolve("alerts.yaml"), HelmChart.YAML.writeValueAsString(Map.of("groups", groups)));
        rules = groups.get(0).get("rules").valueStream().toList();
        Files.writeString(DIR.resolve("alerts-test.yaml"), HelmChart.YAML.writeValueAsString(completed(HelmChart.readYaml(ALERTS_TEST))));
    }

    /**
     * The tests of alerts-test.yaml made whole: every alert checked at every minute of the healthy gateway's series
     * (none fires), and each alert expected to fire with its rule's description, which is fixed prose (only summaries
     * name labels and values, and alerts-test.yaml spells them out).
     */
    private static JsonNode completed(JsonNode tests) {
        Map<String, String> descriptions = new LinkedHashMap<>();
        rules.forEach(rule -> descriptions.put(rule.get("alert").asString(), rule.get("annotations").get("description").asString()));
        assertThat(descriptions.values()).as("descriptions without a template").noneMatch(description -> description.contains("{{"));
        for (JsonNode test : tests.get("tests")) {
            for (JsonNode check : test.path("alert_rule_test")) {
                check.get("exp_alerts").forEach(alert -> ((ObjectNode) alert.get("exp_annotations"))
                        .put("description", descriptions.get(check.get("alertname").asString())));
            }
        }
        ObjectNode healthy = (ObjectNode) tests.get("tests").valueStream()
                .filter(test -> test.get("name").asString().startsWith(HEALTHY)).findFirst().orElseThrow();
        ArrayNode checks = healthy.putArray("alert_rule_test");
        for (String alert : descriptions.keySet()) {
            for (int minute = 0; minute <= HEALTHY_MINUTES; minute++) {
                checks.addObject().put("eval_time", minute + "m").put("alertname", alert).putArray("exp_alerts");
            }
        }
        return tests;
    }

    @Test
    void prometheusAcceptsTheRenderedRules() {
        assertThat(Promtool.run(DIR, "check", "rules", "alerts.yaml")).contains("SUCCESS: " + rules.size() + " rules found");
    }

    @Test
    void eachAlertFiresInItsSituationAfterItsForAndNeverOnAHealthyGateway() {
        assertThat(Promtool.run(DIR, "test", "rules", "alerts-test.yaml")).contains("SUCCESS");
    }

    /** Each alert has a situation in which it is expected to fire (the healthy series are checked for every alert). */
    @Test
    void theAlertTestsCoverEveryAlert() {
        JsonNode tests = HelmChart.readYaml(ALERTS_TEST).get("tests");
        List<String> fired = tests.valueStream().flatMap(test -> test.path("alert_rule_test").valueStream())
                .filter(check -> !check.path("exp_alerts").isEmpty()).map(check -> check.get("alertname").asString()).toList();

        assertThat(fired).containsAll(names());
    }

    @Test
    void everySelectorAndEveryAlertIsScopedToTheReleasesServiceMonitorSeries() {
        Service scraped = HelmChart.render(command -> command.set("serviceMonitor.enabled", "true"), "defaults.yaml")
                .one(Service.class, FULLNAME + "-management");

        assertThat(SCOPE).contains("job=\"" + scraped.getMetadata().getName() + "\"");
        for (JsonNode rule : rules) {
            assertThat(SELECTOR.matcher(rule.get("expr").asString()).results())
                    .as(rule.get("alert").asString()).isNotEmpty()
                    .allSatisfy(selector -> assertThat(selector.group(2)).as(selector.group()).endsWith(SCOPE + "}"));
            assertThat(rule.get("labels").get("namespace").asString()).isEqualTo(NAMESPACE);
            assertThat(rule.get("labels").get("job").asString()).isEqualTo(scraped.getMetadata().getName());
        }
    }

    /** docs/operations.md's table of alerts, for admins to copy, says what the chart renders: no copy drifts. */
    @Test
    void theDocumentedAlertsAreTheChartsWithoutItsScope() throws IOException {
        Map<String, String> rendered = new LinkedHashMap<>();
        for (JsonNode rule : rules) {
            rendered.put(rule.get("alert").asString(), String.join(" | ",
                    rule.get("expr").asString().replace("{" + SCOPE + "}", "").replace("," + SCOPE, ""),
                    rule.path("for").asString("none"), rule.get("labels").get("severity").asString()));
        }

        assertThat(documentedAlerts()).containsExactlyInAnyOrderEntriesOf(rendered);
    }

    @Test
    void theThresholdsAnOperatorTunesAndTheAlertsLeftOutFollowTheValues() {
        JsonNode tuned = groups(command -> command.set("prometheusRule.slowDecisionSeconds", "2")
                .set("prometheusRule.staleListSeconds", "7200").set("prometheusRule.disabledAlerts[0]", "PolicyGatewayConnectionsClosed"));
        Map<String, String> expressions = new LinkedHashMap<>();
        tuned.get(0).get("rules").forEach(rule -> expressions.put(rule.get("alert").asString(), rule.get("expr").asString()));

        assertThat(expressions).hasSize(rules.size() - 1).doesNotContainKey("PolicyGatewayConnectionsClosed");
        assertThat(expressions.get("PolicyGatewayDecisionsSlow")).endsWith(" > 2");
        assertThat(expressions.get("PolicyGatewayListStale")).endsWith(" > 7200");
        assertThatThrownBy(() -> groups(command -> command.set("prometheusRule.disabledAlerts[0]", "PolicyGatewayDown")))
                .hasMessageContaining("prometheusRule.disabledAlerts names PolicyGatewayDown, which is no alert of the chart: "
                        + "PolicyGatewayBackendFailing, ");
    }

    @Test
    void theLabelsAnOperatorRoutesByGoOnEveryAlertBesideItsOwn() {
        JsonNode routed = groups(command -> command.set("prometheusRule.alertLabels.team", "matrix-moderation"));

        routed.get(0).get("rules").forEach(rule -> assertThat(rule.get("labels").properties()).extracting(Map.Entry::getKey)
                .as(rule.get("alert").asString()).contains("team", "severity", "namespace", "job"));
        assertThat(routed.get(0).get("rules").get(0).get("labels").get("team").asString()).isEqualTo("matrix-moderation");
        assertThatThrownBy(() -> groups(command -> command.set("prometheusRule.alertLabels.severity", "page")))
                .hasMessageContaining("prometheusRule.alertLabels sets severity, which each alert sets itself");
    }

    @Test
    void aPrometheusRuleWithoutTheServiceMonitorWhoseSeriesItSelectsIsRefused() {
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("prometheusRule.enabled", "true"), "defaults.yaml"))
                .hasMessageContaining("prometheusRule.enabled needs serviceMonitor.enabled");
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("prometheusRule.enabled", "true"), "sidecar.yaml"))
                .hasMessageContaining("prometheusRule.enabled renders nothing in sidecar mode");
    }

    @Test
    void thePrometheusRuleCarriesTheLabelsPrometheusSelectsRulesBy() {
        GenericKubernetesResource rule = (GenericKubernetesResource) HelmChart.render("all-on.yaml").one("PrometheusRule");

        assertThat(rule.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(rule.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack")
                .containsEntry("app.kubernetes.io/instance", HelmChart.RELEASE);
    }

    private static List<String> names() {
        return rules.stream().map(rule -> rule.get("alert").asString()).toList();
    }

    /** spec.groups of the PrometheusRule rendered with the defaults, the ServiceMonitor and the rule on. */
    private static JsonNode groups(UnaryOperator<TemplateCommand> options) {
        GenericKubernetesResource rule = (GenericKubernetesResource) HelmChart.render(command -> options.apply(command
                .set("serviceMonitor.enabled", "true").set("prometheusRule.enabled", "true")), "defaults.yaml").one("PrometheusRule");
        return HelmChart.YAML.valueToTree(rule.getAdditionalProperties().get("spec")).get("groups");
    }

    /**
     * The rows of the table in docs/operations.md's Alerts that name an alert of the chart, as "expression | for |
     * severity" by the alert's name: {@code | when | `expr` | for | `PolicyGatewayX`, severity | what it means |}.
     */
    private static Map<String, String> documentedAlerts() throws IOException {
        List<String> lines = Files.readAllLines(OPERATIONS);
        Map<String, String> documented = new LinkedHashMap<>();
        for (String line : lines.subList(lines.indexOf("## Alerts"), lines.size())) {
            if (line.startsWith("## ") && !line.equals("## Alerts")) {
                break;
            }
            String[] cells = line.split("\\|");
            if (cells.length < 6 || !cells[4].contains("`PolicyGateway")) {
                continue;
            }
            String alert = CODE_SPAN.matcher(cells[4]).results().findFirst().orElseThrow().group(1);
            String expression = CODE_SPAN.matcher(cells[2]).results().findFirst().orElseThrow().group(1);
            documented.put(alert, String.join(" | ", expression, cells[3].strip(), cells[4].replaceFirst(".*`,", "").strip()));
        }
        return documented;
    }
}
