package dev.matrixpolicy.gateway.modules.policylist;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.RegistrationBehaviour;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.matrix.LogText;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.module.Backoff;
import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.policylist.Entity;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import dev.matrixpolicy.gateway.policylist.FileSource;
import dev.matrixpolicy.gateway.policylist.PolicyRule;
import dev.matrixpolicy.gateway.policylist.PolicySource;
import dev.matrixpolicy.gateway.policylist.Recommendation;
import dev.matrixpolicy.gateway.policylist.RoomSource;
import dev.matrixpolicy.gateway.policylist.RuleText;
import dev.matrixpolicy.gateway.policylist.UrlSource;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.stereotype.Component;

/**
 * {@code policy_list}: Matrix ban lists ({@code m.policy.rule.*}) from policy rooms, files and URLs,
 * applied to the spam-checker callbacks.
 */
@Component
class PolicyListModuleType extends ModuleType<PolicyListConfig> {
    static final String NAME = "policy_list";
    private static final String ALLOW_SOURCE = "allow";

    private final Clock clock;

    PolicyListModuleType() {
        this(Clock.systemUTC());
    }

    PolicyListModuleType(Clock clock) {
        super(NAME, PolicyListConfig.class);
        this.clock = clock;
    }

    @Override
    public PolicyModule create(PolicyListConfig config, ModuleContext context) {
        Rejection rejection = ConfigValues.rejection(config.errcode(), config.error());
        Set<CallbackType<?, ?, ?>> enabled = config.callbacks().isEmpty() ? new LinkedHashSet<>(PolicyList.SUPPORTED)
                : ConfigValues.callbacks("callbacks", config.callbacks(), PolicyList.SUPPORTED);
        ConfigValues.requireUniqueNames("sources",
                config.sources().stream().map(PolicyListConfig.Source::name).toList(), "sources");
        List<PolicyRule> allow = allowRules(config.allow());
        Set<String> protectedServers = protectedServers(config.protectedServers()); // before any source opens a connection
        for (int i = 0; i < config.sources().size(); i++) {
            requireFreshBetweenReads(config.staleAfter(), config.sources().get(i), "sources[" + i + "]");
        }
        List<PolicyList.Slot> slots = new ArrayList<>();
        slots.add(new PolicyList.Slot(ALLOW_SOURCE, "allow", "configuration", EnumSet.allOf(EntityKind.class), Set.of(),
                Set.of(), Optional.empty()));
        List<PolicySource> opened = new ArrayList<>();
        try {
            for (int i = 0; i < config.sources().size(); i++) {
                PolicyListConfig.Source source = config.sources().get(i);
                String field = "sources[" + i + "]";
                if (source.name().equals(ALLOW_SOURCE)) {
                    throw new ModuleConfigurationException(field + ".name", "'allow' names the allow list; choose another name");
                }
                PolicySource built = source(source, field, context);
                opened.add(built);
                slots.add(new PolicyList.Slot(source.name(), kind(source), location(source), kinds(field, source.kinds()),
                        Set.copyOf(ConfigValues.callbacks(field + ".callbacks", source.callbacks(), List.copyOf(enabled))),
                        rooms(field + ".rooms", source.rooms()), Optional.of(built)));
            }
        } catch (RuntimeException wrong) {
            opened.forEach(PolicySource::close);
            throw wrong;
        }
        PolicyList.Answers answers = new PolicyList.Answers(context.instanceName(), context.serverName(), rejection,
                config.showReason(), config.registration() == PolicyListConfig.Registration.SHADOW_BAN
                        ? RegistrationBehaviour.SHADOW_BAN : RegistrationBehaviour.DENY,
                config.checkInvitee(), config.takedown() == PolicyListConfig.Takedown.BAN, protectedServers);
        // The metrics take context.meterBinders(), not context::bindMeters: they live as long as the
        // instance, and a reference to the context would keep its predecessor (and that one's) alive.
        PolicyList list;
        try {
            list = new PolicyList(slots, allow, enabled, answers,
                    new PolicyList.Freshness(config.staleAfter(), config.readiness() == PolicyListConfig.Readiness.FRESH),
                    clock.instant(), new PolicyListMetrics(context.instanceName(), context.meterRegistry(), context.meterBinders(), clock),
                    context.predecessor().filter(PolicyList.class::isInstance).map(PolicyList.class::cast));
        } catch (RuntimeException | Error failed) {
            // taking the predecessor's rules over can fail (a compile out of heap): the reload is refused, the sources closed
            opened.forEach(PolicySource::close);
            throw failed;
        }
        list.start();
        return list;
    }

