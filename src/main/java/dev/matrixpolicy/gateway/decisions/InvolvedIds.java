package dev.matrixpolicy.gateway.decisions;

import dev.matrixpolicy.gateway.matrix.MatrixIds;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;

/**
 * The Matrix IDs a request involves: its users, its rooms (IDs and aliases) and their servers.
 *
 * <p>The rule, written here only: IDs are read from the {@linkplain #ID_FIELDS fields listed below}
 * and from nowhere else, and each is kept only when it is a valid Matrix ID of the kind its sigil
 * says. So an event's {@code content}, {@code prev_content} and {@code unsigned}, a login's
 * {@code login_dict} and password, tokens, profiles, 3PID addresses and any other free text never
 * enter the log, whatever they hold, even a user ID. A user ID longer than any Matrix ID may be
 * (255 bytes) is left out too, although Synapse hands on one of any length (a client's invitee):
 * the log keeps thousands of decisions, and a caller's megabyte IDs would run the heap out. A room
 * ID or alias is held to its length by its grammar already.
 *
 * @param users   user IDs, in field order, without repeats
 * @param rooms   room IDs and aliases
 * @param servers the server names of those IDs (a room-version-12 room ID has none)
 */
public record InvolvedIds(List<String> users, List<String> rooms, List<String> servers) {

    /**
     * The fields that name a user or a room in some callback's arguments: top level (with the state
     * key of {@code user_may_send_state_event}), the {@code requester} of {@code on_create_room}, the
     * {@code user_profile} of {@code check_username_for_spam}, and an {@code event}'s sender, room and
     * state key (a membership event's state key is its target user). Each is a top-level field or a
     * top-level object's own: the policy API hands the log no more than that (the body's outline).
     */
    static final List<JsonPointer> ID_FIELDS = Stream.of(
                    "/user_id", "/user", "/inviter", "/invitee", "/sender", "/requester_id", "/state_key",
                    "/room_id", "/room", "/room_alias",
                    "/requester/user_id", "/user_profile/user_id",
                    "/event/sender", "/event/room_id", "/event/state_key")
            .map(JsonPointer::compile)
            .toList();

    public InvolvedIds {
        users = List.copyOf(users);
        rooms = List.copyOf(rooms);
        servers = List.copyOf(servers);
    }

    public static InvolvedIds of(JsonNode args) {
        List<String> users = new ArrayList<>(2);
        List<String> rooms = new ArrayList<>(1);
        List<String> servers = new ArrayList<>(2);
        for (JsonPointer field : ID_FIELDS) {
            JsonNode value = args.at(field);
            if (value.isString()) {
                String id = value.asString();
                List<String> kind = switch (id.isEmpty() ? ' ' : id.charAt(0)) {
                    case '@' -> MatrixIds.fitsAnId(id) && valid(id, MatrixIds::userIdAsSynapseTakesIt) ? users : null;
                    case '!' -> valid(id, MatrixIds::roomIdAsSynapseTakesIt) ? rooms : null;
                    case '#' -> valid(id, MatrixIds::roomAliasAsSynapseTakesIt) ? rooms : null;
                    default -> null;
                };
                if (kind != null && addOnce(kind, id) && id.indexOf(':') > 0) {
                    addOnce(servers, MatrixIds.domainOf(id));
                }
            }
        }
        return new InvolvedIds(users, rooms, servers);
    }

    private static boolean valid(String id, java.util.function.UnaryOperator<String> grammar) {
        try {
            grammar.apply(id);
            return true;
        } catch (IllegalArgumentException invalid) {
            return false;
        }
    }

    private static boolean addOnce(List<String> list, String value) {
        if (list.contains(value)) {
            return false;
        }
        list.add(value);
        return true;
    }
}
