package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A name read in one document is made once for that document, and made anew for the next: no table
 * of names outlives a document, whatever a sender chooses to name its fields. Told by identity: a
 * name kept for the next document would be the same string.
 */
class NamesPerDocumentTest {
    private static final String NAME = "n".repeat(1000);
    private static final String DOCUMENT = "{\"a\": {\"" + NAME + "\": 1}, \"b\": {\"" + NAME + "\": 2}}";

    @Test
    void namesReadFromBytesAreSharedWithinADocumentAndNotKeptForTheNext() {
        namesAreTheDocumentsOwn(EventJson.MAPPER, json -> EventJson.MAPPER.readTree(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void namesReadFromTextAreSharedWithinADocumentAndNotKeptForTheNext() {
        namesAreTheDocumentsOwn(EventJson.MAPPER, EventJson.MAPPER::readTree);
    }

    @Test
    void aMapperMadeLikeAnotherKeepsItsReadingSettingsButNotItsNames() {
        JsonMapper jacksons = JsonMapper.builder(JsonFactory.builder().streamReadConstraints(EventJson.readLimits().build()).build())
                .addModule(EventJson.module()).build();
        JsonMapper like = NamesPerDocument.mapperLike(jacksons).build();

        assertThat(like.tokenStreamFactory()).isInstanceOf(NamesPerDocument.class);
        assertThat(like.tokenStreamFactory().streamReadConstraints().getMaxNameLength()).isEqualTo(EventJson.EVENT_BYTES);
        assertThat(like.registeredModules()).hasSameSizeAs(jacksons.registeredModules());
        namesAreTheDocumentsOwn(like, json -> like.readTree(json.getBytes(StandardCharsets.UTF_8)));
        // Jackson's own factory keeps them: the difference this class makes
        JsonNode first = jacksons.readTree(DOCUMENT.getBytes(StandardCharsets.UTF_8));
        JsonNode second = jacksons.readTree(DOCUMENT.getBytes(StandardCharsets.UTF_8));
        assertThat(name(first, "a")).isSameAs(name(second, "a"));
    }

    private static void namesAreTheDocumentsOwn(JsonMapper mapper, Function<String, JsonNode> read) {
        assertThat(mapper.tokenStreamFactory()).isInstanceOf(NamesPerDocument.class);
        JsonNode first = read.apply(DOCUMENT);
        JsonNode second = read.apply(DOCUMENT);

        assertThat(name(first, "a")).isEqualTo(NAME).isSameAs(name(first, "b"));
        assertThat(name(second, "a")).isEqualTo(NAME).isNotSameAs(name(first, "a"));
    }

    private static String name(JsonNode document, String field) {
        return document.path(field).propertyNames().iterator().next();
    }
}
