package dev.matrixpolicy.gateway.modules.contentrules;

import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.spam_checker.MediaFile;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.modules.contentrules.Subject.Target;
import io.micrometer.core.instrument.Counter;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * One configured rule, compiled: its checks, who is exempt, and what a refusal says. A check that is
 * not configured never matches; each check applies to some {@linkplain Target targets} only:
 * <ul>
 *   <li>{@code keywords}, {@code phrases}, {@code regexes}, {@code links}: every text, a membership's display name and reason too;</li>
 *   <li>{@code max-length}: messages (their longest text) and room names and topics;</li>
 *   <li>{@code mentions}, {@code repeated}: messages;</li>
 *   <li>{@code media}: media files.</li>
 * </ul>
 */
final class ContentRule {

    /** The checks of a rule that reads text; all but {@code index} and {@code hasText} optional. */
    record TextChecks(int index, boolean hasText, Optional<Integer> maxUsers, boolean roomMentions,
                      Set<String> allowedDomains, Set<String> allowedAsciiDomains, Set<String> deniedDomains, Optional<Integer> maxLinks,
                      Optional<Integer> maxLength, Optional<ContentRulesConfig.Repeated> repeated) {
        boolean any() {
            return hasText || maxUsers.isPresent() || !roomMentions || !allowedDomains.isEmpty() || !deniedDomains.isEmpty()
                    || maxLinks.isPresent() || maxLength.isPresent() || repeated.isPresent();
        }
    }

    /** The checks on media files. */
    record MediaChecks(Optional<MediaHashes> hashes, List<String> allowedTypes) {
    }

    final String name;
    final Rejection rejection;
    private final Optional<UserIdMatcher> exempt;
    private final TextChecks text;
    private final Optional<MediaChecks> media;
    private final Set<Target> targets;
    private final Counter matches;

    /** Whether the rule reads a message's length ({@code max-length}, or {@code repeated}'s {@code min-length}). */
    boolean readsLength() {
        return text.maxLength().isPresent() || text.repeated().isPresent();
    }

    ContentRule(String name, Rejection rejection, Optional<UserIdMatcher> exempt, TextChecks text,
                Optional<MediaChecks> media, Counter matches) {
        this.name = name;
        this.rejection = rejection;
        this.exempt = exempt;
        this.text = text;
        this.media = media;
        this.matches = matches;
        Set<Target> applies = EnumSet.noneOf(Target.class);
        if (text.hasText() || !text.allowedDomains().isEmpty() || !text.deniedDomains().isEmpty() || text.maxLinks().isPresent()) {
            applies.addAll(EnumSet.allOf(Target.class));
        }
        if (text.maxLength().isPresent()) {
            applies.addAll(EnumSet.of(Target.MESSAGE, Target.STATE));
        }
        if (text.maxUsers().isPresent() || !text.roomMentions() || text.repeated().isPresent()) {
            applies.add(Target.MESSAGE);
        }
        this.targets = Set.copyOf(applies);
    }

    boolean appliesTo(Target target) {
        return targets.contains(target);
    }

    boolean checksMedia() {
        return media.isPresent();
    }

    /** Whether the rule has a {@code repeated} check, the one check that reads and writes the shared state. */
    boolean countsRepeats() {
        return text.repeated().isPresent();
    }

    /** The check that refuses the subject, e.g. {@code keywords}; empty when none does or the user is exempt. */
    Optional<String> refusal(Subject subject) {
        if (!appliesTo(subject.target) || exempt.filter(users -> users.matches(subject.userId)).isPresent()) {
            return Optional.empty();
        }
        return firstMatch(subject);
    }

    /** The check that refuses the file, {@code media.hashes} or {@code media.allowed-types}; empty when none does. */
    Optional<String> refusal(MediaFile file) {
        if (media.isEmpty()) {
            return Optional.empty();
        }
        MediaChecks checks = media.get();
        if (checks.hashes().filter(hashes -> hashes.contains(file.sha256())).isPresent()) {
            return Optional.of("media.hashes");
        }
        if (!checks.allowedTypes().isEmpty() && !file.mediaType().map(type -> typeAllowed(type, checks.allowedTypes())).orElse(false)) {
            return Optional.of("media.allowed-types");
        }
        return Optional.empty();
    }

    /** Counts a match of this rule: a refusal (or, under {@code mode: shadow}, one it would have been). */
    void matched() {
        matches.increment();
    }

    private Optional<String> firstMatch(Subject subject) {
        Target target = subject.target;
        if (text.maxLength().isPresent() && target != Target.PROFILE && subject.length > text.maxLength().get()) {
            return Optional.of("max-length");
        }
        if (target == Target.MESSAGE && (text.maxUsers().isPresent() || !text.roomMentions())) {
            Mentions mentions = subject.mentions();
            if (text.maxUsers().filter(max -> mentions.users() > max).isPresent()) {
                return Optional.of("mentions.max-users");
            }
            if (!text.roomMentions() && mentions.room()) {
                return Optional.of("mentions.room");
            }
        }
        if (text.hasText() && subject.textMatches(text.index())) {
            return Optional.of("text");
        }
        Optional<String> links = links(subject);
        if (links.isPresent()) {
            return links;
        }
        if (target == Target.MESSAGE && text.repeated()
                .filter(repeated -> subject.roomsWithin(repeated.window(), repeated.minLength()) > repeated.maxRooms()).isPresent()) {
            return Optional.of("repeated");
        }
        return Optional.empty();
    }

    private Optional<String> links(Subject subject) {
        if (text.maxLinks().isEmpty() && text.allowedDomains().isEmpty() && text.deniedDomains().isEmpty()) {
            return Optional.empty();
        }
        Links links = subject.links();
        if (text.maxLinks().filter(max -> links.urls().size() > max).isPresent()) {
            return Optional.of("links.max-count");
        }
        for (String name : links.names()) { // a denied domain's name written bare is refused, link to clients or not
            if (inDomains(name, text.deniedDomains())) {
                return Optional.of("links.denied-domains");
            }
        }
        for (String host : links.hosts()) {
            if (inDomains(host, text.deniedDomains())) {
                return Optional.of("links.denied-domains");
            }
            if (!text.allowedDomains().isEmpty() && !inDomains(host, text.allowedDomains())) {
                return Optional.of("links.allowed-domains");
            }
        }
        // folded, a look-alike of an allowed domain is that domain: the host a browser opens must be allowed too
        if (!text.allowedDomains().isEmpty()
                && !subject.asciiHosts().stream().allMatch(host -> inDomains(host, text.allowedAsciiDomains()))) {
            return Optional.of("links.allowed-domains");
        }
        return Optional.empty();
    }

    /** Whether the host is one of the domains or under one of them. */
    static boolean inDomains(String host, Set<String> domains) {
        if (domains.isEmpty()) {
            return false;
        }
        for (int dot = -1; ; dot = host.indexOf('.', dot + 1)) {
            if (domains.contains(host.substring(dot + 1))) {
                return true;
            }
            if (host.indexOf('.', dot + 1) < 0) {
                return false;
            }
        }
    }

    /** {@code image/png; charset=x} against {@code image/png} or {@code image/*}, ignoring case. */
    static boolean typeAllowed(String mediaType, List<String> allowed) {
        String type = mediaType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        int slash = type.indexOf('/');
        for (String candidate : allowed) {
            if (candidate.equals(type) || (candidate.endsWith("/*") && slash > 0
                    && candidate.regionMatches(0, type, 0, slash + 1) && candidate.length() == slash + 2)) {
                return true;
            }
        }
        return false;
    }
}
