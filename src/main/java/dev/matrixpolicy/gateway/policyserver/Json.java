package dev.matrixpolicy.gateway.policyserver;

import tools.jackson.databind.json.JsonMapper;

/** The package's one JSON mapper (Jackson's tree model only; nothing here binds to classes). */
final class Json {
    static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Json() {
    }
}
