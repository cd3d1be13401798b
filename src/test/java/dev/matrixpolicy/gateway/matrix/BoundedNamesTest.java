package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Names read are shared by the documents that follow, until those reach {@link BoundedNames#KEPT_FOR_BYTES}
 * bytes: then the tables are new, and nothing a sender named before stays. Told by identity: a name
 * still kept is the same string in the next document.
 */
class BoundedNamesTest {
    private static final String NAME = "n".repeat(1000);
    private static final String DOCUMENT = "{\"a\": {\"" + NAME + "\": 1}, \"b\": {\"" + NAME + "\": 2}}";
    /** 16 KiB and a few bytes: 64 of them pass the bytes the tables are kept for, read from bytes or from text. */
    private static final String FILLER = "{\"filler\": \"" + "x".repeat(16_384) + "\"}";

    @Test
    void namesReadFromBytesAreKeptForTheNextDocumentsUntilTheyReachTheBound() {
        JsonMapper mapper = mapper();
        namesAreKeptUntilTheBound(json -> mapper.readTree(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void namesReadFromTextAreKeptForTheNextDocumentsUntilTheyReachTheBound() {
        JsonMapper mapper = mapper();
        namesAreKeptUntilTheBound(mapper::readTree);
    }

    @Test
    void aDocumentReadFromAStreamHasTablesOfItsOwn() {
        JsonMapper mapper = mapper();
        JsonNode first = mapper.readTree(new java.io.ByteArrayInputStream(DOCUMENT.getBytes(StandardCharsets.UTF_8)));
        JsonNode second = mapper.readTree(new java.io.ByteArrayInputStream(DOCUMENT.getBytes(StandardCharsets.UTF_8)));

        assertThat(name(first, "a")).isSameAs(name(first, "b")).isNotSameAs(name(second, "a"));
    }

    @Test
    void theGatewaysEventMapperBoundsItsNames() {
        assertThat(EventJson.MAPPER.tokenStreamFactory()).isInstanceOf(BoundedNames.class);
    }

    @Test
    void aMapperMadeLikeAnotherKeepsItsReadingSettingsButNotItsTables() {
        JsonMapper jacksons = JsonMapper.builder(JsonFactory.builder().streamReadConstraints(EventJson.readLimits().build()).build())
                .addModule(EventJson.module()).build();
        JsonMapper like = BoundedNames.mapperLike(jacksons).build();

        assertThat(like.tokenStreamFactory()).isInstanceOf(BoundedNames.class);
        assertThat(like.tokenStreamFactory().streamReadConstraints().getMaxNameLength()).isEqualTo(EventJson.EVENT_BYTES);
        assertThat(like.registeredModules()).hasSameSizeAs(jacksons.registeredModules());
        namesAreKeptUntilTheBound(json -> like.readTree(json.getBytes(StandardCharsets.UTF_8)));
        // Jackson's own factory keeps them past any number of bytes: the difference this class makes
        JsonNode first = jacksons.readTree(DOCUMENT.getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < BoundedNames.KEPT_FOR_BYTES / 16_384; i++) {
            jacksons.readTree(FILLER.getBytes(StandardCharsets.UTF_8));
        }
        assertThat(name(jacksons.readTree(DOCUMENT.getBytes(StandardCharsets.UTF_8)), "a")).isSameAs(name(first, "a"));
    }

    private static JsonMapper mapper() {
        return JsonMapper.builder(BoundedNames.of(JsonFactory.builder())).build();
    }

    private static void namesAreKeptUntilTheBound(Function<String, JsonNode> read) {
        JsonNode first = read.apply(DOCUMENT);
        JsonNode next = read.apply(DOCUMENT);
        for (int i = 0; i < BoundedNames.KEPT_FOR_BYTES / 16_384; i++) {
            read.apply(FILLER);
        }
        JsonNode afterTheBound = read.apply(DOCUMENT);

        assertThat(name(first, "a")).isEqualTo(NAME).isSameAs(name(first, "b")).isSameAs(name(next, "a"));
        assertThat(name(afterTheBound, "a")).isEqualTo(NAME).isNotSameAs(name(first, "a"));
    }

    private static String name(JsonNode document, String field) {
        return document.path(field).propertyNames().iterator().next();
    }
}
