package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

/** What a policy room's tombstone tells a moderator, in MSC4321's terms. */
class RoomUpgradeTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Instant SEEN = Instant.parse("2026-12-03T08:00:00Z");
    private static final JsonNode MODERATOR = JSON.getNodeFactory().stringNode("@mod:example.org");

    private static ObjectNode tombstone(String replacement) {
        return JSON.createObjectNode().put("body", "This room has been replaced").put("replacement_room", replacement);
    }

    private static RoomUpgrade upgrade(ObjectNode content) {
        return RoomUpgrade.of("!old:example.org", content, MODERATOR, SEEN).orElseThrow();
    }

    @Test
    void aMoveTellsTheAdminToPointTheSourceAtTheReplacementRoom() {
        RoomUpgrade upgrade = upgrade(tombstone("!new:example.org").put(RoomUpgrade.UPGRADE_TYPE, "move"));

        assertThat(upgrade).isEqualTo(new RoomUpgrade("!old:example.org", "!new:example.org", Optional.of("move"),
                Optional.of("@mod:example.org"), SEEN, Optional.empty()));
        assertThat(upgrade.advice()).contains("moved its rules to !new:example.org (MSC4321 'move')")
                .contains("whose rules stay in force").endsWith("Point the source's room at !new:example.org");
        // The MSC writes the value "moved" in one place, and the move is meant just the same.
        assertThat(upgrade(tombstone("!new:example.org").put(RoomUpgrade.UPGRADE_TYPE, "moved")).advice())
                .isEqualTo(upgrade.advice());
    }

    @Test
    void aTransitionTellsTheAdminToAddASourceForTheReplacementRoom() {
        String advice = upgrade(tombstone("!new:example.org").put(RoomUpgrade.UPGRADE_TYPE, "transition")).advice();

        assertThat(advice).contains("new rules go to !new:example.org while those of !old:example.org stay valid")
                .endsWith("Add a source for !new:example.org beside this one");
    }

    @Test
    void anUpgradeWithoutAnUpgradeTypeLeavesTheChoiceToTheAdmin() {
        RoomUpgrade upgrade = upgrade(tombstone("!new:example.org"));

        assertThat(upgrade.upgradeType()).isEmpty();
        assertThat(upgrade.advice()).startsWith("the room was upgraded to !new:example.org; this source goes on reading !old:example.org")
                .contains("point the source's room at it, or add a source for it");
    }

    @Test
    void aRoomNamedByAnAliasKeepsItsRulesOnlyUntilARestartFollowsTheMovedAlias() {
        String advice = upgrade(tombstone("!new:example.org")).namedBy("#bans:example.org").advice();

        assertThat(advice).contains("whose rules stay in force until the gateway restarts")
                .contains("names it by #bans:example.org, which the upgrade moves to the new room")
                .contains("to keep !old:example.org, name it by its ID");
    }

    @Test
    void anUpgradeTypeMsc4321DoesNotDefineIsNamedAsSuch() {
        assertThat(upgrade(tombstone("!new:example.org").put(RoomUpgrade.UPGRADE_TYPE, "merge")).advice())
                .contains("the upgrade type 'merge', which MSC4321 does not define");
    }

    @Test
    void aTombstoneWithoutAReplacementRoomAnnouncesNoUpgrade() {
        assertThat(RoomUpgrade.of("!old:example.org", JSON.createObjectNode(), MODERATOR, SEEN)).isEmpty();
        assertThat(RoomUpgrade.of("!old:example.org", tombstone(" "), MODERATOR, SEEN)).isEmpty();
        assertThat(RoomUpgrade.of("!old:example.org", JSON.createObjectNode().putNull("replacement_room"), MODERATOR, SEEN)).isEmpty();
        assertThat(RoomUpgrade.of("!old:example.org", tombstone("!old:example.org").put(RoomUpgrade.UPGRADE_TYPE, "move"), MODERATOR, SEEN))
                .as("replaced by itself: moved nowhere").isEmpty();
    }

    @Test
    void aReplacementRoomThatIsNoRoomIdIsAnUpgradeAndItsTextStaysOutOfTheReport() {
        // Whoever may send a tombstone writes it: a line break would forge a line in a plain-text log.
        for (ObjectNode odd : List.of(tombstone("!new:example.org\nWARN all clear"), tombstone("#alias:example.org"),
                JSON.createObjectNode().put("replacement_room", 42))) {
            RoomUpgrade upgrade = upgrade(odd);
            assertThat(upgrade.replacementRoom()).as("%s", odd).isEqualTo(RoomUpgrade.NOT_A_ROOM_ID);
            assertThat(upgrade.advice()).startsWith("the room's tombstone names no room ID as its replacement")
                    .contains("this source goes on reading !old:example.org, whose rules stay in force");
        }
    }

    @Test
    void anUpgradeTypeOrSenderThatIsNotOnePrintableWordIsLeftOut() {
        RoomUpgrade upgrade = RoomUpgrade.of("!old:example.org",
                tombstone("!new:example.org").put(RoomUpgrade.UPGRADE_TYPE, "x".repeat(65)), MissingNode.getInstance(), SEEN)
                .orElseThrow();

        assertThat(upgrade.upgradeType()).isEmpty();
        assertThat(upgrade.sender()).isEmpty();
    }

    @Test
    void theSameUpgradeSeenAgainIsTheSameWhateverItsSenderAndTime() {
        RoomUpgrade first = upgrade(tombstone("!new:example.org").put(RoomUpgrade.UPGRADE_TYPE, "move"));
        RoomUpgrade again = RoomUpgrade.of("!old:example.org", tombstone("!new:example.org").put(RoomUpgrade.UPGRADE_TYPE, "move"),
                MissingNode.getInstance(), SEEN.plusSeconds(3600)).orElseThrow();

        assertThat(first.sameAs(again)).isTrue();
        assertThat(first.sameAs(upgrade(tombstone("!new:example.org").put(RoomUpgrade.UPGRADE_TYPE, "transition")))).isFalse();
        assertThat(first.sameAs(upgrade(tombstone("!newer:example.org").put(RoomUpgrade.UPGRADE_TYPE, "move")))).isFalse();
    }
}
