package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.matrix.StrictUtf8;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.env.OriginTrackedMapPropertySource;
import org.springframework.boot.env.PropertySourceLoader;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginTrackedValue;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.Ordered;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.Resource;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.reader.UnicodeReader;

/**
 * Spring Boot's YAML loader, with a file that cannot be parsed reported in one message naming the
 * file, the line and the fix. Boot's loader lets SnakeYAML's exception through, which names the
 * line but not the file ({@code in 'reader', line 3}), under some 65 stack frames; and it is thrown
 * while the configuration is loaded, before there is an application context, so no bean could
 * catch it: a {@link PropertySourceLoader}, the extension point Boot offers there, does. A file that
 * gives no settings is refused here too ({@link SettingsRequired}), and one with a key Boot would not
 * bind as written ({@link KeysReadAsWritten}).
 *
 * <p>Registered in {@code spring.factories} ahead of Boot's loaders, it takes the YAML extensions
 * from Boot's own loader. {@link PropertiesFileLoader} comes first, as Boot's properties loader does
 * before its YAML loader, so that which format wins when both are present stays Boot's.
 */
final class YamlFileLoader implements PropertySourceLoader, Ordered {
    /** How many values aliases may add to those a file writes out. */
    static final long MOST_VALUES_FROM_ALIASES = 100_000;

    private final YamlPropertySourceLoader yaml = new YamlPropertySourceLoader();

    @Override
    public String[] getFileExtensions() {
        return yaml.getFileExtensions();
    }

    @Override
    public List<PropertySource<?>> load(String name, Resource file) throws IOException {
        try (ReadOnce read = ReadOnce.of(file)) {
            Resource resource = read.resource();
            try {
                Map<TextResourceOrigin.Location, RetypedScalar> retyped = checkComposed(resource);
                return SettingsRequired.of(resource, KeysReadAsWritten.of(resource, marked(yaml.load(name, resource), retyped)));
            } catch (YAMLException malformed) {
                throw described(resource, malformed);
            }
        }
    }

    /** SnakeYAML's refusal of a file, said in one message naming the file, the line and the fix. */
    private static RuntimeException described(Resource resource, YAMLException refused) throws IOException {
        if (refused instanceof MarkedYAMLException malformed) {
            Mark mark = malformed.getProblemMark();
            String file = BadSetting.file(resource);
            // Not the line itself: it may hold a token, and the message reaches the log and the health details.
            String problem = malformed.getProblem() + (malformed.getContext() == null ? "" : " (" + malformed.getContext() + ")");
            return new InvalidConfigurationException("Malformed configuration file", new BadSetting(null, null,
                    new TextResourceOrigin(resource, new TextResourceOrigin.Location(mark.getLine(), mark.getColumn())), problem,
                    "Correct the YAML at line " + (mark.getLine() + 1) + " of " + file + ". Keys of one level start in the same"
                            + " column, indented with spaces, not tabs; a ':' after a key and a '-' before a list item are followed"
                            + " by a space; a key appears once in its level."), malformed);
        }
        return refused.getCause() instanceof CharacterCodingException ? notText(resource, refused) : refused;
    }

