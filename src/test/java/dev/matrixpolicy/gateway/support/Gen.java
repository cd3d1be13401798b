package dev.matrixpolicy.gateway.support;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Seeded generators for property tests: arbitrary strings and bytes, JSON that is nearly right,
 * arbitrary JSON values and Matrix identifiers. A property runs a bounded number of tries from a
 * fixed seed ({@link #forAll}), so a build is fast and every failure reproduces; the failing try
 * names its input.
 */
public final class Gen {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Characters that matter to JSON, Matrix grammars and HTTP, over-represented on purpose. */
    private static final String SPECIAL = "{}[]\":,\\/@!#$%:.-_=+~ \t\r\n\u0000\u007f\u00e9\u2028\ud83d\ude00'`<>&?;*";
    private static final List<String> JSON_TOKENS = List.of("{", "}", "[", "]", ":", ",", "\"", "null", "true", "false",
            "NaN", "-Infinity", "1e999", "-0", "0x1F", "01", "/*c*/", "//", "'a'", "\\u00", "\\uD800", "\u0000", "\ufeff");

    private final Random random;

    private Gen(long seed) {
        this.random = new Random(seed);
    }

    /** A generator of its own, for a test that draws a sequence of inputs itself. */
    public static Gen seeded(long seed) {
        return new Gen(seed);
    }

    /**
     * Runs {@code property} on {@code tries} inputs drawn from {@code generator} with a fixed seed.
     * A failing input is reported with its try number and value.
     */
    public static <T> void forAll(long seed, int tries, Function<Gen, T> generator, Consumer<T> property) {
        Gen gen = new Gen(seed);
        for (int i = 0; i < tries; i++) {
            T input = generator.apply(gen);
            try {
                property.accept(input);
            } catch (AssertionError | RuntimeException failed) {
                throw new AssertionError("Property failed on try " + i + " (seed " + seed + ") for input: "
                        + abbreviate(String.valueOf(input)), failed);
            }
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 2000 ? s : s.substring(0, 2000) + "... (" + s.length() + " characters)";
    }

    public Random random() {
        return random;
    }

    public int between(int min, int max) {
        return min + random.nextInt(max - min + 1);
    }

    public boolean chance(double p) {
        return random.nextDouble() < p;
    }

    public <T> T oneOf(List<T> choices) {
        return choices.get(random.nextInt(choices.size()));
    }

    // ---- text

    /** Any string: printable ASCII, JSON and Matrix punctuation, controls, non-ASCII, lone surrogates. */
    public String string(int maxLength) {
        int length = between(0, maxLength);
        StringBuilder s = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            int kind = random.nextInt(10);
            if (kind < 5) {
                s.append((char) between(0x20, 0x7e));
            } else if (kind < 8) {
                s.append(SPECIAL.charAt(random.nextInt(SPECIAL.length())));
            } else if (kind < 9) {
                s.append((char) between(0, 0x1f));
            } else {
                s.append((char) between(0x80, 0xffff));
            }
        }
        return s.toString();
    }

    public byte[] bytes(int maxLength) {
        byte[] bytes = new byte[between(0, maxLength)];
        random.nextBytes(bytes);
        return bytes;
    }

    /** A valid JSON text broken in one to three places: cut, spliced, with stray tokens or bytes. */
    public String nearJson(String valid) {
        StringBuilder s = new StringBuilder(valid);
        int mutations = between(1, 3);
        for (int m = 0; m < mutations; m++) {
            int at = s.isEmpty() ? 0 : random.nextInt(s.length() + 1);
            switch (random.nextInt(6)) {
                case 0 -> s.setLength(at);
                case 1 -> s.insert(at, oneOf(JSON_TOKENS));
                case 2 -> s.insert(at, string(4));
                case 3 -> {
                    if (at < s.length()) {
                        s.deleteCharAt(at);
                    }
                }
                case 4 -> s.insert(at, s.substring(at, Math.min(s.length(), at + between(1, 20))));
                default -> {
                    if (at < s.length()) {
                        s.setCharAt(at, SPECIAL.charAt(random.nextInt(SPECIAL.length())));
                    }
                }
            }
        }
        return s.toString();
    }

    /** JSON nested {@code depth} levels deep in objects and arrays, possibly left open. */
    public String deeplyNested(int depth, boolean closed) {
        StringBuilder s = new StringBuilder("{\"a\":");
        StringBuilder closing = new StringBuilder("}");
        for (int i = 0; i < depth; i++) {
            boolean array = random.nextBoolean();
            s.append(array ? "[" : "{\"k\":");
            closing.insert(0, array ? "]" : "}");
        }
        s.append("1");
        return closed ? s.append(closing).toString() : s.toString();
    }

    // ---- JSON values

    /** Any JSON value: scalars of every type (huge, negative and fractional numbers too), arrays and objects. */
    public JsonNode json(int depth) {
        int kind = random.nextInt(depth <= 0 ? 7 : 9);
        return switch (kind) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.booleanNode(random.nextBoolean());
            case 2 -> NODES.numberNode(random.nextLong());
            case 3 -> NODES.numberNode(oneOf(List.of(0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE)));
            case 4 -> NODES.numberNode(random.nextDouble() * 1e6 - 5e5);
            case 5 -> NODES.numberNode(new java.math.BigInteger(between(1, 200), random));
            case 6 -> NODES.stringNode(chance(0.5) ? matrixId() : string(12));
            case 7 -> {
                ArrayNode array = NODES.arrayNode();
                for (int i = between(0, 3); i > 0; i--) {
                    array.add(json(depth - 1));
                }
                yield array;
            }
            default -> {
                ObjectNode object = NODES.objectNode();
                for (int i = between(0, 3); i > 0; i--) {
                    object.set(chance(0.7) ? oneOf(FIELD_NAMES) : string(6), json(depth - 1));
                }
                yield object;
            }
        };
    }

    /** Field names callbacks read, so random objects hit real fields. */
    private static final List<String> FIELD_NAMES = List.of("event_id", "sender", "room_id", "type", "state_key", "content",
            "user_id", "user", "room", "is_invited", "inviter", "invitee", "medium", "address", "room_alias", "display_name",
            "avatar_url", "username", "request_info", "auth_provider_id", "email_threepid", "server_name", "file_id", "sha256",
            "size", "media_type", "state", "last_active_ts", "device_id", "update_name", "database_name");

    /**
     * A copy of {@code valid} with one to three changes at any depth: a field removed, set to
     * {@code null} or to an arbitrary value, an unknown field added, an element removed or replaced.
     */
    public ObjectNode mutate(ObjectNode valid) {
        ObjectNode copy = valid.deepCopy();
        for (int m = between(1, 3); m > 0; m--) {
            mutateSomewhere(copy);
        }
        return copy;
    }

    private void mutateSomewhere(JsonNode node) {
        List<String> names = node instanceof ObjectNode object ? List.copyOf(object.propertyNames()) : List.of();
        int size = node.size();
        if (size > 0 && chance(0.5)) {
            JsonNode child = node instanceof ObjectNode ? node.get(oneOf(names)) : node.get(random.nextInt(size));
            if (child.isContainer() && child.size() > 0) {
                mutateSomewhere(child);
                return;
            }
        }
        if (node instanceof ObjectNode object) {
            String name = names.isEmpty() || chance(0.15) ? oneOf(FIELD_NAMES) : oneOf(names);
            switch (random.nextInt(4)) {
                case 0 -> object.remove(name);
                case 1 -> object.putNull(name);
                default -> object.set(name, json(2));
            }
        } else if (node instanceof ArrayNode array) {
            if (size > 0 && chance(0.5)) {
                array.remove(random.nextInt(size));
            } else if (size > 0) {
                array.set(random.nextInt(size), json(2));
            } else {
                array.add(json(2));
            }
        }
    }

    public static ObjectNode parse(String json) {
        return (ObjectNode) JSON.readTree(json);
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---- Matrix identifiers

    /** A valid user ID: a localpart of printable ASCII without ':' and a DNS name, IPv4 or IPv6 server, maybe with a port. */
    public String userId() {
        return "@" + localpart() + ":" + serverName();
    }

    public String roomId() {
        if (chance(0.3)) {
            String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            StringBuilder opaque = new StringBuilder("!");
            for (int i = 0; i < 43; i++) {
                opaque.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            return opaque.toString();
        }
        return "!" + localpart() + ":" + serverName();
    }

    public String roomAlias() {
        return "#" + localpart() + ":" + serverName();
    }

    public String eventId() {
        return "$" + localpart() + (chance(0.5) ? ":" + serverName() : "");
    }

    /** A valid or nearly valid Matrix identifier of any kind. */
    public String matrixId() {
        String id = switch (random.nextInt(4)) {
            case 0 -> userId();
            case 1 -> roomId();
            case 2 -> roomAlias();
            default -> eventId();
        };
        return chance(0.5) ? id : nearJson(id);
    }

    private String localpart() {
        StringBuilder s = new StringBuilder();
        for (int i = between(1, 12); i > 0; i--) {
            char c;
            do {
                c = (char) between(0x21, 0x7e);
            } while (c == ':');
            s.append(c);
        }
        return s.toString();
    }

    public String serverName() {
        String host = switch (random.nextInt(4)) {
            case 0 -> between(0, 255) + "." + between(0, 255) + "." + between(0, 255) + "." + between(0, 255);
            case 1 -> "[::" + Integer.toHexString(between(1, 0xffff)) + "]";
            case 2 -> "localhost";
            default -> label() + "." + label();
        };
        return chance(0.3) ? host + ":" + between(1, 65535) : host;
    }

    private String label() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder s = new StringBuilder();
        for (int i = between(1, 10); i > 0; i--) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return s.toString();
    }
}
