package dev.matrixpolicy.gateway.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.Markdown;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The link test checks anchors as GitHub writes them for headings: lower case, code marks,
 * punctuation and link targets dropped, underscores and hyphens kept, spaces turned into hyphens.
 */
class GitHubAnchorsTest {

    @ParameterizedTest(name = "{0} -> #{1}")
    @CsvSource(delimiter = '|', value = {
            "Every category: our module | every-category-our-module",
            "The `user_denylist` module | the-user_denylist-module",
            "`/actuator/explain/{category}/{callback}` | actuatorexplaincategorycallback",
            "Metrics (Prometheus, on the management port) | metrics-prometheus-on-the-management-port",
            "Latest run ([`bench/results.md`](../bench/results.md)) | latest-run-benchresultsmd",
            "1. Choose the policy server's name | 1-choose-the-policy-servers-name",
            "What Synapse 1.67 cannot call, and where it is tested instead | what-synapse-167-cannot-call-and-where-it-is-tested-instead",
    })
    void headingBecomesTheAnchorGitHubGivesIt(String heading, String anchor) {
        assertThat(Markdown.slug(heading)).isEqualTo(anchor);
    }
}
