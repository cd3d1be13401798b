package dev.matrixpolicy.gateway.modules.denylist;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import java.util.List;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Configuration of the {@code user_denylist} module.
 *
 * @param users     user IDs and globs ({@code *}: any run of characters, {@code ?}: one character),
 *                  matched ignoring case
 * @param callbacks the spam-checker callbacks that consult the list; all six it supports by default
 * @param errcode   the Matrix error code of a rejection
 * @param error     an optional human-readable message sent with rejections
 */
public record UserDenylistConfig(
        @NotEmpty List<@NotBlank String> users,
        @DefaultValue({"check_event_for_spam", "user_may_invite", "user_may_join_room", "user_may_create_room",
                "user_may_send_state_event", "federated_user_may_invite"})
        @NotEmpty List<String> callbacks,
        @DefaultValue("M_FORBIDDEN") String errcode,
        String error) {
}
