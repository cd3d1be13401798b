package dev.matrixpolicy.gateway.modules.contentrules;

import java.util.HashSet;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Whom a message mentions. A user is mentioned when listed in {@code content["m.mentions"].user_ids},
 * or when a user ID ({@code @localpart:server}) appears in the text, which covers {@code matrix.to}
 * pills ({@code https://matrix.to/#/@alice:example.org} in an {@code href}) and IDs typed in the body.
 * Each user counts once: a listed ID is normalised as the text is, so that it and the same ID in
 * the text are one user ({@code @Bob1:x.org} and {@code @bobi:x.org} with {@code fold-leet}). The room is mentioned by {@code "m.mentions": {"room": true}} or by
 * {@code @room} in the text. Percent-encoded pills ({@code #/%40alice%3A...}) are not decoded.
 *
 * @param users how many distinct users, counted up to {@code limit} + 1
 * @param room  whether the whole room is mentioned
 */
record Mentions(int users, boolean room) {

    /**
     * @param mentions the content's {@code m.mentions}, or a missing node
     * @param text       the normalised text
     * @param limit      past how many distinct users counting stops
     * @param normaliser what normalised the text, for the listed IDs
     */
    static Mentions in(JsonNode mentions, String text, int limit, Normaliser normaliser) {
        Set<String> users = new HashSet<>();
        boolean room = mentions.path("room").asBoolean(false);
        JsonNode ids = mentions.path("user_ids");
        if (ids.isArray()) {
            for (JsonNode id : ids) {
                if (users.size() > limit) {
                    break;
                }
                if (id.isString()) {
                    users.add(normaliser.normalise(id.stringValue()));
                }
            }
        }
        for (int at = text.indexOf('@'); at >= 0 && users.size() <= limit; at = text.indexOf('@', at + 1)) {
            int localEnd = at + 1;
            while (localEnd < text.length() && isLocalpartCharacter(text.charAt(localEnd))) {
                localEnd++;
            }
            boolean userId = localEnd < text.length() && text.charAt(localEnd) == ':';
            if (!userId && localEnd == at + 5 && text.startsWith("room", at + 1)) {
                room = true;
                continue;
            }
            if (!userId || localEnd == at + 1) {
                continue;
            }
            int serverEnd = localEnd + 1;
            while (serverEnd < text.length() && isServerCharacter(text.charAt(serverEnd))) {
                serverEnd++;
            }
            while (serverEnd > localEnd + 1 && (text.charAt(serverEnd - 1) == '.' || text.charAt(serverEnd - 1) == ':')) {
                serverEnd--; // an ID at the end of a sentence
            }
            if (serverEnd > localEnd + 1) {
                users.add(text.substring(at, serverEnd));
                at = serverEnd - 1;
            }
        }
        return new Mentions(users.size(), room);
    }

    private static boolean isLocalpartCharacter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '=' || c == '-'
                || c == '/' || c == '+';
    }

    private static boolean isServerCharacter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' || c == '['
                || c == ']';
    }
}
