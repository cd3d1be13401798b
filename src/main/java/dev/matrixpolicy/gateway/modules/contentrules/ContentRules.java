package dev.matrixpolicy.gateway.modules.contentrules;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.ClientEvent;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckMediaFileForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckRegistrationForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckUsernameForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySendStateEvent;
import dev.matrixpolicy.gateway.chain.DryRun;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.module.ListSource;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.modules.contentrules.Subject.Target;
import dev.matrixpolicy.gateway.state.StateUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * A {@code content_rules} instance: refuses messages (polls too), room names and topics, display names, usernames
 * and media files by its rules, the first matching rule deciding. The rules match in memory, so calls
 * run inline, unless a {@code repeated} rule counts in Redis: then each message waits on the network
 * and the entry's {@code timeout} bounds it. Reading media hash lists happens on their own threads.
 */
final class ContentRules implements PolicyModule, CheckEventForSpam, UserMaySendStateEvent, CheckUsernameForSpam,
        CheckRegistrationForSpam, CheckMediaFileForSpam {
    private static final Logger log = LoggerFactory.getLogger(ContentRules.class);

    /** The memberships whose texts are read: those a user enters a room by, never one that leaves it. */
    private static final Set<String> READ_MEMBERSHIPS = Set.of("join", "invite", "knock");

    /** The callbacks this module can take part in. */
    static final List<CallbackType<?, ?, ?>> SUPPORTED = List.of(CheckEventForSpam.TYPE, UserMaySendStateEvent.TYPE,
            CheckUsernameForSpam.TYPE, CheckRegistrationForSpam.TYPE, CheckMediaFileForSpam.TYPE);

    /**
     * How text is gathered and read.
     *
     * @param maxScannedLength the cap of {@link RawText}
     * @param mentionLimit     past how many mentioned users counting stops: the highest {@code max-users}
     * @param linkLimit        past how many links collecting stops: the highest {@code max-count}, at least 1,000
     */
    record Reading(Normaliser normaliser, TextIndex index, int maxScannedLength, int mentionLimit, int linkLimit) {
    }

    private final String instance;
    private final String serverName;
    private final List<ContentRule> rules;
    private final Set<CallbackType<?, ?, ?>> enabled;
    private final Reading reading;
    private final RecentMessages recent;
    private final List<AutoCloseable> resources;
    /** Whether any rule reads a message's length: only then is a formatted body's shown text measured whole. */
    private final boolean lengthRead;

    ContentRules(String instance, String serverName, List<ContentRule> rules, Set<CallbackType<?, ?, ?>> enabled,
                 Reading reading, RecentMessages recent, List<AutoCloseable> resources) {
        this.instance = instance;
        this.serverName = serverName;
        this.rules = List.copyOf(rules);
        this.enabled = Set.copyOf(enabled);
        this.reading = reading;
        this.recent = recent;
        this.resources = List.copyOf(resources);
        this.lengthRead = rules.stream().anyMatch(ContentRule::readsLength);
    }

    @Override
    public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
        boolean used = enabled.contains(callback) && rules.stream().anyMatch(rule -> switch (callback.name()) {
            case "check_event_for_spam" -> rule.appliesTo(Target.MESSAGE) || rule.appliesTo(Target.STATE) || rule.appliesTo(Target.PROFILE);
            case "user_may_send_state_event" -> rule.appliesTo(Target.STATE);
            case "check_media_file_for_spam" -> rule.checksMedia();
            default -> rule.appliesTo(Target.PROFILE);
        });
        return used ? PolicyModule.super.implementation(callback) : Optional.empty();
    }

    @Override
    public boolean mayBlock() {
        return recent.remote() && rules.stream().anyMatch(ContentRule::countsRepeats);
    }

    // ---- the callbacks

    @Override
    public SpamVerdict checkEventForSpam(CheckEventForSpam.Args args) {
        ClientEvent event = args.event();
        JsonNode content = event.content();
        if (event.type().equals("m.room.member") && event.stateKey().isPresent()) {
            return membership(event.sender(), content);
        }
        if (event.type().equals("m.reaction")) {
            return textChecksOnly(CheckEventForSpam.TYPE, event.sender(), EventTexts.ofReaction(content));
        }
        if (event.stateKey().isPresent()) {
            Optional<String> stateField = stateField(event.type());
            if (stateField.isPresent()) {
                return state(CheckEventForSpam.TYPE, event.sender(), content, stateField.get());
            }
            Optional<List<EventTexts.Text>> labels = EventTexts.ofLabelledState(event.type(), content);
            if (labels.isPresent()) {
                return textChecksOnly(CheckEventForSpam.TYPE, event.sender(), labels.get());
            }
        }
        RawText raw = new RawText(reading.maxScannedLength());
        JsonNode edited = content.path("m.new_content");
        int length = Math.max(addMessage(raw, content, lengthRead), edited.isObject() ? addMessage(raw, edited, lengthRead) : -1);
        JsonNode mentions = content.path("m.mentions").isObject() ? content.get("m.mentions") : edited.path("m.mentions");
        Subject.Sending sending = new Subject.Sending(event.roomId(), recent, content);
        return verdict(CheckEventForSpam.TYPE, subject(Target.MESSAGE, event.sender(), raw, length, mentions, Optional.of(sending)));
    }

    @Override
    public SpamVerdict userMaySendStateEvent(UserMaySendStateEvent.Args args) {
        Optional<String> stateField = stateField(args.eventType());
        if (stateField.isPresent()) {
            return state(UserMaySendStateEvent.TYPE, args.userId(), args.content(), stateField.get());
        }
        return EventTexts.ofLabelledState(args.eventType(), args.content())
                .map(labels -> textChecksOnly(UserMaySendStateEvent.TYPE, args.userId(), labels))
                .orElse(SpamVerdict.NOT_SPAM);
    }

    @Override
    public Boolean checkUsernameForSpam(CheckUsernameForSpam.Args args) {
        return args.userProfile().displayName()
                .map(name -> refused(CheckUsernameForSpam.TYPE, profile(args.userProfile().userId(), name)).isPresent())
                .orElse(false);
    }

    @Override
    public RegistrationBehaviour checkRegistrationForSpam(CheckRegistrationForSpam.Args args) {
        return args.username()
                .flatMap(username -> refused(CheckRegistrationForSpam.TYPE, profile("@" + username + ":" + serverName, username)))
                .map(rule -> RegistrationBehaviour.DENY)
                .orElse(RegistrationBehaviour.ALLOW);
    }

    @Override
    public SpamVerdict checkMediaFileForSpam(CheckMediaFileForSpam.Args args) {
        for (ContentRule rule : rules) {
            Optional<String> check = rule.refusal(args.file());
            if (check.isPresent()) {
                matched(rule, check.get(), CheckMediaFileForSpam.TYPE, "file " + args.file().sha256());
                return rule.rejection;
            }
        }
        return SpamVerdict.NOT_SPAM;
    }

    @Override
    public List<ListSource> listSources() {
        return List.copyOf(mediaHashes());
    }

    /** The media hash lists, to reload in tests without waiting. */
    List<MediaHashes> mediaHashes() {
        return resources.stream().filter(MediaHashes.class::isInstance).map(MediaHashes.class::cast).toList();
    }

    @Override
    public void close() {
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception failed) {
                log.warn("{}: closing {} failed: {}", instance, resource, failed.toString());
            }
        }
    }

    // ---- deciding

    private static Optional<String> stateField(String eventType) {
        return switch (eventType) {
            case "m.room.name" -> Optional.of("name");
            case "m.room.topic" -> Optional.of("topic");
            default -> Optional.empty();
        };
    }

    /**
     * Adds a message content's texts ({@link EventTexts#ofMessage}); answers its length in code points:
     * its longest text's, an HTML one's being the text it shows (clients may show it instead of the
     * body), measured only when {@code measured} (a pass over the whole of it); -1 without any text.
     */
    private static int addMessage(RawText raw, JsonNode content, boolean measured) {
        return add(raw, EventTexts.ofMessage(content), measured);
    }

    /** Adds the texts; answers the longest one's length, or -1 without any. */
    private static int add(RawText raw, List<EventTexts.Text> texts, boolean measured) {
        int length = -1;
        for (EventTexts.Text text : texts) {
            text.addTo(raw);
            length = Math.max(length, text.length(measured));
        }
        return length;
    }

    /**
     * A join, invite or knock: its display name and reason, read as a display name is (a
     * {@link Target#PROFILE}: the text checks only, never {@code repeated}, since a display name is the
     * same in every room its user joins, nor {@code max-length}). Any other membership is never
     * refused: Synapse soft-fails a federated event refused as spam, so a refused leave would keep
     * its user joined as this server sees the room, and a kick's or ban's reason is a moderator's.
     */
    private SpamVerdict membership(String sender, JsonNode content) {
        JsonNode membership = content.path("membership");
        if (!membership.isString() || !READ_MEMBERSHIPS.contains(membership.stringValue())) {
            return SpamVerdict.NOT_SPAM;
        }
        return textChecksOnly(CheckEventForSpam.TYPE, sender, EventTexts.ofMembership(content));
    }

    /**
     * Texts read as a display name is ({@link Target#PROFILE}): the text checks only, never
     * {@code repeated} (a name is the same in every room its user joins; the same reaction in many rooms
     * is no copied message; a label is set once, not sent) nor {@code max-length} or {@code mentions}.
     */
    private SpamVerdict textChecksOnly(CallbackType<?, ?, ?> callback, String sender, List<EventTexts.Text> texts) {
        RawText raw = new RawText(reading.maxScannedLength());
        if (add(raw, texts, false) < 0) {
            return SpamVerdict.NOT_SPAM;
        }
        return verdict(callback, subject(Target.PROFILE, sender, raw, -1, null, Optional.empty()));
    }

    /**
     * A room name or topic: the field's text, and for a topic the texts of its {@code m.topic} block
     * too (the spec's extensible form, {@code {"m.text": [{"body": ..., "mimetype": ...}]}}, or a
     * list of such texts), which clients show in its place.
     */
    private SpamVerdict state(CallbackType<?, ?, ?> callback, String userId, JsonNode content, String field) {
        List<EventTexts.Text> texts = new ArrayList<>();
        if (content.path(field).isString()) {
            texts.add(new EventTexts.Text(content.path(field).stringValue(), false));
        }
        if (field.equals("topic")) {
            texts.addAll(EventTexts.ofTopicBlock(content.path("m.topic"))); // shown in the topic's place
        }
        RawText raw = new RawText(reading.maxScannedLength());
        int length = add(raw, texts, true);
        if (length < 0) {
            return SpamVerdict.NOT_SPAM;
        }
        return verdict(callback, subject(Target.STATE, userId, raw, length, null, Optional.empty()));
    }

    private Subject profile(String userId, String name) {
        return subject(Target.PROFILE, userId, new RawText(reading.maxScannedLength()).add(name), -1, null, Optional.empty());
    }

    private Subject subject(Target target, String userId, RawText raw, int length, JsonNode mentions,
                            Optional<Subject.Sending> sending) {
        CharSequence gathered = raw.text();
        return new Subject(target, userId, gathered, reading.normaliser().normalise(gathered), length, mentions, sending, reading);
    }

    private SpamVerdict verdict(CallbackType<?, ?, ?> callback, Subject subject) {
        return refused(callback, subject).<SpamVerdict>map(rule -> rule.rejection).orElse(SpamVerdict.NOT_SPAM);
    }

    /**
     * The first rule that refuses the subject, counted and logged. The line says the rule matched, not
     * that the call was refused: under {@code mode: shadow} the gateway answers as if it had not, and
     * its decision log says which.
     *
     * <p>A rule whose {@code repeated} check cannot reach the shared state is passed over, and the rules
     * after it still decide: the failure goes up (to the entry's {@code on-failure}) only when none of
     * them refuses, so that a Redis outage never silences the rules that need no state.
     */
    private Optional<ContentRule> refused(CallbackType<?, ?, ?> callback, Subject subject) {
        StateUnavailableException unavailable = null; // the first failure, kept while later rules decide
        for (ContentRule rule : rules) {
            Optional<String> check;
            try {
                check = rule.refusal(subject);
            } catch (StateUnavailableException failed) {
                unavailable = unavailable == null ? failed : unavailable;
                continue;
            }
            if (check.isPresent()) {
                // a requested username is the client's own text, checked by nothing before this line
                matched(rule, check.get(), callback, LogText.escaped(subject.userId));
                return Optional.of(rule);
            }
        }
        if (unavailable != null) {
            throw unavailable;
        }
        return Optional.empty();
    }

    /**
     * Counts the rule's match and logs its line, except for an explanation ({@link DryRun}): what it
     * shows is no refusal, and a count or a line would read as one.
     */
    private void matched(ContentRule rule, String check, CallbackType<?, ?, ?> callback, String what) {
        if (DryRun.active()) {
            return;
        }
        rule.matched();
        log.info("{}: rule '{}' matched ({}) on {} for {}", instance, rule.name, check, callback.name(), what);
    }
}