    private PolicySource source(PolicyListConfig.Source source, String field, ModuleContext context) {
        int given = (source.room() != null ? 1 : 0) + (source.file() != null ? 1 : 0) + (source.url() != null ? 1 : 0);
        if (given != 1) {
            throw new ModuleConfigurationException(field, "set exactly one of room, file or url"
                    + (given == 0 ? "" : ", not " + given));
        }
        if (source.room() == null && (source.homeserver() != null || source.accessTokenFile() != null)) {
            // a URL list's token is no bot's: one set here would never be sent
            throw new ModuleConfigurationException(field + (source.homeserver() != null ? ".homeserver" : ".access-token-file"),
                    "only a policy room (room:) is read through a homeserver as a bot; a " + (source.file() != null ? "file" : "URL")
                            + " source does not use it: remove it" + (source.url() != null
                            ? ", and put what the URL needs (a token, say) in the URL itself" : ""));
        }
        if (source.file() != null) {
            return new FileSource(source.name(), source.file(), source.checkInterval(), clock);
        }
        if (source.url() != null) {
            BackendUrls.require(field + ".url", source.url());
            try {
                return new UrlSource(source.name(), source.url(), source.pollInterval(), source.timeout(),
                        source.maxSize().toBytes(), clock);
            } catch (IllegalArgumentException wrong) {
                throw new ModuleConfigurationException(field + ".max-size", wrong.getMessage(), wrong);
            }
        }
        return room(source, field, context);
    }

    /** A policy room, read as the bot whose access token is in {@code access-token-file}. */
    private RoomSource room(PolicyListConfig.Source source, String field, ModuleContext context) {
        if (source.homeserver() == null) {
            throw new ModuleConfigurationException(field + ".homeserver", "a policy room needs the homeserver's client-server "
                    + "API URL, e.g. http://synapse:8008");
        }
        BackendUrls.require(field + ".homeserver", source.homeserver());
        if (source.accessTokenFile() == null) {
            throw new ModuleConfigurationException(field + ".access-token-file", "a policy room is read as a bot account: "
                    + "give the file that holds its access token");
        }
        String token = context.secretFile(field + ".access-token-file", source.accessTokenFile());
        Backoff backoff = Backoff.of(field + ".retry-backoff", source.retryBackoff(), field + ".retry-max-backoff",
                source.retryMaxBackoff());
        try {
            return new RoomSource(RoomSource.Settings.of(source.name(), source.homeserver(), token, source.room().strip(),
                            attempts -> backoff.delay(attempts, ThreadLocalRandom.current()))
                    .withRequestTimeout(source.timeout())
                    .withSyncTimeout(source.syncTimeout())
                    .withMaxReplySize(source.maxSize().toBytes())
                    .withFullReadEvery(source.fullReadInterval())
                    .withClock(clock));
        } catch (IllegalArgumentException wrong) {
            // RoomSource.Settings names the setting first, as its record component
            String message = wrong.getMessage();
            if (message.startsWith("accessToken ")) {
                throw new ModuleConfigurationException(field + ".access-token-file", "the file must hold the bot's access "
                        + "token alone, one word on one line (no 'Bearer ', no other line)", wrong);
            }
            String setting = message.startsWith("maxReplySize ") ? ".max-size"
                    : message.startsWith("homeserver ") ? ".homeserver" : ".room";
            // the field names the setting in the configuration's words; the component's own name is Java's
            throw new ModuleConfigurationException(field + setting, message.substring(message.indexOf(' ') + 1), wrong);
        }
    }

