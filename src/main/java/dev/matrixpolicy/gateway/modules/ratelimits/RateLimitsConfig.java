package dev.matrixpolicy.gateway.modules.ratelimits;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Configuration of the {@code rate_limits} module: a token bucket per sender and/or per room for
 * each kind of action, each with its own refusal. At least one limit must be set.
 *
 * @param events       {@code check_event_for_spam}: every event, from local clients and over federation
 * @param joins        {@code user_may_join_room}: per room, a join wave; per sender, one user joining many rooms
 * @param invites      {@code user_may_invite}: invites sent
 * @param roomCreation {@code user_may_create_room}: rooms created (per sender only: the room does not exist yet)
 * @param exempt       user IDs and globs never limited ({@code *:trusted.example} for a whole server)
 */
public record RateLimitsConfig(@Valid Limit events, @Valid Limit joins, @Valid Limit invites, @Valid Limit roomCreation,
                               @DefaultValue List<@NotBlank String> exempt) {

    /**
     * One kind of action's limit.
     *
     * @param perSender a bucket per acting user
     * @param perRoom   a bucket per room
     * @param errcode       the Matrix error code of a refusal
     * @param error         an optional human-readable message sent with refusals
     * @param skipOlderThan {@code events} only: an event older than this (by its {@code origin_server_ts})
     *                      is history the homeserver fetched, neither counted nor refused; {@code 0s}
     *                      counts every event. Default 1h
     */
    public record Limit(@Valid Bucket perSender, @Valid Bucket perRoom, @DefaultValue("M_LIMIT_EXCEEDED") String errcode,
                        String error,
                        @DurationMin(millis = 0, message = "must not be negative (0s counts every event)") Duration skipOlderThan) {
    }

    /**
     * A token bucket: a burst of {@code capacity}, refilled at {@code capacity} per {@code period}.
     *
     * @param capacity the burst, at least 1
     * @param period   how long an empty bucket takes to refill, e.g. {@code 10s}, {@code 1m}, {@code 1h}; a year at most
     */
    public record Bucket(@Min(1) long capacity,
                         @NotNull @DurationMax(days = 366, message = "must be at most 366 days") Duration period) {
    }
}
