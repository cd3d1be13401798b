package dev.matrixpolicy.gateway.modules.contentrules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * Where an event's content holds text a client shows: one reading, shared by what the rules scan
 * ({@link ContentRules}) and what {@code repeated} counts ({@link Subject}).
 *
 * <p>Extensible texts (MSC1767) come in two shapes: the stable {@code m.text}, a list of
 * {@code {"body": ..., "mimetype": ...}} representations of one text (HTML ones read as HTML), and
 * the unstable {@code org.matrix.msc1767.text}, a single string; each key is read in either shape,
 * and so are {@code m.message} and {@code org.matrix.msc1767.message}, which matrix-js-sdk reads
 * too, with {@code m.html} and {@code org.matrix.msc1767.html}, a string of HTML.
 */
final class EventTexts {

    /** One text of an event: what it holds, whether that is HTML, and whether it is a reply's (whose fallback clients hide). */
    record Text(String source, boolean html, boolean ofAReply) {
        Text(String source, boolean html) {
            this(source, html, false);
        }

        RawText addTo(RawText raw) {
            return !html ? raw.add(source) : ofAReply ? raw.addReplyHtml(source) : raw.addHtml(source);
        }

        /**
         * Its length in code points, as a person counts characters: of the text an HTML one shows,
         * worked out only when {@code measured} (a pass over the whole of it), else 0.
         */
        int length(boolean measured) {
            return !html ? source.codePointCount(0, source.length()) : measured ? RawText.shownLength(source, ofAReply) : 0;
        }
    }

    /**
     * The keys of an extensible text, stable and unstable, as matrix-js-sdk reads them: MSC1767's text
     * and message (each a string or a list of representations) and its HTML (a string, read as HTML).
     */
    private static final List<String> TEXT_KEYS = List.of("m.text", "org.matrix.msc1767.text", "m.message",
            "org.matrix.msc1767.message");
    private static final List<String> HTML_KEYS = List.of("m.html", "org.matrix.msc1767.html");

    /** A poll's block: stable, unstable, and an earlier draft's stable name (MSC3381). */
    private static final List<String> POLL_KEYS = List.of("m.poll", "org.matrix.msc3381.poll.start", "m.poll.start");

    /** How many answers of a poll clients show: MSC3381 truncates the list to 20, so padding past them is not read. */
    static final int POLL_ANSWERS = 20;

    private EventTexts() {
    }

    /**
     * A message's texts: its {@code body} (plain) and {@code formatted_body} (HTML); a file's
     * {@code filename}; its extensible text, the fallback of a poll and of extensible
     * events; and a poll's question and answers, which a poll start event ({@code m.poll.start},
     * {@code org.matrix.msc3381.poll.start}) carries instead of a body.
     */
    static List<Text> ofMessage(JsonNode content) {
        List<Text> texts = new ArrayList<>();
        boolean reply = isReply(content);
        if (content.path("body").isString()) {
            String body = content.path("body").stringValue();
            texts.add(new Text(reply ? withoutReplyFallback(body) : body, false));
        }
        if (content.path("formatted_body").isString()) {
            texts.add(new Text(content.path("formatted_body").stringValue(), true, reply));
        }
        if (content.path("filename").isString()) { // a file's name, which clients show beside its caption or in its place
            texts.add(new Text(content.path("filename").stringValue(), false));
        }

        addExtensible(content, texts);
        for (String key : POLL_KEYS) {
            JsonNode poll = content.path(key);
            if (poll.isObject()) {
                addExtensible(poll.path("question"), texts);
                JsonNode answers = poll.path("answers");
                for (int i = 0; answers.isArray() && i < Math.min(answers.size(), POLL_ANSWERS); i++) {
                    addExtensible(answers.get(i), texts);
                }
            }
        }
        return texts;
    }

    /**
     * Whether clients show the content as a reply, and so strip its fallback: {@code m.in_reply_to}
     * names the event replied to, as Element asks ({@code getParentEventId}, the event's
     * {@code replyEventId}). An {@code m.in_reply_to} without an {@code event_id} makes no reply:
     * Element shows the quoted lines and the {@code <mx-reply>}'s text, so they are read.
     */
    private static boolean isReply(JsonNode content) {
        JsonNode eventId = content.path("m.relates_to").path("m.in_reply_to").path("event_id");
        return eventId.isString() && !eventId.stringValue().isEmpty();
    }

    /**
     * A reply's body without the fallback clients hide (the spec's stripping of reply fallbacks, as
     * Element does it): the leading lines that start with {@code "> "}, quoting the message replied to,
     * and the blank line after them. The fallback's {@code <mx-reply>} in a reply's formatted body is
     * not read either ({@link RawText#addReplyHtml}).
     */
    static String withoutReplyFallback(String body) {
        int start = 0;
        while (body.startsWith("> ", start)) {
            int newLine = body.indexOf('\n', start);
            start = newLine < 0 ? body.length() : newLine + 1;
        }
        return start > 0 && body.startsWith("\n", start) ? body.substring(start + 1) : body.substring(start);
    }

