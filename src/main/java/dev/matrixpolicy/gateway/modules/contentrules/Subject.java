package dev.matrixpolicy.gateway.modules.contentrules;

import dev.matrixpolicy.gateway.state.StateUnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

/**
 * What one callback asks about: who acts, and the normalised text with what each check needs of it,
 * each worked out at most once and only when a rule asks.
 */
final class Subject {

    /** What a subject is; each check applies to some of them. */
    enum Target {
        /** An event's texts: a message's body and formatted body, a poll's ({@code check_event_for_spam}). */
        MESSAGE,
        /** A room name or topic ({@code user_may_send_state_event}, or such an event in {@code check_event_for_spam}). */
        STATE,
        /**
         * A display name or a requested username ({@code check_username_for_spam},
         * {@code check_registration_for_spam}), or a join's, invite's or knock's display name and reason
         * ({@code check_event_for_spam}).
         */
        PROFILE
    }

    /** Where a message was sent, and its content: what {@code repeated} rules need. */
    record Sending(String roomId, RecentMessages recent, JsonNode content) {
    }

    final Target target;
    final String userId;
    final String text;
    /** The text as gathered, before normalisation: what an allow-list's hosts are read from. */
    private final CharSequence raw;
    /** The body's (or name's, topic's) length in code points; -1 when there is none. */
    final int length;
    private final JsonNode mentionsNode;
    private final Optional<Sending> sending;
    private final ContentRules.Reading reading;
    private TextIndex.Hits hits;
    private Links links;
    private Set<String> asciiHosts;
    private Mentions mentions;
    /** The texts {@code repeated} counts, worked out once. */
    private List<String> shown;
    /**
     * The shared state's failure to count, once it has failed for this subject: the later counts of
     * its rules and texts fail at once with it, rather than each waiting out its own timeout on a
     * Redis that is down or slow.
     */
    private StateUnavailableException countFailed;

    Subject(Target target, String userId, CharSequence raw, String text, int length, JsonNode mentionsNode, Optional<Sending> sending,
            ContentRules.Reading reading) {
        this.target = target;
        this.userId = userId;
        this.raw = raw;
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
            Normaliser normaliser = reading.normaliser();
            links = Links.in(normaliser.foldsDigits() ? normaliser.withDigitsAsWritten().normalise(raw) : text,
                    reading.linkLimit(), normaliser);
        }
        return links;
    }

    /** The hosts of the links, unfolded, in IDNA's ASCII form ({@link Links#asciiHosts}), worked out once. */
    Set<String> asciiHosts() {
        if (asciiHosts == null) {
            asciiHosts = Links.asciiHosts(raw, reading.linkLimit());
        }
        return asciiHosts;
    }

    /**
     * Whom the message mentions, read with its digits as written ({@link Normaliser#withDigitsAsWritten}):
     * a user ID names one account, so {@code @b0b:x.org} and {@code @bob:x.org} are two users, and
     * {@code @10:30} stays a time, with {@code fold-leet} too.
     */
    Mentions mentions() {
        if (mentions == null) {
            Normaliser digitsAsWritten = reading.normaliser().withDigitsAsWritten();
            String read = reading.normaliser().foldsDigits() ? digitsAsWritten.normalise(wordsWithAnAt()) : text;
            String body = sending.map(sent -> sent.content().path("body")).filter(JsonNode::isString).map(JsonNode::stringValue).orElse("");
            mentions = Mentions.in(mentionsNode, read, body, reading.mentionLimit(), digitsAsWritten);
        }
        return mentions;
    }

    /** The compatibility forms of {@code @}, which normalisation makes one. */
    private static final char FULLWIDTH_AT = '\uFF20';
    private static final char SMALL_AT = '\uFE6B';

    /**
     * The words of the text that hold an {@code @} (or a compatibility form of it), each with the character before it (an ID starts
     * after no letter or digit), one space apart: all that mentions are read from, so that reading
     * them again costs what those words do, not a second pass over the text.
     */
    private CharSequence wordsWithAnAt() {
        String all = raw.toString();
        StringBuilder words = new StringBuilder();
        for (int at = 0; at < all.length(); at++) {
            char c = all.charAt(at);
            if (c != '@' && c != FULLWIDTH_AT && c != SMALL_AT) {
                continue;
            }
            int end = at + 1;
            while (end < all.length() && !Normaliser.isSpace(all.charAt(end))) {
                end++;
            }
            words.append(all, at > 0 ? at - 1 : at, end).append(' ');
            at = end;
        }
        return words;
    }

    /**
     * In how many rooms the sender sent this text within the window, this one included. 0, and nothing
     * recorded, when it was not sent to a room or is not counted: a body shorter than {@code minLength}
     * characters, or no text once normalised (an encrypted message, a reaction, a redaction: all of
     * them would share the fingerprint of the empty text).
     */
    int roomsWithin(Duration window, int minLength) {
        if (length < minLength || text.isEmpty() || sending.isEmpty()) {
            return 0;
        }
        Sending sent = sending.get();
        if (shown == null) {
            JsonNode content = sent.content();
            List<EventTexts.Text> texts = EventTexts.ofMessage(content);
            // a message of one text alone (most are: a body) shows the text already read: nothing is read again
            boolean oneText = texts.size() == 1 && !content.path("m.new_content").isObject();
            shown = oneText ? List.of(text) : shownTexts(content, texts).distinct().toList();
        }
        if (countFailed != null) {
            throw countFailed;
        }
        int rooms = 0;
        try {
            for (String shownText : shown) {
                // each text long enough on its own: a bridge's constant fallback body is not the message
                if (shownText.codePointCount(0, shownText.length()) >= minLength) {
                    rooms = Math.max(rooms, sent.recent().roomsWithin(userId, fingerprint(shownText), sent.roomId(), window));
                }
            }
        } catch (StateUnavailableException failed) {
            countFailed = failed;
            throw failed;
        }
        return rooms;
    }

    /**
     * The texts a message shows ({@link EventTexts#ofMessage}), normalised, each counted on its own:
     * its body (what notifications and clients without HTML show), its formatted body's text (what
     * the others show), a poll's question and answers, and an edit's new content's texts (what
     * clients that apply edits show; the others show the edit's own). Counted together, a sender
     * could vary the one that a reader of the other never sees, and make each room's copy look new.
     * A text shorter than the rule's {@code min-length} is not counted, whatever the other is.
     */
    private Stream<String> shownTexts(JsonNode content, List<EventTexts.Text> texts) {
        Stream<EventTexts.Text> all = isEdit(content)
                ? Stream.concat(texts.stream(), EventTexts.ofMessage(content.get("m.new_content")).stream())
                : texts.stream();
        return all.map(shownText -> normalised(shownText.addTo(new RawText(reading.maxScannedLength()))))
                .filter(shownText -> !shownText.isEmpty());
    }

    /**
     * Whether clients show this message as an edit of another: {@code m.new_content} with the
     * {@code m.replace} relation, as the spec defines an edit. Without the relation clients show the
     * message's own body, whatever {@code m.new_content} holds.
     */
    private static boolean isEdit(JsonNode content) {
        JsonNode relation = content.path("m.relates_to").path("rel_type");
        return content.path("m.new_content").isObject() && relation.isString() && relation.stringValue().equals("m.replace");
    }

    private String normalised(RawText raw) {
        return reading.normaliser().normalise(raw.text());
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
