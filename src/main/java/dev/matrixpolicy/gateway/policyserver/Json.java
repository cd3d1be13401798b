package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.NamesPerDocument;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/** The package's one JSON mapper (Jackson's tree model only; nothing here binds to classes). */
final class Json {
    /** Names read from other servers' answers are kept for one document only ({@link NamesPerDocument}). */
    static final JsonMapper MAPPER = JsonMapper.builder(NamesPerDocument.of(JsonFactory.builder())).build();

    private Json() {
    }
}
