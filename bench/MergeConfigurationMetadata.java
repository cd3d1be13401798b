import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Measurement only (the pom's flat-jar profile, bench/startup.sh flat): one
 * META-INF/spring-configuration-metadata.json from every copy on the class path, for the flat jar.
 * Fourteen of Spring Boot's jars carry one each; a flat jar can hold only one file of that name, and the
 * gateway's unknown-key check (config.SpringKeys) reads every copy the class loader finds, so with a
 * single library's copy it refuses the embedded default configuration's own spring.* and management.* keys.
 * Each array (groups, properties, hints, ignored.properties) is the concatenation of the copies' arrays.
 *
 * <pre>java -cp &lt;runtime class path&gt; bench/MergeConfigurationMetadata.java &lt;output file&gt;</pre>
 */
public class MergeConfigurationMetadata {
    static final String METADATA = "META-INF/spring-configuration-metadata.json";

    public static void main(String[] args) throws IOException {
        Path output = Path.of(args[0]).toAbsolutePath();
        JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ObjectNode merged = json.createObjectNode();
        int copies = 0;
        for (URL copy : Collections.list(ClassLoader.getSystemClassLoader().getResources(METADATA))) {
            if (copy.getProtocol().equals("file") && Path.of(copy.getPath()).toAbsolutePath().equals(output)) {
                continue; // this program's own output of an earlier build
            }
            try (InputStream in = copy.openStream()) {
                merge(copy, json.readTree(in), merged);
            }
            copies++;
        }
        Files.createDirectories(output.getParent());
        json.writeValue(output.toFile(), merged);
        System.out.printf("%s: %d copies, %d properties%n", output, copies, merged.path("properties").size());
    }

    /** Into {@code into}, each field of {@code from}: an array's elements appended, an object's fields merged alike. */
    static void merge(URL copy, JsonNode from, ObjectNode into) {
        for (Map.Entry<String, JsonNode> field : from.properties()) {
            JsonNode value = field.getValue();
            if (value.isArray()) {
                ArrayNode array = into.has(field.getKey()) ? (ArrayNode) into.get(field.getKey()) : into.putArray(field.getKey());
                array.addAll((ArrayNode) value);
            } else if (value.isObject()) {
                merge(copy, value, into.has(field.getKey()) ? (ObjectNode) into.get(field.getKey()) : into.putObject(field.getKey()));
            } else {
                throw new IllegalStateException(copy + ": " + field.getKey() + " is neither an array nor an object");
            }
        }
    }
}
