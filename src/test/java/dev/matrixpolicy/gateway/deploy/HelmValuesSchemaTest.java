package dev.matrixpolicy.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatNoException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A wrong value fails when Helm renders, naming the value, instead of when the gateway starts (or
 * worse, never): values.schema.json and the chart's own checks.
 */
class HelmValuesSchemaTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            an unknown key such as ingress           | ingress: {enabled: true}                                     | at '': additional properties 'ingress'
            a failure policy that does not exist     | config: {defaults: {on-failure: sometimes}}                  | at '/config/defaults/on-failure'
            a server name that is no host name       | config: {server-name: bad/name}                              | at '/config/server-name'
            a module entry without its type          | config: {modules: [{name: orphan}]}                          | at '/config/modules/0': missing property 'module'
            a module entry key in camelCase          | config: {modules: [{module: static, onFailure: fail-open}]} | at '/config/modules/0': additional properties 'onFailure'
            a token inside the config block          | config: {auth: {token: leaked}}                              | at '/config': additional properties 'auth'
            an admin token inside the config block   | config: {admin: {token: leaked}}                             | at '/config': additional properties 'admin'
            an admin key the chart does not know     | admin: {tokenFile: /run/admin}                               | at '/admin': additional properties 'tokenFile'
            an admin Secret key that is no key       | admin: {existingSecret: mine, existingSecretKey: 'a/b'}      | at '/admin/existingSecretKey'
            a duration without a unit                | config: {defaults: {timeout: five}}                          | at '/config/defaults/timeout'
            a port out of range                      | ports: {api: 70000}                                          | at '/ports/api'
            a public Service type                    | service: {type: LoadBalancer}                                | at '/service': additional properties 'type'
            an image pull policy that does not exist | image: {pullPolicy: Sometimes}                               | at '/image/pullPolicy'
            an image repository with a tag           | image: {repository: 'registry.example.org/gateway:0.1.0'}   | at '/image/repository'
            an image repository with a digest        | image: {repository: 'registry.example.org/gateway@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'} | at '/image/repository'
            an image digest without its algorithm    | image: {digest: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef} | at '/image/digest'
            a network policy admitting everyone      | networkPolicy: {enabled: true, homeserver: []}               | at '/networkPolicy/homeserver': minItems
            a mode that does not exist               | mode: daemonset                                              | at '/mode'
            an unknown garbage collector             | jvm: {gc: shenandoah}                                        | at '/jvm/gc'
            a young generation in Kubernetes units   | jvm: {youngGeneration: 64Mi}                                 | at '/jvm/youngGeneration'
            a young generation without a unit        | jvm: {youngGeneration: '64'}                                 | at '/jvm/youngGeneration'
            a restart switch given as a string       | restartOnConfigChange: 'true'                                | at '/restartOnConfigChange'
            an empty decision log                    | config: {decision-log: {capacity: 0}}                        | at '/config/decision-log/capacity'
            a decision log above a million entries   | config: {decision-log: {capacity: 1000001}}                  | at '/config/decision-log/capacity'
            a decision log capacity as a string      | config: {decision-log: {capacity: '2000'}}                   | at '/config/decision-log/capacity'
            a reload check interval without a unit   | config: {reload: {check-interval: '5'}}                      | at '/config/reload/check-interval'
            a reload watch switch given as a string  | config: {reload: {watch: 'no'}}                              | at '/config/reload/watch'
            a reload key the gateway does not know   | config: {reload: {interval: 5s}}                             | at '/config/reload': additional properties 'interval'
            an alert threshold given as a string           | prometheusRule: {slowDecisionSeconds: '0.5'}              | at '/prometheusRule/slowDecisionSeconds'
            no staleness at all for a stale list           | prometheusRule: {staleListSeconds: 0}                     | at '/prometheusRule/staleListSeconds'
            an alert to leave out that is no alert's name  | prometheusRule: {disabledAlerts: [ConnectionsClosed]}      | at '/prometheusRule/disabledAlerts/0'
            a policy server key the chart does not know    | policyServer: {keyFile: /etc/policy_server.key}             | at '/policyServer': additional properties 'keyFile'
            a policy server setting in kebab case          | policyServer: {signature-cache-size: 1000}                 | at '/policyServer': additional properties 'signature-cache-size'
            a policy server switch given as a string       | policyServer: {enabled: 'true'}                            | at '/policyServer/enabled'
            a policy server name that is no host name      | policyServer: {name: bad/name}                             | at '/policyServer/name'
            a policy server port out of range              | policyServer: {port: 0}                                    | at '/policyServer/port'
            a room without its ID                          | policyServer: {rooms: [{version: '10'}]}                   | at '/policyServer/rooms/0': missing property 'id'
            a room alias instead of a room ID              | policyServer: {rooms: [{id: '#room:example.org'}]}          | at '/policyServer/rooms/0/id'
            a known server without its address             | policyServer: {servers: [{name: hs.example.org}]}          | at '/policyServer/servers/0': missing property 'address'
            a notary without a key                         | policyServer: {notaries: [{name: matrix.org, verifyKeys: []}]} | at '/policyServer/notaries/0/verifyKeys': minItems
            a notary key that is no Ed25519 key            | policyServer: {notaries: [{name: matrix.org, verifyKeys: [{id: 'ed25519:auto', key: short}]}]} | at '/policyServer/notaries/0/verifyKeys/0/key'
            a signature cache size as a string             | policyServer: {signatureCacheSize: '1000'}                 | at '/policyServer/signatureCacheSize'
            no connections for the policy server           | policyServer: {maxConnections: 0}                          | at '/policyServer/maxConnections'
            no requests for the policy server              | policyServer: {maxRequestsInProgress: -1}                  | at '/policyServer/maxRequestsInProgress'
            a key fetch timeout without a unit             | policyServer: {keyFetchTimeout: '10'}                      | at '/policyServer/keyFetchTimeout'
            a key the chart would generate                 | policyServer: {key: {generate: true}}                      | at '/policyServer/key': additional properties 'generate'
            a blocked IP range that is a host name         | policyServer: {ipRangeBlocklist: [localhost]}              | at '/policyServer/ipRangeBlocklist/0'
            an allowed IP range given as a string          | policyServer: {ipRangeAllowlist: 10.0.0.0/8}               | at '/policyServer/ipRangeAllowlist'
            a policy server Service type that is no proxy  | policyServer: {service: {type: ExternalName}}              | at '/policyServer/service/type'
            a policy server Service nodePort               | policyServer: {service: {nodePort: 30448}}                 | at '/policyServer/service': additional properties 'nodePort'
            a policy server network peer that is no peer   | policyServer: {networkPolicy: {from: [{}]}}                | at '/policyServer/networkPolicy/from/0'
            """)
    void rejects(String what, String values, String error) throws IOException {
        Path file = Files.writeString(dir.resolve("bad.yaml"), values);

        assertThatThrownBy(() -> HelmChart.template(HelmChart.CHART, command -> command.withValuesFile(file), "defaults.yaml"))
                .as(what)
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining(error);
    }

    /**
     * A null in the values removes the chart's default before the schema sees the values, so no
     * type or minimum refuses it; the templates would then render a probe as unparsable YAML, a JVM
     * flag the JVM refuses ({@code -XX:MaxRAMPercentage=<nil>}), objects the API server refuses, or
     * a setting quietly otherwise: {@code replicas:} empty, which Kubernetes takes for 1, a /tmp with
     * no size limit, and a Redis {@code key-prefix:} empty, which shares the keys of whatever else
     * uses that Redis.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            probes.startup                          | at '/probes': missing property 'startup'
            probes.liveness                         | at '/probes': missing property 'liveness'
            probes.readiness                        | at '/probes': missing property 'readiness'
            probes                                  | at '': missing property 'probes'
            jvm.maxRAMPercentage                    | at '/jvm': missing property 'maxRAMPercentage'
            service.port                            | at '/service': missing property 'port'
            topologySpread.maxSkew                  | at '/topologySpread': missing property 'maxSkew'
            topologySpread.whenUnsatisfiable        | at '/topologySpread': missing property 'whenUnsatisfiable'
            autoscaling.minReplicas                 | at '/autoscaling': missing property 'minReplicas'
            autoscaling.targetCPUUtilizationPercentage | at '/autoscaling': missing property 'targetCPUUtilizationPercentage'
            serviceMonitor.scrapeTimeout            | at '/serviceMonitor': missing property 'scrapeTimeout'
            prometheusRule.slowDecisionSeconds      | at '/prometheusRule': missing property 'slowDecisionSeconds'
            prometheusRule.staleListSeconds         | at '/prometheusRule': missing property 'staleListSeconds'
            auth.existingSecretKey                  | at '/auth': missing property 'existingSecretKey'
            admin.existingSecretKey                 | at '/admin': missing property 'existingSecretKey'
            state.redis.existingSecretKey           | at '/state/redis': missing property 'existingSecretKey'
            state.redis.timeout                     | at '/state/redis': missing property 'timeout'
            state.redis.keyPrefix                   | at '/state/redis': missing property 'keyPrefix'
            replicaCount                            | at '': missing property 'replicaCount'
            tmpSizeLimit                            | at '': missing property 'tmpSizeLimit'
            policyServer.port                       | at '/policyServer': missing property 'port'
            policyServer.service.port               | at '/policyServer/service': missing property 'port'
            policyServer.key.existingSecretKey      | at '/policyServer/key': missing property 'existingSecretKey'
            """)
    void aValueTheTemplatesRenderCannotBeRemovedWithNull(String key, String error) {
        assertThatThrownBy(() -> HelmChart.template(HelmChart.CHART, command -> command.set(key, "null"), "defaults.yaml"))
                .as(key)
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining(error);
    }

    @Test
    void rejectsAGracePeriodShorterThanThePreStopSleepBothShutdownPhasesAndTheModulesClosing() {
        assertThatThrownBy(() -> HelmChart.render(
                command -> command.set("gracefulShutdown.terminationGracePeriodSeconds", "60"), "defaults.yaml"))
                .hasMessageContaining("terminationGracePeriodSeconds (60) must cover preStopSleepSeconds plus the 5 s a"
                        + " reload under way may take, the gateway's two shutdown phases of 20 s (the connection drain, then"
                        + " the requests in flight) and its 15 s for modules to close (an audit webhook's queue): at least 70");
    }

    @Test
    void rejectsAnAdminTokenEqualToTheHomeserverToken() {
        assertThatThrownBy(() -> HelmChart.render(command -> command.set("admin.token", "test-token-0123456789abcdef"),
                "defaults.yaml"))
                .hasMessageContaining("admin.token equals auth.token");
    }

    @Test
    void requiresATokenOrAnExistingSecret() {
        assertThatThrownBy(() -> HelmChart.render())
                .hasMessageContaining("Set auth.existingSecret");
        assertThatNoException().isThrownBy(() -> HelmChart.render(command -> command.set("auth.existingSecret", "mine")));
    }
}
