package dev.matrixpolicy.gateway.policyserver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The end-to-end suite's window on the signing core ({@code e2e/test_9_policy_server_signing.py}),
 * run inside the packaged jar's classpath by {@code PropertiesLauncher} with the test classes on
 * {@code loader.path}. Reads {@code [{"room_version": …, "event": {…}}, …]} on stdin, signs with the
 * key file named as the only argument, and writes {@code {"public_key": …, "results": [{"redacted":
 * …, "signed_bytes": …, "signature": …} or {"error": "<exception class>", "message": …}, …]}}.
 */
public final class SigningProbe {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SigningProbe() {
    }

    public static void main(String[] args) throws IOException {
        PolicyServerKey key = PolicyServerKey.load(Path.of(args[0]));
        EventSigner signer = new EventSigner(key);
        ObjectNode answer = JSON.createObjectNode().put("public_key", key.publicKeyBase64());
        ArrayNode results = answer.putArray("results");
        for (JsonNode item : JSON.readTree(System.in)) {
            String roomVersion = item.get("room_version").stringValue();
            JsonNode event = item.get("event");
            ObjectNode result = results.addObject();
            try {
                result.set("redacted", Redaction.redact(roomVersion, event));
                result.put("signed_bytes", new String(EventSigner.signedBytes(roomVersion, event), StandardCharsets.UTF_8));
                result.put("signature", signer.sign(roomVersion, event));
            } catch (BadJsonException | UnknownRoomVersionException refused) {
                result.removeAll();
                result.put("error", refused.getClass().getSimpleName()).put("message", refused.getMessage());
            }
        }
        System.out.write(JSON.writeValueAsBytes(answer));
        System.out.flush();
    }
}
