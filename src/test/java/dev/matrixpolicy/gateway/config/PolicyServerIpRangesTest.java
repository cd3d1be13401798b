package dev.matrixpolicy.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.policyserver.IpRanges;
import dev.matrixpolicy.gateway.support.ExpectedOutput;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The addresses the policy server's key fetch never connects to: Synapse's blocklist unless
 * {@code ip-range-blocklist} replaces it (an empty list too), with {@code ip-range-allowlist}'s exceptions.
 */
class PolicyServerIpRangesTest {
    @RegisterExtension
    final ExpectedOutput output = ExpectedOutput.warnings("serves no module");

    @TempDir
    Path directory;

    private final ConfiguredGateway gateway = new ConfiguredGateway();

    private void withPolicyServer(String settings, Consumer<PolicyGatewayProperties.PolicyServer> check) {
        gateway.runner().withInitializer(ConfiguredGateway.yamlFile(directory.resolve("application.yml"), """
                        policy-gateway:
                          server-name: example.com
                          policy-server:
                        """ + settings.indent(4)))
                .run(context -> check.accept(context.getBean(Generations.class).current().properties().policyServer()));
    }

    @Test
    void leftOutTheBlocklistIsSynapsesDefault() {
        withPolicyServer("signature-cache-size: 10", server -> {
            assertThat(server.ipRangeBlocklist()).isEqualTo(IpRanges.SYNAPSE_BLOCKLIST);
            assertThat(server.ipRangeAllowlist()).isEmpty();
        });
    }

    @Test
    void anEmptyBlocklistReplacesTheDefaultAndTheAllowlistMakesExceptions() {
        withPolicyServer("""
                ip-range-blocklist: []
                ip-range-allowlist: ["10.1.0.0/16"]
                """, server -> {
            assertThat(server.ipRangeBlocklist()).isEmpty();
            assertThat(server.allowedRanges().contains(InetAddress.ofLiteral("10.1.2.3"))).isTrue();
        });
        withPolicyServer("ip-range-blocklist: [\"10.0.0.0/8\"]", server -> {
            assertThat(server.blockedRanges().contains(InetAddress.ofLiteral("10.1.2.3"))).isTrue();
            assertThat(server.blockedRanges().contains(InetAddress.ofLiteral("127.0.0.1"))).isFalse();
        });
    }
}
