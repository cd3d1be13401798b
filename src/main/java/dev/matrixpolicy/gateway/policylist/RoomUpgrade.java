package dev.matrixpolicy.gateway.policylist;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import tools.jackson.databind.JsonNode;

/**
 * A policy room's upgrade, as its {@code m.room.tombstone} announces it, with MSC4321's word on what
 * becomes of the rules. A source reports it and goes on reading the room it was given: MSC4321 asks
 * moderation tools not to follow a tombstone on their own, since whoever may send one could hijack the
 * list, but to show a moderator enough to decide. The decision is the admin's, in the configuration.
 *
 * @param room            the room that was upgraded, the one the source reads
 * @param replacementRoom the room that replaces it
 * @param upgradeType     MSC4321's {@code policy_room_upgrade_type} as written, when the tombstone has one
 * @param sender          who sent the tombstone, when the homeserver said
 * @param seen            when the source first saw it
 * @param alias           the alias the source names the room by, when it does: the upgrade moves it
 */
public record RoomUpgrade(String room, String replacementRoom, Optional<String> upgradeType, Optional<String> sender,
                          Instant seen, Optional<String> alias) {
    /** The tombstone's field that says how a policy room's rules follow it (MSC4321, unstable prefix). */
    static final String UPGRADE_TYPE = "org.matrix.msc4321.policy_room_upgrade_type";
    /** What stands for a replacement room that is no room ID: the tombstone's text is not repeated. */
    static final String NOT_A_ROOM_ID = "(not a room ID)";

    public RoomUpgrade {
        Objects.requireNonNull(room, "room");
        Objects.requireNonNull(replacementRoom, "replacementRoom");
        Objects.requireNonNull(upgradeType, "upgradeType");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(seen, "seen");
        Objects.requireNonNull(alias, "alias");
    }

    /** The same upgrade, of a room the source names by {@code alias}. */
    RoomUpgrade namedBy(String alias) {
        return new RoomUpgrade(room, replacementRoom, upgradeType, sender, seen, Optional.of(alias));
    }

    /**
     * The upgrade a tombstone announces; empty when it has no replacement room (a tombstone emptied
     * again withdraws the upgrade). A replacement room that is not a room ID is still an upgrade,
     * shown as {@value #NOT_A_ROOM_ID}; a sender that is not a user ID is left out.
     *
     * @param content the tombstone's content
     * @param sender  its {@code sender}, a missing node when the homeserver gave the content alone
     */
    static Optional<RoomUpgrade> of(String room, JsonNode content, JsonNode sender, Instant seen) {
        JsonNode replacement = content.path("replacement_room");
        if (replacement.isMissingNode() || replacement.isNull() || replacement.isString() && replacement.stringValue().isBlank()) {
            return Optional.empty();
        }
        String replacementRoom = id(replacement, MatrixIds::roomId).orElse(NOT_A_ROOM_ID);
        if (replacementRoom.equals(room)) {
            return Optional.empty(); // a room replaced by itself has moved nowhere: nothing to point the source at
        }
        return Optional.of(new RoomUpgrade(room, replacementRoom, word(content.path(UPGRADE_TYPE), 64),
                id(sender, MatrixIds::userId), seen, Optional.empty()));
    }

    /** A string field that is an ID of the grammar given, as {@link MatrixIds} checks it: printable ASCII, one line. */
    private static Optional<String> id(JsonNode field, UnaryOperator<String> grammar) {
        if (!field.isString()) {
            return Optional.empty();
        }
        try {
            return Optional.of(grammar.apply(field.stringValue()));
        } catch (IllegalArgumentException notThatId) {
            return Optional.empty();
        }
    }

    /**
     * A string field that reads as one word of printable ASCII, at most {@code longest} characters
     * long (the upgrade type, which no grammar defines): anything else in a tombstone, which whoever
     * may send one writes, stays out of the logs.
     */
    private static Optional<String> word(JsonNode field, int longest) {
        if (!field.isString()) {
            return Optional.empty();
        }
        String text = field.stringValue().strip();
        boolean printable = text.length() <= longest && MatrixIds.isPrintableAscii(text);
        return printable ? Optional.of(text) : Optional.empty();
    }

    /** Whether this is the same upgrade as {@code other}, whenever each was seen and whoever sent it. */
    boolean sameAs(RoomUpgrade other) {
        return room.equals(other.room) && replacementRoom.equals(other.replacementRoom) && upgradeType.equals(other.upgradeType);
    }

    /** What the list's curators mean by it, and what the admin may do: in the log line, and beside the upgrade on the management port. */
    @JsonProperty("advice")
    public String advice() {
        // Synapse moves a room's local aliases to its replacement: a source that resolves the alias
        // again (at a restart, or to rejoin) reads the new room, and the old room's rules go.
        String kept = alias.map(name -> "this source goes on reading " + room + ", whose rules stay in force until the"
                + " gateway restarts: the source names it by " + name + ", which the upgrade moves to the new room, and a"
                + " restart reads the room the alias names then (to keep " + room + ", name it by its ID)")
                .orElse("this source goes on reading " + room + ", whose rules stay in force");
        if (replacementRoom.equals(NOT_A_ROOM_ID)) {
            return "the room's tombstone names no room ID as its replacement; " + kept + ". Ask the list's curators where its rules go";
        }
        return switch (upgradeType.orElse("")) {
            // MSC4321 names the type "move", and "moved" in one place: both are read as a move.
            case "move", "moved" -> "the list's curators moved its rules to " + replacementRoom + " (MSC4321 'move') and "
                    + room + " is no longer kept up to date; " + kept + ". Point the source's room at " + replacementRoom;
            case "transition" -> "new rules go to " + replacementRoom + " while those of " + room
                    + " stay valid (MSC4321 'transition'); " + kept + ". Add a source for " + replacementRoom + " beside this one";
            case "" -> "the room was upgraded to " + replacementRoom + "; " + kept + ". Once the list's curators publish in "
                    + replacementRoom + ", point the source's room at it, or add a source for it beside this one";
            default -> "the room was upgraded to " + replacementRoom + " with the upgrade type '" + upgradeType.get()
                    + "', which MSC4321 does not define; " + kept + ". Ask the list's curators where its rules go";
        };
    }
}
