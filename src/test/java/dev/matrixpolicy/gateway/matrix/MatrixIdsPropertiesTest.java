package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.matrixpolicy.gateway.support.Gen;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Every grammar check either returns its input unchanged or refuses it with an
 * {@link IllegalArgumentException} that says what was expected; identifiers generated from the
 * grammar are always accepted, and their server name is what follows the first ':'.
 */
class MatrixIdsPropertiesTest {
    private static final int TRIES = 3000;
    private static final List<UnaryOperator<String>> GRAMMARS = List.of(MatrixIds::userId, MatrixIds::roomId,
            MatrixIds::roomAlias, MatrixIds::eventId, MatrixIds::serverName, MatrixIds::serverNameOf);

    @Test
    void arbitraryStringsAreAcceptedUnchangedOrRefusedWithAReason() {
        Gen.forAll(11L, TRIES, gen -> gen.chance(0.5) ? gen.string(30) : gen.matrixId(), input -> {
            for (UnaryOperator<String> grammar : GRAMMARS) {
                String accepted;
                try {
                    accepted = grammar.apply(input);
                } catch (IllegalArgumentException refused) {
                    assertThat(refused.getMessage()).isNotBlank();
                    continue;
                }
                assertThat(input).contains(accepted);
            }
        });
    }

    @Test
    void idsBuiltFromTheGrammarAreAcceptedAsTheyAre() {
        Gen.forAll(12L, TRIES, gen -> List.of(gen.userId(), gen.roomId(), gen.roomAlias(), gen.eventId()), ids -> {
            assertThat(MatrixIds.userId(ids.get(0))).isSameAs(ids.get(0));
            assertThat(MatrixIds.roomId(ids.get(1))).isSameAs(ids.get(1));
            assertThat(MatrixIds.roomAlias(ids.get(2))).isSameAs(ids.get(2));
            assertThat(MatrixIds.eventId(ids.get(3))).isSameAs(ids.get(3));
            String server = ids.get(0).substring(ids.get(0).indexOf(':') + 1);
            assertThat(MatrixIds.serverNameOf(ids.get(0))).isEqualTo(server);
            assertThat(MatrixIds.isServerName(server)).isTrue();
        });
    }

    @Test
    void aWrongSigilIsAlwaysRefused() {
        Gen.forAll(13L, TRIES, gen -> gen.userId().substring(1), rest -> {
            assertThat(catchThrowable(() -> MatrixIds.roomId("@" + rest))).isInstanceOf(IllegalArgumentException.class);
            assertThat(catchThrowable(() -> MatrixIds.userId("#" + rest))).isInstanceOf(IllegalArgumentException.class);
            assertThat(catchThrowable(() -> MatrixIds.roomAlias("!" + rest))).isInstanceOf(IllegalArgumentException.class);
        });
    }
}
