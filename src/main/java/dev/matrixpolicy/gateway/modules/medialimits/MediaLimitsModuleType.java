package dev.matrixpolicy.gateway.modules.medialimits;

import dev.matrixpolicy.gateway.callbacks.MediaUploadLimit;
import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaConfigForUser;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code media_limits}: per-user and per-group media policy for Synapse's media repository
 * callbacks: the media config each user is told, the largest upload, and windowed upload limits.
 */
@Component
class MediaLimitsModuleType extends ModuleType<MediaLimitsConfig> {
    private static final Logger log = LoggerFactory.getLogger(MediaLimitsModuleType.class);
    static final String EXCEEDED_METER = "policy.module.media_limits.exceeded";
    private static final String UPLOAD_SIZE = "m.upload.size";

    MediaLimitsModuleType() {
        super("media_limits", MediaLimitsConfig.class);
    }

    @Override
    public PolicyModule create(MediaLimitsConfig config, ModuleContext context) {
        ConfigValues.requireUniqueNames("groups",
                config.groups().stream().map(MediaLimitsConfig.Group::name).toList(), "groups");
        List<MediaLimits.Group> groups = new ArrayList<>();
        for (int i = 0; i < config.groups().size(); i++) {
            groups.add(compile(config.groups().get(i), "groups[" + i + "]", context));
            warnOfLimitsThatContradict(config.groups().get(i), "groups[" + i + "]", context.instanceName());
        }
        return new MediaLimits(context.instanceName(), groups, exceededCounter(context, ""), System::nanoTime);
    }

    private static MediaLimits.Group compile(MediaLimitsConfig.Group group, String field, ModuleContext context) {
        UserIdMatcher users = ConfigValues.users(field + ".users", group.users());
        if (group.mediaConfig() != null && group.maxUploadSize() == null) {
            throw new ModuleConfigurationException(field + ".media-config", "needs max-upload-size: Synapse answers "
                    + "this map instead of its own media config, so without it the user would not be told m.upload.size");
        }
        OptionalLong maxUploadSize = OptionalLong.empty();
        if (group.maxUploadSize() != null) {
            if (group.maxUploadSize().toBytes() < 1) {
                throw new ModuleConfigurationException(field + ".max-upload-size", "must be at least 1B, got " + ConfigValues.format(group.maxUploadSize()));
            }
            maxUploadSize = OptionalLong.of(group.maxUploadSize().toBytes());
        }
        Optional<List<MediaUploadLimit>> uploadLimits = Optional.ofNullable(group.uploadLimits()).map(limits -> {
            List<MediaUploadLimit> compiled = new ArrayList<>();
            for (int l = 0; l < limits.size(); l++) {
                MediaLimitsConfig.UploadLimit limit = limits.get(l);
                if (limit.max().isNegative()) {
                    throw new ModuleConfigurationException(field + ".upload-limits[" + l + "].max",
                            "must not be negative, got " + ConfigValues.format(limit.max()));
                }
                compiled.add(new MediaUploadLimit(limit.max().toBytes(), limit.per().toMillis()));
            }
            return List.copyOf(compiled);
        });
        if (maxUploadSize.isEmpty() && uploadLimits.isEmpty()) {
            throw new ModuleConfigurationException(field, "group '" + group.name()
                    + "' sets neither max-upload-size nor upload-limits, so it would change nothing");
        }
        Optional<ObjectNode> mediaConfig = maxUploadSize.isPresent()
                ? Optional.of(mediaConfig(group, maxUploadSize.getAsLong(), field)) : Optional.empty();
        return new MediaLimits.Group(group.name(), users, maxUploadSize, mediaConfig, uploadLimits,
                exceededCounter(context, group.name()));
    }

    /**
     * Settings of a group that Synapse reads so that they cannot mean what they say, which may still
     * be meant, so they start, with a warning each. Synapse refuses an upload when the bytes the user
     * uploaded within a limit's period and the new upload's together pass its {@code max}: an upload
     * larger than the smallest {@code max} is always refused, whatever {@code max-upload-size} tells
     * the user's client; and a limit whose period is no longer than another's and whose {@code max}
     * is no lower never refuses what that other lets through.
     */
    private static void warnOfLimitsThatContradict(MediaLimitsConfig.Group group, String field, String instance) {
        List<MediaLimitsConfig.UploadLimit> limits = Optional.ofNullable(group.uploadLimits()).orElse(List.of());
        IntStream.range(0, limits.size()).boxed().min(Comparator.comparingLong(l -> limits.get(l).max().toBytes()))
                .filter(smallest -> group.maxUploadSize() != null
                        && group.maxUploadSize().toBytes() > limits.get(smallest).max().toBytes())
                .ifPresent(smallest -> {
                    String max = ConfigValues.format(limits.get(smallest).max());
                    log.warn("{}: {}.max-upload-size {} is above {}.upload-limits[{}].max {}: every upload over {} is refused"
                                    + " (400 M_RESOURCE_LIMIT_EXCEEDED) while clients are told they may upload {}. Lower"
                                    + " max-upload-size to at most {}, or raise the limit", instance, field,
                            ConfigValues.format(group.maxUploadSize()), field, smallest, max, max,
                            ConfigValues.format(group.maxUploadSize()), max);
                });
        for (int l = 0; l < limits.size(); l++) {
            MediaLimitsConfig.UploadLimit limit = limits.get(l);
            for (int other = 0; other < limits.size(); other++) {
                MediaLimitsConfig.UploadLimit stricter = limits.get(other);
                // of two alike, the later is the one to remove
                boolean alike = stricter.max().equals(limit.max()) && stricter.per().equals(limit.per());
                if (other != l && (!alike || other < l) && stricter.per().compareTo(limit.per()) >= 0
                        && stricter.max().toBytes() <= limit.max().toBytes()) {
                    log.warn("{}: {}.upload-limits[{}] ({} per {}) never refuses an upload that upload-limits[{}] ({} per {})"
                                    + " lets through, whose period is no shorter and whose max is no higher: remove it, or"
                                    + " change one of the two", instance, field, l, ConfigValues.format(limit.max()),
                            ConfigValues.format(limit.per()), other, ConfigValues.format(stricter.max()),
                            ConfigValues.format(stricter.per()));
                    break;
                }
            }
        }
    }

    /** {@code m.upload.size} and the group's further media config keys. */
    private static ObjectNode mediaConfig(MediaLimitsConfig.Group group, long maxUploadSize, String field) {
        ObjectNode config = JsonNodeFactory.instance.objectNode().put(UPLOAD_SIZE, maxUploadSize);
        if (group.mediaConfig() == null) {
            return config;
        }
        ObjectNode extra;
        try {
            extra = GetMediaConfigForUser.TYPE.resultType().fromConfig(group.mediaConfig(), Optional.empty())
                    .orElseGet(JsonNodeFactory.instance::objectNode);
        } catch (IllegalArgumentException wrong) {
            throw new ModuleConfigurationException(field + ".media-config", wrong.getMessage(), wrong);
        }
        if (extra.has(UPLOAD_SIZE)) {
            throw new ModuleConfigurationException(field + ".media-config." + UPLOAD_SIZE, "is set by max-upload-size");
        }
        return config.setAll(extra);
    }

    private static Counter exceededCounter(ModuleContext context, String group) {
        return Counter.builder(EXCEEDED_METER)
                .description("Uploads Synapse refused because they would exceed an upload limit, by the user's group"
                        + " (empty: users no group lists)")
                .tags("module", context.instanceName(), "group", group)
                .register(context.meterRegistry());
    }
}
