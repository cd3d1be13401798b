package dev.matrixpolicy.gateway.modules.medialimits;

import dev.matrixpolicy.gateway.callbacks.MediaUploadLimit;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.springframework.stereotype.Component;

/**
 * {@code media_limits}: per-user and per-group media policy for Synapse's media repository
 * callbacks: the media config each user is told, the largest upload, and windowed upload limits.
 */
@Component
class MediaLimitsModuleType extends ModuleType<MediaLimitsConfig> {
    static final String EXCEEDED_METER = "policy.module.media_limits.exceeded";

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
        return new MediaLimits(context.instanceName(), groups, exceededCounter(context, ""));
    }

    private static MediaLimits.Group compile(MediaLimitsConfig.Group group, String field, ModuleContext context) {
        UserIdMatcher users = ConfigValues.users(field + ".users", group.users());
        OptionalLong maxUploadSize = OptionalLong.empty();
        if (group.maxUploadSize() != null) {
            if (group.maxUploadSize().toBytes() < 1) {
                throw new ModuleConfigurationException(field + ".max-upload-size", "must be at least 1B, got " + group.maxUploadSize());
            }
            maxUploadSize = OptionalLong.of(group.maxUploadSize().toBytes());
        }
        Optional<List<MediaUploadLimit>> uploadLimits = Optional.ofNullable(group.uploadLimits()).map(limits -> {
            List<MediaUploadLimit> compiled = new ArrayList<>();
            for (int l = 0; l < limits.size(); l++) {
                MediaLimitsConfig.UploadLimit limit = limits.get(l);
                if (limit.max().isNegative()) {
                    throw new ModuleConfigurationException(field + ".upload-limits[" + l + "].max",
                            "must not be negative, got " + limit.max());
                }
                compiled.add(new MediaUploadLimit(limit.max().toBytes(), limit.per().toMillis()));
            }
            return List.copyOf(compiled);
        });
        if (maxUploadSize.isEmpty() && uploadLimits.isEmpty()) {
            throw new ModuleConfigurationException(field, "group '" + group.name()
                    + "' sets neither max-upload-size nor upload-limits, so it would change nothing");
        }
        return new MediaLimits.Group(group.name(), users, maxUploadSize, uploadLimits,
                exceededCounter(context, group.name()));
    }

    private static Counter exceededCounter(ModuleContext context, String group) {
        return Counter.builder(EXCEEDED_METER)
                .description("Uploads Synapse refused because they would exceed an upload limit, by the user's group"
                        + " (empty: users no group lists)")
                .tags("module", context.instanceName(), "group", group)
                .register(context.meterRegistry());
    }
}
