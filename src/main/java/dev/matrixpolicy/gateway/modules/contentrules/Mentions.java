package dev.matrixpolicy.gateway.modules.contentrules;

import java.util.HashSet;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Whom a message mentions. A user is mentioned when listed in {@code content["m.mentions"].user_ids},
 * or when a user ID ({@code @localpart:server}) appears in the text, which covers {@code matrix.to}
 * pills ({@code https://matrix.to/#/@alice:example.org} in an {@code href}) and IDs typed in the body.
 * Each user counts once: a listed ID is normalised as the text is, so that it and the same ID in
 * the text are one user ({@code @Bob:x.org} and {@code @bob:x.org}). An ID in
 * the text starts after no letter or digit ({@code git@github.com:a/x.git} is none) and names a
 * server that could be reached ({@link #isServerName}: {@code @10:30} is a time). The room is
 * mentioned by {@code "m.mentions": {"room": true}}, the boolean, or, in a message without
 * {@code m.mentions} (MSC3952: with it, clients and Synapse go by it alone), by {@code @room} in the
 * text. Percent-encoded pills ({@code #/%40alice%3A...}) are not decoded.
 *
 * @param users how many distinct users, counted up to {@code limit} + 1
 * @param room  whether the whole room is mentioned
 */
record Mentions(int users, boolean room) {

    /**
     * @param mentions the content's {@code m.mentions}, or a missing node
     * @param text       the normalised text, its digits as written (a user ID names one account)
     * @param body       the content's {@code body} as sent, which Synapse reads for {@code @room}: an invisible
     *                   character after it ({@code @room\u200Bs}) ends the word there, not in the normalised text
     * @param limit      past how many distinct users counting stops
     * @param normaliser what normalised the text, for the listed IDs
     */
    static Mentions in(JsonNode mentions, String text, String body, int limit, Normaliser normaliser) {
        Set<String> users = new HashSet<>();
        // with m.mentions, only its boolean room: true pings the room (MSC3952), whatever the body says
        boolean intentional = mentions.isObject();
        boolean room = intentional ? mentions.path("room").isBoolean() && mentions.path("room").booleanValue()
                : roomInText(text) || roomInText(body);
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
            if (at > 0 && Character.isLetterOrDigit(text.charAt(at - 1))) {
                continue; // git@github.com:a/x.git, an address: no mention
            }
            int localEnd = at + 1;
            while (localEnd < text.length() && isLocalpartCharacter(text.charAt(localEnd))) {
                localEnd++;
            }
            boolean userId = localEnd < text.length() && text.charAt(localEnd) == ':';
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
            if (isServerName(text.substring(localEnd + 1, serverEnd))) {
                users.add(text.substring(at, serverEnd));
                at = serverEnd - 1;
            }
        }
        return new Mentions(users.size(), room);
    }

    /**
     * Whether the text pings the room as Synapse's legacy rule ({@code .m.rule.roomnotif}) matches a
     * body: {@code @room} as a word, ignoring case, matched as {@code (?:^|\b|\W)@room(?:\b|\W|$)},
     * so whatever precedes it ({@code hey@room}) and before any character that ends a word
     * ({@code @room:}, {@code @room.}), not before a letter, digit, mark or {@code _} ({@code @rooms}).
     * Read on its own: counting users stops past the limit, a room mention must not.
     */
    private static boolean roomInText(String text) {
        for (int at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
            if (text.regionMatches(true, at + 1, "room", 0, 4)
                    && (at + 5 == text.length() || !isWordCharacter(text.codePointAt(at + 5)))) {
                return true;
            }
        }
        return false;
    }

    /** A character of a word as Synapse's regexes (Rust's Unicode {@code \w}) have it. */
    private static boolean isWordCharacter(int c) {
        int type = Character.getType(c);
        return Character.isAlphabetic(c) || type == Character.DECIMAL_DIGIT_NUMBER || type == Character.CONNECTOR_PUNCTUATION
                || type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK || type == Character.COMBINING_SPACING_MARK
                || c == 0x200C || c == 0x200D;
    }

    /**
     * Whether {@code server} is a server name as the spec's grammar has it ({@code hostname [":" port]},
     * a hostname being an IPv4 address, a bracketed IPv6 literal or a DNS name) and one that could be
     * reached: a DNS name whose last label is not all digits, since no top-level domain is (RFC 3696,
     * section 2). So {@code @10:30} and {@code @1:2.5}, times and scores, are no user.
     */
    static boolean isServerName(String server) {
        int colon = server.lastIndexOf(':');
        int hostEnd = colon > server.lastIndexOf(']') ? colon : server.length();
        if (hostEnd < server.length() && !digits(server, hostEnd + 1, server.length(), 1, 5)) {
            return false;
        }
        int firstColon = server.indexOf(':');
        boolean colonInHost = firstColon >= 0 && firstColon < hostEnd;
        if (server.startsWith("[")) {
            return hostEnd > 2 && server.indexOf(']') == hostEnd - 1 && colonInHost;
        }
        if (hostEnd == 0 || server.indexOf('[') >= 0 || server.indexOf(']') >= 0 || colonInHost) {
            return false;
        }
        int lastLabel = server.lastIndexOf('.', hostEnd - 1) + 1;
        if (!digits(server, lastLabel, hostEnd, 0, Integer.MAX_VALUE)) {
            return true;
        }
        // only an IPv4 address has a last label of digits: four numbers
        int labels = 0;
        for (int start = 0; start <= hostEnd; labels++) {
            int dot = server.indexOf('.', start);
            int end = dot < 0 || dot > hostEnd ? hostEnd : dot;
            if (!digits(server, start, end, 1, 3)) {
                return false;
            }
            start = end + 1;
        }
        return labels == 4;
    }

    /** Whether {@code text[from, to)} is digits only, between {@code least} and {@code most} of them. */
    private static boolean digits(String text, int from, int to, int least, int most) {
        if (to - from < least || to - from > most) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
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
