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
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.springframework.stereotype.Component;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code media_limits}: per-user and per-group media policy for Synapse's media repository
 * callbacks: the media config each user is told, the largest upload, and windowed upload limits.
 */
@Component
class MediaLimitsModuleType extends ModuleType<MediaLimitsConfig> {
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
