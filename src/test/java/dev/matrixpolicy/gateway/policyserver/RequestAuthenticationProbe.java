package dev.matrixpolicy.gateway.policyserver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The end-to-end suite's window on request authentication ({@code
 * e2e/test_10_policy_server_request_auth.py}), run from the packaged jar as {@link SigningProbe} is.
 * Arguments: our server name, then the server names whose self-signed TLS certificate is accepted.
 * Reads {@code [{"method", "uri", "body" (text or null), "authorization": [header, …]}, …]} on stdin
 * and writes, per request, {@code {"origin": …}} or {@code {"refused": "<exception class>",
 * "message": …}}. One {@link ServerKeys} serves all requests, so its cache is exercised too.
 */
public final class RequestAuthenticationProbe {
    private RequestAuthenticationProbe() {
    }

    /**
     * {@code authenticator}'s answer for a request of this body, parsed as the policy server's servlet
     * leaves it to be: only once the origin's keys are in hand.
     *
     * @param body the request body; empty or {@code null} when there is none
     * @throws BadJsonException when the body is not JSON
     */
    static String authenticate(RequestAuthenticator authenticator, String method, String uri, byte[] body,
                               List<String> authorizationHeaders) {
        return authenticator.authenticate(method, uri, () -> {
            if (body == null || body.length == 0) {
                return null;
            }
            try {
                return Json.MAPPER.readTree(body);
            } catch (JacksonException notJson) {
                throw new BadJsonException("Request body is not JSON: " + notJson.getOriginalMessage());
            }
        }, authorizationHeaders, KeyWait.after(KeyWait.PER_REQUEST));
    }

    public static void main(String[] args) throws IOException {
        Set<String> selfSigned = Set.of(Arrays.copyOfRange(args, 1, args.length));
        // The suite's homeservers are reached by resolving their names, 127.0.0.1:<port>: no blocklist here.
        ServerKeys keys = new ServerKeys(new ServerKeys.Settings(Map.of(), selfSigned, List.of(), 100, Duration.ofSeconds(10),
                IpRanges.NONE, IpRanges.NONE), InstantSource.system());
        RequestAuthenticator authenticator = new RequestAuthenticator(args[0], keys, InstantSource.system());
        ArrayNode verdicts = Json.MAPPER.createArrayNode();
        for (JsonNode request : Json.MAPPER.readTree(System.in)) {
            List<String> headers = new ArrayList<>();
            request.get("authorization").forEach(header -> headers.add(header.stringValue()));
            JsonNode body = request.path("body");
            ObjectNode verdict = verdicts.addObject();
            try {
                verdict.put("origin", authenticate(authenticator, request.get("method").stringValue(),
                        request.get("uri").stringValue(),
                        body.isString() ? body.stringValue().getBytes(StandardCharsets.UTF_8) : null, headers));
            } catch (UnauthorizedException | BadJsonException refused) {
                verdict.put("refused", refused.getClass().getSimpleName()).put("message", refused.getMessage());
            }
        }
        System.out.write(Json.MAPPER.writeValueAsBytes(verdicts));
        System.out.flush();
    }
}
