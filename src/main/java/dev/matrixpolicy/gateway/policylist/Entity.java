package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.matrix.ServerNames;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * What a rule names: an exact ID, a glob ({@code *}, {@code ?}), or MSC4205's SHA-256 of the ID.
 *
 * @param form  how {@code value} is matched
 * @param value the ID or glob as the rule wrote it, or the hash as unpadded standard base64
 */
public record Entity(Form form, String value) {
    /** Never updated itself, only copied, so any thread may copy it. */
    private static final Base64.Encoder UNPADDED = Base64.getEncoder().withoutPadding();

    public enum Form { EXACT, GLOB, SHA256 }

    public Entity {
        Objects.requireNonNull(form, "form");
        Objects.requireNonNull(value, "value");
    }

    /** An ID or a glob, by whether it holds a wildcard. */
    public static Entity of(String entity) {
        return new Entity(UserIdMatcher.isGlob(entity) ? Form.GLOB : Form.EXACT, entity);
    }

    /**
     * A hash as MSC4205 writes it: standard base64 of 32 bytes, padded (as in the MSC's example) or not;
     * the URL-safe alphabet ({@code -}, {@code _}) is read as the same bytes.
     *
     * @throws IllegalArgumentException when it is not the base64 of a SHA-256
     */
    public static Entity sha256(String base64) {
        // the URL-safe alphabet's two letters read as the standard one's: the same 32 bytes, however written
        String unpadded = unpad(base64.trim().replace('-', '+').replace('_', '/'));
        byte[] digest;
        try {
            digest = Base64.getDecoder().decode(pad(unpadded));
        } catch (IllegalArgumentException notBase64) {
            throw new IllegalArgumentException("not base64", notBase64);
        }
        if (digest.length != 32) {
            throw new IllegalArgumentException("not a SHA-256: " + digest.length + " bytes, expected 32");
        }
        return new Entity(Form.SHA256, UNPADDED.encodeToString(digest));
    }

    /** The unpadded base64 SHA-256 of an ID, the form {@link #sha256} keeps. */
    public static String hashOf(String id) {
        return UNPADDED.encodeToString(digestOf(id));
    }

    /** The SHA-256 of an ID's UTF-8 bytes, raw: what lookups compare, without encoding it. */
    static byte[] digestOf(String id) {
        return Sha256.of(id.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The 32 bytes a hashed entity names.
     *
     * @throws IllegalStateException when the entity is not a hash
     */
    byte[] digest() {
        if (form != Form.SHA256) {
            throw new IllegalStateException("not a hashed entity: " + value);
        }
        return Base64.getDecoder().decode(value); // padding is optional to Java's decoder
    }

    /** How the entity is written in logs and the explain endpoint, e.g. {@code sha256:VPqw...}. */
    public String describe() {
        return form == Form.SHA256 ? "sha256:" + value : value;
    }

    /**
     * The key an ID is compared under: server names (after the first ':' of a user ID or alias, and
     * whole server entities) in {@link ServerNames#canonical their one spelling}, ignoring case as DNS
     * does; localparts compare exactly, and room IDs whole: the spec makes them opaque, what follows
     * their ':' names no server to compare as one, and two IDs differing in case are two rooms. A
     * server entity drops the trailing dot of a fully qualified host too, as an ID's server is also
     * asked without it ({@link ServerNames#spellings}): a rule of {@code evil.example.} is the server
     * {@code evil.example}. A user ID or alias keeps it, as it keeps its port: each makes another ID,
     * whose server a server rule still meets.
     */
    static String key(EntityKind kind, String id) {
        if (kind == EntityKind.SERVER) {
            return ServerNames.withoutTrailingDot(ServerNames.canonical(id));
        }
        if (kind == EntityKind.ROOM && id.startsWith("!")) {
            return id;
        }
        int colon = id.indexOf(':');
        if (colon < 0 || !foldsCase(id, colon + 1) && !id.startsWith("[", colon + 1)) {
            return id; // the usual case, with no copy
        }
        String server = id.substring(colon + 1);
        String canonical = ServerNames.canonical(server);
        return canonical.equals(server) ? id : id.substring(0, colon + 1) + canonical;
    }

    /** Whether lower-casing changes the text from {@code from} on: an ASCII capital, or anything not ASCII. */
    private static boolean foldsCase(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c >= 'A' && c <= 'Z') || c >= 0x80) {
                return true;
            }
        }
        return false;
    }

    private static String unpad(String base64) {
        int end = base64.length();
        while (end > 0 && base64.charAt(end - 1) == '=') {
            end--;
        }
        return base64.substring(0, end);
    }

    private static String pad(String unpadded) {
        return switch (unpadded.length() % 4) {
            case 2 -> unpadded + "==";
            case 3 -> unpadded + "=";
            default -> unpadded;
        };
    }
}
