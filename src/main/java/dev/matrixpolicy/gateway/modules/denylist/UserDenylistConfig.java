package dev.matrixpolicy.gateway.modules.denylist;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Configuration of the {@code user_denylist} module. At least one of {@code users} and
 * {@code users-file} is required; given both, the list is their union.
 *
 * @param users          user IDs and globs ({@code *}: any run of characters, {@code ?}: one character),
 *                       matched ignoring case
 * @param usersFile      a file of more of them, one a line (see {@code UserListFile}), for lists too long
 *                       for the configuration; looked at again every {@code reload-interval}
 * @param reloadInterval how often the file is looked at again for changes
 * @param callbacks      the spam-checker callbacks that consult the list; all nine it supports by default
 * @param errcode        the Matrix error code of a rejection
 * @param error          an optional human-readable message sent with rejections
 */
public record UserDenylistConfig(
        @DefaultValue List<@NotBlank String> users,
        Path usersFile,
        @DefaultValue("10s") @DurationMin(millis = 100, message = "must be at least 100ms") Duration reloadInterval,
        @DefaultValue({"check_event_for_spam", "user_may_invite", "user_may_send_3pid_invite", "user_may_join_room",
                "user_may_create_room", "user_may_create_room_alias", "user_may_publish_room", "user_may_send_state_event",
                "federated_user_may_invite"})
        @NotEmpty List<String> callbacks,
        @DefaultValue("M_FORBIDDEN") String errcode,
        String error) {
}
