package dev.matrixpolicy.gateway.modules.policylist;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Configuration of the {@code policy_list} module: Matrix ban lists from policy rooms, files and URLs.
 *
 * @param sources      where the rules come from, in priority order: an earlier source's rule (an allow
 *                     included) wins over a later one's
 * @param allow        entities no ban applies to, above every source
 * @param callbacks    the callbacks that consult the lists; every one it supports by default
 * @param checkInvitee whether {@code user_may_invite} and {@code federated_user_may_invite} also refuse
 *                     invites to a banned user
 * @param takedown     {@code ban}: a takedown refuses like a ban; {@code ignore}: takedowns are left out
 * @param errcode      the Matrix error code of a refusal
 * @param error        the message sent with refusals; empty for the default
 * @param showReason   whether the rule's reason is appended to the message users see
 * @param registration what {@code check_registration_for_spam} answers for a banned username:
 *                     {@code DENY} or {@code SHADOW_BAN}
 * @param staleAfter   how long a source may go without a good read before health calls it stale
 * @param readiness    {@code always}: the gateway is ready whatever its lists; {@code fresh}: it is
 *                     unready while a source has not read yet or is stale
 * @param protectedServers server names whose users, rooms and aliases only bans naming them exactly
 *                     (by ID or hash) refuse: globs and server rules pass them over, so no list can
 *                     lock out a whole homeserver; typically your own server name. None by default
 */
public record PolicyListConfig(
        @NotEmpty List<@Valid @NotNull Source> sources,
        @Valid Allow allow,
        List<@NotBlank String> callbacks,
        @DefaultValue("false") boolean checkInvitee,
        @DefaultValue("ban") Takedown takedown,
        @DefaultValue("M_FORBIDDEN") String errcode,
        String error,
        @DefaultValue("false") boolean showReason,
        @DefaultValue("DENY") Registration registration,
        @DefaultValue("1h") @DurationMin(seconds = 1, message = "must be at least 1s") Duration staleAfter,
        @DefaultValue("always") Readiness readiness,
        List<@NotBlank String> protectedServers) {

    public PolicyListConfig {
        allow = allow == null ? new Allow(List.of(), List.of(), List.of()) : allow;
        callbacks = callbacks == null ? List.of() : callbacks;
        protectedServers = protectedServers == null ? List.of() : protectedServers;
    }

    public enum Takedown { BAN, IGNORE }

    public enum Registration { DENY, SHADOW_BAN }

    public enum Readiness { ALWAYS, FRESH }

    /**
     * The local allow list: IDs, globs or {@code sha256:} hashes, by kind.
     */
    public record Allow(List<@NotBlank String> users, List<@NotBlank String> rooms, List<@NotBlank String> servers) {
        public Allow {
            users = users == null ? List.of() : users;
            rooms = rooms == null ? List.of() : rooms;
            servers = servers == null ? List.of() : servers;
        }
    }

    /**
     * One source: exactly one of {@code room}, {@code file} or {@code url}, and what it applies to.
     *
     * @param name            the source's name in logs, metrics and the explain endpoint; unique in the module
     * @param room            a policy room ID or alias, read through {@code homeserver} as the bot
     * @param homeserver      the homeserver's client-server API base URL, e.g. {@code http://synapse:8008}
     * @param accessTokenFile the bot account's access token, in a file
     * @param file            a file of rules: state events as JSON, or one rule per line
     * @param checkInterval   how often the file is checked for changes
     * @param url             a URL serving rules in the file formats
     * @param pollInterval    how often the URL is asked again
     * @param timeout         how long one request to the homeserver or URL may take (a policy room's
 *                        sync long-polls for {@code syncTimeout} on top of it)
 * @param retryBackoff    a policy room's first pause after a failed request
 * @param retryMaxBackoff the longest such pause
     * @param syncTimeout     how long the homeserver may hold a policy room's long-poll before answering that
     *                        nothing changed; the bot's removal from the room is noticed within it
     * @param fullReadInterval how often a policy room's whole state is read again beside its syncs, in
     *                        case it changed with no event in them (state resolution after a federation gap)
     * @param maxSize         the longest answer read from a URL (the list) or a room's homeserver (its state, one sync)
     * @param kinds           the entity kinds taken from this source ({@code user}, {@code room}, {@code server}); all by default
     * @param callbacks       the callbacks this source applies to; all of the module's by default
     * @param rooms           the rooms this source applies to, for callbacks about a room; all rooms by default
     */
    public record Source(
            @NotBlank String name,
            String room,
            URI homeserver,
            Path accessTokenFile,
            Path file,
            @DefaultValue("5s") @DurationMin(millis = 100, message = "must be at least 100ms") Duration checkInterval,
            URI url,
            @DefaultValue("60s") @DurationMin(seconds = 1, message = "must be at least 1s") Duration pollInterval,
            @DefaultValue("10s") @DurationMin(millis = 1, message = "must be positive") Duration timeout,
            @DefaultValue("1s") @DurationMin(millis = 1, message = "must be positive") Duration retryBackoff,
            @DefaultValue("60s") @DurationMin(millis = 1, message = "must be positive") Duration retryMaxBackoff,
            @DefaultValue("30s") @DurationMin(seconds = 1, message = "must be at least 1s") Duration syncTimeout,
            @DefaultValue("1h") @DurationMin(seconds = 1, message = "must be at least 1s") Duration fullReadInterval,
            @DefaultValue("256MB") DataSize maxSize,
            List<@NotBlank String> kinds,
            List<@NotBlank String> callbacks,
            List<@NotBlank String> rooms) {
        public Source {
            kinds = kinds == null ? List.of() : kinds;
            callbacks = callbacks == null ? List.of() : callbacks;
            rooms = rooms == null ? List.of() : rooms;
        }
    }
}
