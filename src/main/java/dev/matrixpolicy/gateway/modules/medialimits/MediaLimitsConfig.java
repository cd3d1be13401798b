package dev.matrixpolicy.gateway.modules.medialimits;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of the {@code media_limits} module: media policy by group of users.
 *
 * @param groups the groups, in order: a user belongs to the first group that lists them, and a user
 *               no group lists is left to the next module (and in the end to Synapse's own settings)
 */
public record MediaLimitsConfig(@NotEmpty List<@Valid @NotNull Group> groups) {

    /**
     * One group of users and what they may upload. A setting left out is left to the next module.
     *
     * @param name          the group's name, for metrics and logs; unique in the module
     * @param users         user IDs and globs ({@code *}, {@code ?}), matched ignoring case; {@code "*"} is everyone
     * @param maxUploadSize the largest single upload: answers {@code m.upload.size} in the user's media
     *                      config and refuses larger uploads (413 {@code M_TOO_LARGE}). It can only
     *                      lower Synapse's own {@code max_upload_size}, which Synapse checks first.
     * @param uploadLimits  how much the user may upload per period, instead of Synapse's
     *                      {@code media_upload_limits}; {@code []} lifts every limit
     * @param mediaConfig   further keys of the media config answered to the user, beside {@code m.upload.size};
     *                      needs {@code max-upload-size}, since Synapse answers the whole map instead of its own config
     */
    public record Group(@NotBlank String name, @NotEmpty List<@NotBlank String> users, DataSize maxUploadSize,
                        List<@Valid @NotNull UploadLimit> uploadLimits, Map<String, Object> mediaConfig) {
    }

    /**
     * At most {@code max} uploaded per {@code per}, e.g. {@code {max: 1GB, per: 1d}}.
     *
     * @param max the bytes a user may upload in the period ({@code 100MB}; units are powers of 1024)
     * @param per the period ({@code 1h}, {@code 1d})
     */
    public record UploadLimit(@NotNull DataSize max, @NotNull @DurationMin(millis = 1, message = "must be positive") Duration per) {
    }
}
