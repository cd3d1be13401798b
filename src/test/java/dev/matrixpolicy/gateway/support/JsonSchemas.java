package dev.matrixpolicy.gateway.support;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.AnnotationKeyword;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * JSON Schema validation (draft 2020-12, as OpenAPI 3.1 uses it). The OpenAPI Initiative's schemas
 * of OpenAPI 3.1 documents are read from the test classpath ({@code spec.openapis.org/}), never
 * from the network.
 */
public final class JsonSchemas {
    /** OpenAPI 3.1 documents whose Schema Objects are checked too, against JSON Schema 2020-12 and the OpenAPI dialect. */
    public static final String OPENAPI_3_1 = "https://spec.openapis.org/oas/3.1/schema-base/2022-10-07";
    /**
     * Draft 2020-12, where a keyword it does not know is an annotation, said nothing of: the library's
     * default logs a WARN line for each, and a schema taken from inside an OpenAPI document sits among
     * {@code openapi}, {@code info} and {@code paths}.
     */
    private static final Dialect DIALECT = Dialect.builder(Dialects.getDraft202012())
            .unknownKeywordFactory((keyword, context) -> new AnnotationKeyword(keyword))
            .build();
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(DIALECT,
            builder -> builder.schemaIdResolvers(ids -> ids.mapPrefix("https://spec.openapis.org/", "classpath:spec.openapis.org/")));

    private JsonSchemas() {
    }

    /** What is wrong with {@code instance} by the schema of that IRI; empty when nothing is. */
    public static List<String> problems(String schemaIri, JsonNode instance) {
        return messages(REGISTRY.getSchema(SchemaLocation.of(schemaIri)).validate(instance));
    }

    /** What is wrong with {@code instance} by {@code schema}; empty when nothing is. */
    public static List<String> problems(JsonNode schema, JsonNode instance) {
        return messages(REGISTRY.getSchema(schema).validate(instance));
    }

    /**
     * What is wrong with {@code instance} by the schema at {@code pointer} (a JSON pointer) in
     * {@code document}, whose own {@code $ref}s, such as {@code #/components/schemas/...}, resolve in it.
     */
    public static List<String> problems(JsonNode document, String pointer, JsonNode instance) {
        Schema schema = REGISTRY.getSchema(SchemaLocation.of("https://gateway.invalid/document.json#" + pointer), document);
        return messages(schema.validate(instance));
    }

    private static List<String> messages(List<Error> errors) {
        return errors.stream().map(Error::toString).toList();
    }
}
