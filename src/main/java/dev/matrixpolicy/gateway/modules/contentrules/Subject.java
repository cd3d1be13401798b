package dev.matrixpolicy.gateway.modules.contentrules;

import java.time.Duration;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

/**
 * What one callback asks about: who acts, and the normalised text with what each check needs of it,
 * each worked out at most once and only when a rule asks.
 */
final class Subject {

    /** What a subject is; each check applies to some of them. */
    enum Target {
        /** An event's body and formatted body ({@code check_event_for_spam}). */
        MESSAGE,
        /** A room name or topic ({@code user_may_send_state_event}, or such an event in {@code check_event_for_spam}). */
        STATE,
        /** A display name or a requested username ({@code check_username_for_spam}, {@code check_registration_for_spam}). */
        PROFILE
    }

    /** Where a message was sent: what {@code repeated} rules need. */
    record Sending(String roomId, RecentMessages recent) {
    }

    final Target target;
    final String userId;
    final String text;
    /** The body's (or name's, topic's) length in code points; -1 when there is none. */
    final int length;
    private final JsonNode mentionsNode;
    private final Optional<Sending> sending;
    private final ContentRules.Reading reading;
    private TextIndex.Hits hits;
    private Links links;
    private Mentions mentions;

    Subject(Target target, String userId, String text, int length, JsonNode mentionsNode, Optional<Sending> sending,
            ContentRules.Reading reading) {
        this.target = target;
        this.userId = userId;
        this.text = text;
        this.length = length;
        this.mentionsNode = mentionsNode == null ? MissingNode.getInstance() : mentionsNode;
        this.sending = sending;
        this.reading = reading;
    }

    /** Whether a keyword, phrase or regex of the rule occurs in the text. */
    boolean textMatches(int rule) {
        if (hits == null) {
            hits = reading.index().scan(text);
        }
        return hits.words().get(rule) || reading.index().regexMatches(rule, hits, text);
    }

    Links links() {
        if (links == null) {
            links = Links.in(text, reading.linkLimit());
        }
        return links;
    }

    Mentions mentions() {
        if (mentions == null) {
            mentions = Mentions.in(mentionsNode, text, reading.mentionLimit(), reading.normaliser());
        }
        return mentions;
    }

    /**
     * In how many rooms the sender sent this text within the window, this one included. 0, and nothing
     * recorded, when it was not sent to a room or is not counted: a body shorter than {@code minLength}
     * characters, or no text once normalised (an encrypted message, a reaction, a redaction: all of
     * them would share the fingerprint of the empty text).
     */
    int roomsWithin(Duration window, int minLength) {
        if (length < minLength || text.isEmpty()) {
            return 0;
        }
        return sending.map(sent -> sent.recent().roomsWithin(userId, fingerprint(text), sent.roomId(), window))
                .orElse(0);
    }

    /** A 64-bit FNV-1a hash: a collision could only merge two texts of the same sender. */
    static long fingerprint(String text) {
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < text.length(); i++) {
            hash = (hash ^ text.charAt(i)) * 0x100000001b3L;
        }
        return hash;
    }
}