    /** A reaction's text: its key, which clients show under the message it annotates; none for any other relation. */
    static List<Text> ofReaction(JsonNode content) {
        JsonNode relation = content.path("m.relates_to");
        return relation.path("rel_type").asString("").equals("m.annotation") && relation.path("key").isString()
                ? List.of(new Text(relation.path("key").stringValue(), false)) : List.of();
    }

    /**
     * A membership's texts: the member's {@code displayname} and the {@code reason} given for it, and
     * an invite's by e-mail or phone the {@code display_name} of its {@code third_party_invite} (the
     * invited address as the inviter's client shows it), all plain.
     */
    static List<Text> ofMembership(JsonNode content) {
        List<Text> texts = new ArrayList<>();
        addPlain(content, List.of("displayname", "reason"), texts);
        addPlain(content.path("third_party_invite"), List.of("display_name"), texts);
        return texts;
    }

    /**
     * The state event types whose content clients show as a label, and the keys (paths, for a nested
     * one) that hold it: an invite by e-mail or phone ({@code display_name}, in the room's timeline
     * as whom the invite is for), a live location's {@code description} (MSC3489, stable and
     * unstable), a widget's {@code name} and {@code data.title} (Element's room widgets).
     */
    private static final Map<String, List<List<String>>> LABELS = Map.of(
            "m.room.third_party_invite", List.of(List.of("display_name")),
            "m.beacon_info", List.of(List.of("description")),
            "org.matrix.msc3672.beacon_info", List.of(List.of("description")),
            "im.vector.modular.widgets", List.of(List.of("name"), List.of("data", "title")),
            "m.widget", List.of(List.of("name"), List.of("data", "title")));

    /**
     * The labels a state event of one of the {@link #LABELS} types shows, plain texts; empty for any
     * other type (an event with no labels of a labelled type gives an empty list).
     */
    static Optional<List<Text>> ofLabelledState(String type, JsonNode content) {
        List<List<String>> paths = LABELS.get(type);
        if (paths == null) {
            return Optional.empty();
        }
        List<Text> texts = new ArrayList<>();
        for (List<String> path : paths) {
            JsonNode label = content;
            for (String key : path) {
                label = label.path(key);
            }
            if (label.isString()) {
                texts.add(new Text(label.stringValue(), false));
            }
        }
        return Optional.of(texts);
    }

    /** The plain texts {@code holder} has under {@code keys}. */
    private static void addPlain(JsonNode holder, List<String> keys, List<Text> texts) {
        for (String key : keys) {
            if (holder.path(key).isString()) {
                texts.add(new Text(holder.path(key).stringValue(), false));
            }
        }
    }

    /** A room topic's {@code m.topic} block: an object holding {@code m.text}, or such a list itself. */
    static List<Text> ofTopicBlock(JsonNode block) {
        List<Text> texts = new ArrayList<>();
        if (block.isArray()) {
            addRepresentations(block, texts);
        } else {
            addExtensible(block, texts);
        }
        return texts;
    }

    /** The extensible texts an object holds, under each of {@link #TEXT_KEYS}, a string or a list, and {@link #HTML_KEYS}. */
    private static void addExtensible(JsonNode holder, List<Text> texts) {
        for (String key : TEXT_KEYS) {
            JsonNode text = holder.path(key);
            if (text.isString()) {
                texts.add(new Text(text.stringValue(), false));
            } else {
                addRepresentations(text, texts);
            }
        }
        for (String key : HTML_KEYS) {
            if (holder.path(key).isString()) {
                texts.add(new Text(holder.path(key).stringValue(), true));
            }
        }
    }

    /**
     * A list of {@code {"body": ..., "mimetype": ...}}, representations of one text of which a client
     * shows the first it can render (MSC1767): the first plain one (no mimetype is {@code text/plain})
     * and the first HTML one, read as HTML. The others no client shows, and read they would take shares
     * of {@code max-scanned-length} from the shown ones: a sender could pad a long text out of the scan.
     */
    private static void addRepresentations(JsonNode list, List<Text> texts) {
        boolean plain = false;
        boolean html = false;
        for (JsonNode text : list.isArray() ? list : List.<JsonNode>of()) {
            if (!text.path("body").isString()) {
                continue;
            }
            String mimetype = text.path("mimetype").isString() ? text.path("mimetype").stringValue() : "text/plain";
            if (mimetype.equals("text/plain") && !plain) {
                plain = true;
                texts.add(new Text(text.path("body").stringValue(), false));
            } else if (mimetype.equals("text/html") && !html) {
                html = true;
                texts.add(new Text(text.path("body").stringValue(), true));
            }
        }
    }
}
