package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One fetch of a server's public keys, from the server itself with {@code GET /_matrix/key/v2/server}
 * (spec, "Retrieving server keys") and, failing that, from notaries; verified, each with its validity.
 *
 * <p>A response counts only when its {@code server_name} is the server asked for and it is signed by
 * one of the {@code verify_keys} it lists for that server; as in Synapse 1.67's {@code
 * process_v2_response}, the first of its signatures by a listed key must verify. A key in {@code
 * verify_keys} is then valid until the lesser of {@code valid_until_ts} and seven days after the
 * fetch (the spec's cap; Synapse 1.67 does not cap), a key in {@code old_verify_keys} until the
 * lesser of its {@code expired_ts} and the same cap.
 *
 * <p>Notaries, as Synapse's {@code trusted_key_servers}: when the server itself fails, or its answer
 * lacks the key asked for (or lists it as expiring too early), the configured notaries are asked in
 * turn with {@code POST /_matrix/key/v2/query} (spec, "Querying Keys Through Another Server") for that
 * key ID and minimum validity, until one delivers it. A notary's answer counts only when each key
 * object in it passes the checks Synapse 1.67's {@code PerspectivesKeyFetcher} makes: signed by the
 * notary with one of its configured keys (every such signature verifying), and, as {@code
 * process_v2_response} requires, naming the server asked for and self-signed by it as above; its keys'
 * validity is capped as for a direct fetch. Unlike Synapse, which asks notaries before the server and
 * drops only the key objects that fail, the server is asked first and one bad key object voids the
 * notary's whole answer. A notary that fails or answers with no key objects (as Synapse 1.67 does when
 * asked for its own keys) just delivered nothing. A fetch gives the keys the server and the notaries
 * gave together (of two for one key ID, the one valid longer), unless the server failed and no notary
 * delivered the key asked for.
 *
 * <p>A failed fetch is answered with one fixed message naming the server asked about, never the
 * reason: the reason (an address, a TLS error, what the server answered) would tell a caller who
 * named a server of our network what runs there. It is logged at DEBUG for the admin instead: any
 * caller can cause one per request, so it must not flood the WARN log.
 */
final class KeyFetcher {
    /** The key fetch's logger, which docs/policy-server.md tells the admin to switch to DEBUG. */
    private static final Logger log = LoggerFactory.getLogger(ServerKeys.class);
    static final Duration MAX_VALIDITY = Duration.ofDays(7);
    static final String KEYS_PATH = "/_matrix/key/v2/server";
    static final String QUERY_PATH = "/_matrix/key/v2/query";

    /** A verified key of a server, valid until {@code validUntilTs}. */
    record ValidKey(byte[] key, long validUntilTs) {
    }

    private final List<ServerKeys.Notary> notaries;
    private final ServerDiscovery discovery;
    private final FederationClient http;
    private final InstantSource clock;

    KeyFetcher(List<ServerKeys.Notary> notaries, ServerDiscovery discovery, FederationClient http, InstantSource clock) {
        this.notaries = notaries;
        this.discovery = discovery;
        this.http = http;
        this.clock = clock;
    }

    /**
     * {@code serverName}'s keys from the server itself and, unless they include {@code keyId} valid
     * until {@code minimumValidUntilTs}, from each notary in turn until one delivers it.
     *
     * @throws UnauthorizedException the origin's failure, when it failed and no notary delivered the key
     */
    Map<String, ValidKey> fetch(String serverName, String keyId, long minimumValidUntilTs) {
        Map<String, ValidKey> keys = new HashMap<>();
        UnauthorizedException originFailure = null;
        try {
            keys.putAll(fromOrigin(serverName));
        } catch (UnauthorizedException failed) {
            originFailure = failed;
        }
        for (ServerKeys.Notary notary : notaries) {
            if (includes(keys, keyId, minimumValidUntilTs)) {
                break;
            }
            addLongestValid(keys, fromNotary(notary, serverName, keyId, minimumValidUntilTs));
        }
        if (originFailure != null && !includes(keys, keyId, minimumValidUntilTs)) {
            throw originFailure;
        }
        return keys;
    }

    /** Whether {@code keys} hold {@code keyId} valid until {@code minimumValidUntilTs} at least. */
    static boolean includes(Map<String, ValidKey> keys, String keyId, long minimumValidUntilTs) {
        ValidKey key = keys.get(keyId);
        return key != null && key.validUntilTs() >= minimumValidUntilTs;
    }

    private Map<String, ValidKey> fromOrigin(String serverName) {
        long now = clock.millis();
        try {
            ServerDiscovery.Target target = discovery.target(serverName);
            HttpRequest request = http.request(target.base().resolve(KEYS_PATH)).GET().build();
            return parseKeys(serverName, askJson(serverName, target, request), now);
        } catch (IOException | JacksonException | IllegalArgumentException | UnauthorizedException failed) {
            log.debug("Could not fetch the keys of {}: {}", serverName, FederationClient.detail(failed));
            throw new UnauthorizedException("Could not fetch the keys of " + serverName, failed);
        }
    }