    /**
     * The refusal of a file that is not text as YAML is read: UTF-8, or UTF-16 after its byte order
     * mark. SnakeYAML's own exception names neither the file nor the place ({@code Input length = 1}).
     */
    private static InvalidConfigurationException notText(Resource resource, YAMLException undecodable) throws IOException {
        byte[] bytes = resource.getContentAsByteArray();
        boolean utf16 = bytes.length >= 2 && ((bytes[0] & 0xFF) == 0xFE && (bytes[1] & 0xFF) == 0xFF
                || (bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xFE);
        int invalid = utf16 ? -1 : StrictUtf8.firstInvalid(bytes); // a UTF-16 file's bad place is not a UTF-8 byte's
        int line = 0;
        int column = 0;
        for (int i = 0; i < invalid; i++) {
            column = bytes[i] == '\n' ? 0 : column + 1;
            line += bytes[i] == '\n' ? 1 : 0;
        }
        String file = BadSetting.file(resource);
        return new InvalidConfigurationException("Configuration file not UTF-8", new BadSetting(null, null,
                new TextResourceOrigin(resource, new TextResourceOrigin.Location(Math.max(line, 0), column)),
                invalid < 0 ? "it is not valid UTF-16, the encoding its byte order mark names"
                        : "byte " + invalid + " is not UTF-8 (a file saved as Latin-1 or Windows-1252, or not text at all)",
                "Save " + file + " as UTF-8, the encoding YAML files are read in."), undecodable);
    }

    /**
     * Checks the file composed into nodes, before Boot reads it: that each document has keys
     * ({@link #requireKeys}), that its keys are read as written ({@link KeysAsWritten}), and that it
     * stays small once its aliases are expanded. Boot flattens every alias into properties of its
     * own, so 24 lines of lists that each name the one above twice (48 aliases, under SnakeYAML's limit
     * of 50) become 2<sup>24</sup> properties and the heap runs out: a file whose aliases would add
     * more than {@value #MOST_VALUES_FROM_ALIASES} values to those written is refused. SnakeYAML shares
     * a node between an anchor and its aliases, so each node's expanded count is worked out once.
     *
     * @return the values YAML reads as other than the text written, by where they start
     */
    private static Map<TextResourceOrigin.Location, RetypedScalar> checkComposed(Resource resource) throws IOException {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(Integer.MAX_VALUE); // the size and alias limits are Boot's loader's to apply
        options.setMaxAliasesForCollections(Integer.MAX_VALUE);
        Map<TextResourceOrigin.Location, RetypedScalar> retyped = new HashMap<>();
        try (Reader reader = new UnicodeReader(resource.getInputStream())) { // UTF-8 or, by its byte order mark, UTF-16, as Boot reads it
            for (Node document : new Yaml(options).composeAll(reader)) {
                requireKeys(resource, document);
                ExpandedCount count = new ExpandedCount();
                long values = count.of(document);
                if (values - count.written.size() > MOST_VALUES_FROM_ALIASES) {
                    Mark start = document.getStartMark();
                    throw new InvalidConfigurationException("Configuration file too large once its aliases are expanded",
                            new BadSetting(null, null, new TextResourceOrigin(resource,
                                    new TextResourceOrigin.Location(start.getLine(), start.getColumn())),
                                    "its aliases (*name) expand it to " + (values == Long.MAX_VALUE ? "no end of" : values)
                                            + " values from the " + count.written.size() + " written",
                                    "Write the repeated settings out, or name fewer anchors (&name) from other aliases: at most "
                                            + MOST_VALUES_FROM_ALIASES + " values may come from aliases."), null);
                }
                new KeysAsWritten(resource, retyped).check(document, "");
            }
        }
        return retyped;
    }

    /**
     * Boot's property sources of the file, with each value of {@code retyped} given its origin, so that
     * {@link ValuesReadAsWritten} can tell where it is bound as text.
     */
    private static List<PropertySource<?>> marked(List<PropertySource<?>> sources,
                                                  Map<TextResourceOrigin.Location, RetypedScalar> retyped) {
        if (retyped.isEmpty()) {
            return sources;
        }
        return sources.stream().<PropertySource<?>>map(source -> {
            if (!(source instanceof OriginTrackedMapPropertySource tracked)) {
                return source;
            }
            Map<String, Object> values = new LinkedHashMap<>(tracked.getSource());
            values.replaceAll((key, value) -> value instanceof OriginTrackedValue read
                    && read.getOrigin() instanceof TextResourceOrigin at && retyped.containsKey(at.getLocation())
                    ? OriginTrackedValue.of(read.getValue(), retyped.get(at.getLocation())) : value);
            return new OriginTrackedMapPropertySource(tracked.getName(), Collections.unmodifiableMap(values), true);
        }).toList();
    }

    /**
     * Refuses a document that is a list or a single value: Spring Boot reads a list's items as keys
     * {@code [0]}, {@code [1]}, and a value as nothing, so the packaged demo configuration would serve
     * and the file's intent be lost without a word. (An empty document is {@link SettingsRequired}'s.)
     */
    private static void requireKeys(Resource resource, Node document) {
        if (document instanceof MappingNode || document instanceof ScalarNode scalar && Tag.NULL.equals(scalar.getTag())) {
            return;
        }
        Mark start = document.getStartMark();
        throw new InvalidConfigurationException("Configuration file without keys", new BadSetting(null, null,
                new TextResourceOrigin(resource, new TextResourceOrigin.Location(start.getLine(), start.getColumn())),
                "its top level is " + (document instanceof SequenceNode ? "a list" : "a single value") + ", not settings by key",
                "Write the settings as keys at the start of a line, each followed by ':' (policy-gateway:, server:, logging:),"
                        + " with their settings indented below them."), null);
    }

    /**
     * Refuses a key that YAML reads as a value of another type, which Spring Boot then writes back as
     * text of its own: {@code on}, {@code off}, {@code yes} and {@code no} become {@code true} and
     * {@code false}, {@code 010} becomes {@code 8}, {@code 0x1F} {@code 31}, {@code 1_000} {@code 1000},
     * {@code ~} {@code null}, so that a user {@code no} or {@code 0123} of a password file would be
     * another user. A key whose text survives ({@code 7}, {@code true}, {@code 1.5}) passes, and so
     * does a date, which Boot keeps as written. (The key {@link KeysReadAsWritten} checks is the one
     * Boot made of this.)
     *
     * <p>Refuses as well a setting written twice in one document, once as a dotted key and once nested
     * ({@code policy-gateway.max-body-size:} beside {@code policy-gateway: max-body-size:}): Boot keeps
     * the one it reads last, and the file it hands on holds no trace of the other. The entries of a
     * merge ({@code <<: *defaults}) are left out: the keys beside it override them, as YAML means.
     *
     * <p>And notes each value YAML reads as other than its text ({@code no}, {@code 010}), which Boot
     * keeps as YAML read it, so that {@link ValuesReadAsWritten} can refuse it where text is bound.
     */
    private static final class KeysAsWritten extends SafeConstructor {
        private static final Set<Tag> RETYPED = Set.of(Tag.BOOL, Tag.INT, Tag.FLOAT, Tag.NULL);
        private final Resource resource;
        private final Set<Node> checked = Collections.newSetFromMap(new IdentityHashMap<>());
        /** Each setting of the document so far, by the name Boot reads it as: its value, which says where. */
        private final Map<ConfigurationPropertyName, Node> settings = new HashMap<>();
        /** The key each of those values was written under. */
        private final Map<Node, String> keys = new IdentityHashMap<>();

        /** The values of the file YAML reads as other than the text written, by where they start. */
        private final Map<TextResourceOrigin.Location, RetypedScalar> retypedValues;

        KeysAsWritten(Resource resource, Map<TextResourceOrigin.Location, RetypedScalar> retypedValues) {
            super(new LoaderOptions());
            this.resource = resource;
            this.retypedValues = retypedValues;
        }

        /** Checks the keys of {@code node}, found at {@code path}, and of everything below it, each node once. */
        void check(Node node, String path) {
            if (!checked.add(node)) {
                return;
            }
            if (node instanceof SequenceNode sequence) {
                for (int i = 0; i < sequence.getValue().size(); i++) {
                    check(sequence.getValue().get(i), path + "[" + i + "]");
                }
                if (sequence.getValue().isEmpty()) {
                    setting(path, node);
                }
            } else if (node instanceof MappingNode mapping) {
                Set<String> written = new HashSet<>();
                for (NodeTuple entry : mapping.getValue()) {
                    if (!(entry.getKeyNode() instanceof ScalarNode key) || Tag.MERGE.equals(key.getTag())
                            || !written.add(key.getValue())) {
                        continue; // a key twice in one mapping is Boot's loader's to refuse, as a duplicate key
                    }
                    String read = readOtherwise(key);
                    if (read != null) {
                        throw retyped(key, path.isEmpty() ? key.getValue() : path + "." + key.getValue(), read);
                    }
                    // as Boot joins them: a key it reads as other than text, or written in brackets, without a dot
                    String part = RETYPED.contains(key.getTag()) ? "[" + key.getValue() + "]" : key.getValue();
                    check(entry.getValueNode(), path.isEmpty() || part.startsWith("[") ? path + part : path + "." + part);
                }
                if (mapping.getValue().isEmpty()) {
                    setting(path, node);
                }
            } else {
                if (node instanceof ScalarNode value && !Tag.NULL.equals(value.getTag()) && readOtherwise(value) != null) {
                    TextResourceOrigin.Location at = location(value);
                    retypedValues.put(at, new RetypedScalar(resource, at, value.getValue(), readAs(value)));
                }
                setting(path, node);
            }
        }

        /** The text Boot makes of a scalar YAML reads as other than text, where it differs from the text written; else null. */
        private String readOtherwise(ScalarNode scalar) {
            if (!RETYPED.contains(scalar.getTag())) {
                return null;
            }
            String read = String.valueOf(constructObject(scalar));
            return read.equals(scalar.getValue()) ? null : read;
        }

        private static String readAs(ScalarNode scalar) {
            return Tag.BOOL.equals(scalar.getTag()) ? "true or false" : Tag.NULL.equals(scalar.getTag()) ? "no value" : "a number";
        }

        /** A setting at {@code path}: refused when the document holds it already under the same key. */
        private void setting(String path, Node value) {
            ConfigurationPropertyName name = ConfigurationPropertyName.adapt(path, '.');
            if (path.isEmpty() || KeysReadAsWritten.changedPart(path, name) != null) {
                return; // no setting, or one refused later, in words of its own
            }
            Node first = settings.putIfAbsent(name, value);
            keys.put(value, path);
            if (first != null) {
                throw KeysReadAsWritten.sameSetting(resource, keys.get(first), origin(first), path, origin(value));
            }
        }

        private Origin origin(Node node) {
            return new TextResourceOrigin(resource, location(node));
        }

        private static TextResourceOrigin.Location location(Node node) {
            Mark start = node.getStartMark();
            return new TextResourceOrigin.Location(start.getLine(), start.getColumn());
        }

        private InvalidConfigurationException retyped(ScalarNode key, String path, String read) {
            return new InvalidConfigurationException("Configuration key that would not be read as written", new BadSetting(path,
                    null, origin(key), "YAML reads the key '" + key.getValue() + "' as " + readAs(key) + ", and Spring Boot as '" + read + "'",
                    "Write the key in quotes, \"" + key.getValue() + "\":, and it is kept as written."), null);
        }
    }

    /** The number of values a node stands for once its aliases are expanded, each node worked out once. */
    private static final class ExpandedCount {
        private static final long IN_PROGRESS = Long.MAX_VALUE;
        private final Map<Node, Long> counted = new IdentityHashMap<>();
        private final Set<Node> written = Collections.newSetFromMap(new IdentityHashMap<>());

        long of(Node node) {
            Long known = counted.get(node);
            if (known != null) {
                return known; // IN_PROGRESS for an alias inside its own anchor: no end to it
            }
            counted.put(node, IN_PROGRESS);
            written.add(node);
            long values = 1;
            if (node instanceof SequenceNode sequence) {
                for (Node item : sequence.getValue()) {
                    values = sum(values, of(item));
                }
            } else if (node instanceof MappingNode mapping) {
                for (NodeTuple entry : mapping.getValue()) {
                    values = sum(sum(values, of(entry.getKeyNode())), of(entry.getValueNode()));
                }
            }
            counted.put(node, values);
            return values;
        }

        private static long sum(long a, long b) {
            long sum = a + b;
            return sum < 0 ? Long.MAX_VALUE : sum; // both are counts: an overflow is past any limit
        }
    }

    @Override
    public int getOrder() {
        return PropertiesFileLoader.ORDER + 1;
    }
}