    /**
     * Refuses a {@code stale-after} that a healthy source would outlast between two reads: a URL
     * polled every 2h under the default 1h would be stale half the time, and with
     * {@code readiness: fresh} keep the gateway unready.
     */
    private static void requireFreshBetweenReads(Duration staleAfter, PolicyListConfig.Source source, String field) {
        String setting;
        Duration between;
        if (source.url() != null) {
            setting = "poll-interval";
            between = source.pollInterval();
        } else if (source.room() != null) {
            setting = "sync-timeout"; // a long-poll with nothing new is a good read too
            between = source.syncTimeout();
        } else {
            setting = "check-interval";
            between = source.checkInterval();
        }
        if (staleAfter.compareTo(between) <= 0) {
            throw new ModuleConfigurationException("stale-after", ConfigValues.format(staleAfter) + " would call " + field
                    + " stale between two good reads, " + ConfigValues.format(between) + " apart (its " + setting
                    + "): set stale-after well above that");
        }
    }

    private static String kind(PolicyListConfig.Source source) {
        return source.room() != null ? "room" : source.file() != null ? "file" : "url";
    }

    private static String location(PolicyListConfig.Source source) {
        return source.room() != null ? source.room() : source.file() != null ? source.file().toString() : source.url().toString();
    }

    /** Server names, checked; {@link PolicyList.Answers} compares them in lower case (as DNS does) and without a trailing dot. */
    private static Set<String> protectedServers(List<String> names) {
        Set<String> servers = new LinkedHashSet<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            try {
                servers.add(MatrixIds.serverName(name));
            } catch (IllegalArgumentException invalid) {
                throw new ModuleConfigurationException("protected-servers[" + i + "]", "'" + LogText.escaped(name) + "' is "
                        + invalid.getMessage() + ": give a server name, e.g. example.org or example.org:8448", invalid);
            }
        }
        return servers;
    }

    /** The room IDs a source is scoped to: callbacks carry room IDs, so an alias or a typo would never match. */
    private static Set<String> rooms(String field, List<String> rooms) {
        for (int i = 0; i < rooms.size(); i++) {
            String room = rooms.get(i);
            try {
                MatrixIds.roomId(room);
            } catch (IllegalArgumentException invalid) {
                throw new ModuleConfigurationException(field + "[" + i + "]", "'" + room + "' is " + invalid.getMessage()
                        + (room.startsWith("#") ? "; callbacks carry room IDs, not aliases: give the room's ID" : ""), invalid);
            }
        }
        return Set.copyOf(rooms);
    }

    private static Set<EntityKind> kinds(String field, List<String> names) {
        if (names.isEmpty()) {
            return EnumSet.allOf(EntityKind.class);
        }
        Set<EntityKind> kinds = EnumSet.noneOf(EntityKind.class);
        for (int i = 0; i < names.size(); i++) {
            int index = i;
            kinds.add(EntityKind.ofWireName(names.get(i)).orElseThrow(() -> new ModuleConfigurationException(
                    field + ".kinds[" + index + "]", "'" + names.get(index) + "' is not user, room or server")));
        }
        return kinds;
    }

    private static List<PolicyRule> allowRules(PolicyListConfig.Allow allow) {
        List<PolicyRule> rules = new ArrayList<>();
        addAllows(rules, "allow.users", EntityKind.USER, allow.users());
        addAllows(rules, "allow.rooms", EntityKind.ROOM, allow.rooms());
        addAllows(rules, "allow.servers", EntityKind.SERVER, allow.servers());
        return rules;
    }

    private static void addAllows(List<PolicyRule> rules, String field, EntityKind kind, List<String> entities) {
        for (int i = 0; i < entities.size(); i++) {
            String entity = entities.get(i).strip();
            Entity parsed;
            try {
                parsed = RuleText.entity(entity);
            } catch (IllegalArgumentException invalid) {
                throw new ModuleConfigurationException(field + "[" + i + "]", invalid.getMessage(), invalid);
            }
            if (entity.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                throw new ModuleConfigurationException(field + "[" + i + "]", "must not contain white space or control characters");
            }
            if (parsed.form() != Entity.Form.SHA256 && !kind.couldName(parsed.value())) {
                throw new ModuleConfigurationException(field + "[" + i + "]", "'" + LogText.escaped(entity)
                        + "' can never match: expected " + kind.expected());
            }
            rules.add(new PolicyRule(kind, parsed, Recommendation.ALLOW, "allowed by configuration",
                    new PolicyRule.Origin(ALLOW_SOURCE, Optional.empty(), Optional.empty(), 0)));
        }
    }
}