    /**
     * The keys of {@code serverName} that {@code notary} vouches for when asked for {@code keyId}
     * ({@code POST /_matrix/key/v2/query}); none when it fails, answers nothing, or any key object of
     * its answer names another server, lacks a valid signature by one of the notary's configured keys
     * (each of its signatures by one of them must verify, as Synapse 1.67's {@code
     * _validate_perspectives_response} has it) or is not self-signed by the origin as {@link
     * #parseKeys} requires.
     */
    private Map<String, ValidKey> fromNotary(ServerKeys.Notary notary, String serverName, String keyId,
                                             long minimumValidUntilTs) {
        long now = clock.millis();
        ObjectNode query = Json.MAPPER.createObjectNode();
        query.putObject("server_keys").putObject(serverName).putObject(keyId)
                .put("minimum_valid_until_ts", minimumValidUntilTs);
        Map<String, ValidKey> keys = new HashMap<>();
        try {
            ServerDiscovery.Target target = discovery.target(notary.serverName());
            HttpRequest request = http.request(target.base().resolve(QUERY_PATH))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(query))).build();
            JsonNode keyObjects = askJson(notary.serverName(), target, request).path("server_keys");
            for (JsonNode keyObject : keyObjects.isArray() ? keyObjects : List.<JsonNode>of()) {
                requireNotarySignature(notary, keyObject);
                addLongestValid(keys, parseKeys(serverName, keyObject, now));
            }
        } catch (IOException | JacksonException | IllegalArgumentException | UnauthorizedException unusable) {
            log.debug("Notary {} gave no keys of {}: {}", notary.serverName(), serverName, FederationClient.detail(unusable));
            return Map.of();
        }
        return keys;
    }

    /** The JSON answer of {@code target}'s server {@code serverName} to {@code request}. */
    private JsonNode askJson(String serverName, ServerDiscovery.Target target, HttpRequest request) throws IOException {
        return FederationClient.json(request.uri(),
                http.exchange(serverName, target.tlsName(), target.configured(), request)).body();
    }

    /** Adds {@code more} to {@code keys}, keeping of two answers for one key ID the one valid longer. */
    private static void addLongestValid(Map<String, ValidKey> keys, Map<String, ValidKey> more) {
        more.forEach((keyId, key) -> keys.merge(keyId, key,
                (one, other) -> one.validUntilTs() >= other.validUntilTs() ? one : other));
    }

    private static void requireNotarySignature(ServerKeys.Notary notary, JsonNode keyObject) {
        List<String> signedBy = keyObject.path("signatures").path(notary.serverName()).propertyNames().stream()
                .filter(notary.verifyKeys()::containsKey).toList();
        if (signedBy.isEmpty() || !signedBy.stream().allMatch(keyId ->
                Ed25519.verifyJson(keyObject, notary.serverName(), keyId, notary.verifyKeys().get(keyId)))) {
            throw new UnauthorizedException("Key object not signed by notary " + notary.serverName());
        }
    }

    /** The keys a verified {@code /_matrix/key/v2/server} answer lists, with their validity. */
    private static Map<String, ValidKey> parseKeys(String serverName, JsonNode response, long fetchedAt) {
        if (!serverName.equals(response.path("server_name").asString(null))) {
            throw new UnauthorizedException("Key response for " + serverName + " names server "
                    + response.path("server_name"));
        }
        long validUntil = Math.min(response.path("valid_until_ts").asLong(0), fetchedAt + MAX_VALIDITY.toMillis());
        Map<String, ValidKey> keys = new HashMap<>();
        try {
            ed25519Keys(response.path("verify_keys")).forEach(entry ->
                    keys.put(entry.getKey(), new ValidKey(Ed25519.decodeKey(entry.getValue().path("key").asString()), validUntil)));
            String signedBy = response.path("signatures").path(serverName).propertyNames().stream()
                    .filter(keys::containsKey).findFirst()
                    .orElseThrow(() -> new UnauthorizedException("Key response for " + serverName
                            + " is not signed by a key it lists"));
            if (!Ed25519.verifyJson(response, serverName, signedBy, keys.get(signedBy).key())) {
                throw new UnauthorizedException("Key response for " + serverName + " has a bad signature by " + signedBy);
            }
            // an old key is capped like a current one: an expired_ts far ahead would otherwise keep it for years
            ed25519Keys(response.path("old_verify_keys")).forEach(entry ->
                    keys.put(entry.getKey(), new ValidKey(Ed25519.decodeKey(entry.getValue().path("key").asString()),
                            Math.min(entry.getValue().path("expired_ts").asLong(0), fetchedAt + MAX_VALIDITY.toMillis()))));
        } catch (IllegalArgumentException | JacksonException malformed) {
            throw new UnauthorizedException("Malformed key response for " + serverName + ": " + malformed.getMessage(), malformed);
        }
        return keys;
    }

    /**
     * The ed25519 keys of a key list, the others passed over before their key is read, as Synapse's
     * {@code is_signing_algorithm_supported} does: a key of another algorithm, which an Ed25519 key's
     * decoding would refuse, must not make the whole answer unusable. A key whose ID is longer than
     * any Matrix ID may be ({@link MatrixIds#fitsAnId}, 255 bytes) is passed over too: whoever names a
     * server has its keys fetched and kept, for thousands of servers, and IDs of any length would let
     * each keep most of the {@link FederationClient} reply cap (64 KB), hundreds of MB from servers
     * under one wildcard DNS name. Homeservers name their keys in a few characters ({@code ed25519:a_XbYz}).
     */
    private static List<Map.Entry<String, JsonNode>> ed25519Keys(JsonNode keyList) {
        return keyList.properties().stream()
                .filter(entry -> entry.getKey().startsWith("ed25519:") && MatrixIds.fitsAnId(entry.getKey())).toList();
    }
}
