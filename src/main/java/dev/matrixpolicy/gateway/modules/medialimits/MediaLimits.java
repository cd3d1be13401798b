package dev.matrixpolicy.gateway.modules.medialimits;

import dev.matrixpolicy.gateway.callbacks.MediaUploadLimit;
import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaConfigForUser;
import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaUploadLimitsForUser;
import dev.matrixpolicy.gateway.callbacks.media_repository.IsUserAllowedToUploadMediaOfSize;
import dev.matrixpolicy.gateway.callbacks.media_repository.OnMediaUploadLimitExceeded;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A {@code media_limits} instance: each user gets the media policy of the first group that lists
 * them; a user no group lists, or a setting their group leaves out, falls through to the next module.
 */
final class MediaLimits implements PolicyModule, GetMediaConfigForUser, IsUserAllowedToUploadMediaOfSize,
        GetMediaUploadLimitsForUser, OnMediaUploadLimitExceeded {
    private static final Logger log = LoggerFactory.getLogger(MediaLimits.class);

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

    /**
     * @param exceededUngrouped counts refused uploads of users no group lists (Synapse's own limits refused them)
     */
    MediaLimits(String instanceName, List<Group> groups, Counter exceededUngrouped) {
        this.instanceName = instanceName;
        this.groups = List.copyOf(groups);
        this.exceededUngrouped = exceededUngrouped;
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

    @Override
    public void onMediaUploadLimitExceeded(OnMediaUploadLimitExceeded.Args args) {
        Optional<Group> group = groupOf(args.userId());
        group.map(Group::exceeded).orElse(exceededUngrouped).increment();
        MediaUploadLimit limit = args.limit();
        log.info("{}: {} ({}) reached the upload limit of {} bytes per {}: {} bytes sent in the period, {} more refused",
                instanceName, args.userId(), group.map(g -> "group " + g.name()).orElse("no group"),
                limit.maxBytes(), limit.timePeriod(), args.sentBytes(), args.attemptedBytes());
    }

    @Override
    public boolean mayBlock() {
        return false; // in-memory lookups only
    }
}
