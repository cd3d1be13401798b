package dev.matrixpolicy.gateway.policyserver;

import dev.matrixpolicy.gateway.matrix.BoundedNames;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.json.JsonMapper;

/** The package's one JSON mapper (Jackson's tree model only; nothing here binds to classes). */
final class Json {
    /** Names read from other servers' answers are kept for about a mebibyte of documents ({@link BoundedNames}). */
    static final JsonMapper MAPPER = JsonMapper.builder(BoundedNames.of(JsonFactory.builder())).build();

    private Json() {
    }
}
