package dev.matrixpolicy.gateway.modules.medialimits;

import dev.matrixpolicy.gateway.callbacks.MediaUploadLimit;
import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaConfigForUser;
import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaUploadLimitsForUser;
import dev.matrixpolicy.gateway.callbacks.media_repository.IsUserAllowedToUploadMediaOfSize;
import dev.matrixpolicy.gateway.callbacks.media_repository.OnMediaUploadLimitExceeded;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.state.Bucket;
import dev.matrixpolicy.gateway.state.MemoryState;
import dev.matrixpolicy.gateway.state.Take;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import tools.jackson.databind.node.ObjectNode;

/**
 * A {@code media_limits} instance: each user gets the media policy of the first group that lists
 * them; a user no group lists, or a setting their group leaves out, falls through to the next module.
 */
final class MediaLimits implements PolicyModule, GetMediaConfigForUser, IsUserAllowedToUploadMediaOfSize,
        GetMediaUploadLimitsForUser, OnMediaUploadLimitExceeded {
    private static final Logger log = LoggerFactory.getLogger(MediaLimits.class);
    /**
     * The shortest time between two INFO lines of one user and limit: Synapse sends a limit of
     * {@code time_period: 0s} as configured, and a user refused by it may try again at once.
     */
    static final Duration SHORTEST_NOTICE = Duration.ofMinutes(1);
    /** What the record of noticed users may take: some 4,000 users of the longest IDs, more of shorter ones. */
    static final long NOTICED_BYTES = 2L << 20;

    /**
     * One group, compiled.
     *
     * @param mediaConfig the media config answered to its users: {@code m.upload.size} and the configured keys
     * @param exceeded counts the uploads Synapse refused because they would exceed this group's limits
     */
    record Group(String name, UserIdMatcher users, OptionalLong maxUploadSize, Optional<ObjectNode> mediaConfig,
                 Optional<List<MediaUploadLimit>> uploadLimits, Counter exceeded) {
    }

    private final String instanceName;
    private final List<Group> groups;
    private final Counter exceededUngrouped;
    /** The users whose refusal under a limit was logged at INFO in its period: one line each, not one per upload. */
    private final MemoryState noticed;

    /**
     * @param exceededUngrouped counts refused uploads of users no group lists (Synapse's own limits refused them)
     * @param ticker            a monotonic time in nanoseconds ({@link System#nanoTime()})
     */
    MediaLimits(String instanceName, List<Group> groups, Counter exceededUngrouped, LongSupplier ticker) {
        this.instanceName = instanceName;
        this.groups = List.copyOf(groups);
        this.exceededUngrouped = exceededUngrouped;
        this.noticed = new MemoryState(ticker, NOTICED_BYTES);
    }

    /** The first group that lists the user. */
    Optional<Group> groupOf(String userId) {
        for (Group group : groups) {
            if (group.users().matches(userId)) {
                return Optional.of(group);
            }
        }
        return Optional.empty();
    }

    @Override
    public Optional<ObjectNode> getMediaConfigForUser(GetMediaConfigForUser.Args args) {
        return groupOf(args.userId()).flatMap(Group::mediaConfig).map(ObjectNode::deepCopy);
    }

    @Override
    public boolean isUserAllowedToUploadMediaOfSize(IsUserAllowedToUploadMediaOfSize.Args args) {
        OptionalLong max = groupOf(args.userId()).map(Group::maxUploadSize).orElse(OptionalLong.empty());
        return max.isEmpty() || args.size() <= max.getAsLong();
    }

    @Override
    public Optional<List<MediaUploadLimit>> getMediaUploadLimitsForUser(GetMediaUploadLimitsForUser.Args args) {
        return groupOf(args.userId()).flatMap(Group::uploadLimits);
    }

    /**
     * Counts every refusal, and logs the first of a user under a limit at INFO, the rest of its period
     * (a minute at least) at DEBUG: once over a limit, a user's every upload is refused with a 400 until
     * the period frees room, and a client retrying, or a user uploading a byte at a time, would
     * otherwise write a line per request.
     */
    @Override
    public void onMediaUploadLimitExceeded(OnMediaUploadLimitExceeded.Args args) {
        Optional<Group> group = groupOf(args.userId());
        group.map(Group::exceeded).orElse(exceededUngrouped).increment();
        MediaUploadLimit limit = args.limit();
        Duration period = limit.timePeriod().compareTo(SHORTEST_NOTICE) < 0 ? SHORTEST_NOTICE : limit.timePeriod();
        String userAndLimit = MatrixIds.keptForm(args.userId()) + " " + limit.maxBytes() + "/" + limit.timePeriodMs();
        boolean first = noticed.take(userAndLimit, new Bucket(1, period)) == Take.ALLOWED;
        log.atLevel(first ? Level.INFO : Level.DEBUG).log(
                "{}: {} ({}) reached the upload limit of {} bytes per {}: {} bytes sent in the period, {} more refused", instanceName, LogText.escaped(args.userId()), group.map(g -> "group " + g.name()).orElse("no group"),
                limit.maxBytes(), limit.timePeriod(), args.sentBytes(), args.attemptedBytes());
    }

    /** What the record of noticed users is estimated to take, for tests. */
    long noticedBytes() {
        return noticed.estimatedBytes();
    }

    @Override
    public boolean mayBlock() {
        return false; // in-memory lookups only
    }

    @Override
    public void close() {
        noticed.close();
    }
}
