package dev.matrixpolicy.gateway.policyserver;

import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Who is asking: checks a federation request's {@code X-Matrix} signatures (spec, server-server API,
 * "Request Authentication") and answers the authenticated origin.
 *
 * <p>As Synapse 1.67's {@code authenticate_request}: every {@code Authorization} header starting with
 * {@code X-Matrix} is parsed (others are ignored), a header naming a {@code destination} other than
 * our server name is refused, and the signed object is {@code {method, uri, origin, destination,
 * content}} with <em>our</em> server name as destination (so a request signed for another server fails
 * even without a {@code destination} parameter) and {@code content} only when there is a body. Where
 * headers name different origins, the last one is checked (Synapse's choice). Of the origin's
 * {@code ed25519:} signatures, each whose key is known and valid now must verify, and at least one
 * must: Synapse's {@code Keyring.process_request}.
 */
public final class RequestAuthenticator {
    private static final String ED25519 = "ed25519:";

    private final String serverName;
    private final KeyLookup keys;
    private final InstantSource clock;

    /** @param serverName our own server name, the destination every request must be signed for */
    public RequestAuthenticator(String serverName, KeyLookup keys, InstantSource clock) {
        this.serverName = Objects.requireNonNull(serverName, "serverName");
        this.keys = Objects.requireNonNull(keys, "keys");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * The origin that signed this request, whose body the caller parses: asked for only once the
     * origin's keys are in hand. So a request whose keys are being fetched (which may take the fetch's
     * deadline), or that no known key signed, holds its body's bytes alone, never the tree they make,
     * many times their size, which anyone on the internet could otherwise pile up while fetches wait.
     *
     * @param method               the HTTP method, as sent ({@code POST})
     * @param uri                  the request target as sent: path and query, still percent-encoded
     * @param content              the request body as JSON, or {@code null} when there is none; its failure
     *                             is the request's (400 for a body that is not JSON)
     * @param authorizationHeaders every {@code Authorization} header value, in order
     * @param wait                 until when a fetch of the origin's keys is waited for
     * @throws UnauthorizedException when the request is not signed by its origin for us (401 {@code M_UNAUTHORIZED})
     * @throws KeyFetchBusyException when the origin's keys are not cached and no fetch can start now,
     *                               or the fetch is still running when {@code wait} ends
     */
    public String authenticate(String method, String uri, Supplier<? extends JsonNode> content, List<String> authorizationHeaders,
                               KeyWait wait) {
        List<XMatrix> headers = new ArrayList<>();
        for (String header : authorizationHeaders) {
            if (XMatrix.isXMatrix(header)) {
                XMatrix parsed = XMatrix.parse(header);
                if (parsed.destination().filter(destination -> !destination.equals(serverName)).isPresent()) {
                    throw new UnauthorizedException("Destination mismatch in auth header");
                }
                headers.add(parsed);
            }
        }
        if (headers.isEmpty()) {
            throw new UnauthorizedException("Missing Authorization headers");
        }
        String origin = headers.getLast().origin();
        Map<String, String> signatures = new LinkedHashMap<>();
        headers.stream().filter(header -> header.origin().equals(origin) && header.keyId().startsWith(ED25519))
                .forEach(header -> signatures.put(header.keyId(), header.signature()));
        if (signatures.isEmpty()) {
            throw new UnauthorizedException("Not signed by " + origin + " with an ed25519 key");
        }
        long now = clock.millis();
        Map<String, byte[]> known = keys.verifyKeys(origin, signatures.keySet(), now, wait);
        if (known.isEmpty()) {
            throw new UnauthorizedException("Failed to find any valid key of " + origin + " among " + signatures.keySet());
        }
        ObjectNode request = Json.MAPPER.createObjectNode()
                .put("method", method).put("uri", uri).put("origin", origin).put("destination", serverName);
        JsonNode body = content.get();
        if (body != null) {
            request.set("content", body);
        }
        byte[] signed = CanonicalJson.encode(request); // once for all its signatures
        known.forEach((keyId, key) -> {
            if (!Ed25519.verify(key, signed, signatures.get(keyId))) {
                throw new UnauthorizedException("Invalid signature for server " + origin + " with key " + keyId);
            }
        });
        return origin;
    }
}
