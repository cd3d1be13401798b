package dev.matrixpolicy.gateway.modules.contentrules;

import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.Backend;
import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.files.FileReadProblem;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.state.SharedState;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * {@code content_rules}: declarative rules on what users write (keywords, phrases, regexes, mentions,
 * links, length, repetition) and upload (hash denylists, media types), compiled once at startup. A
 * regex that does not compile, a keyword that normalises to nothing, a media type that is not one or
 * a media list that cannot be read stops startup, naming the key.
 */
@Component
class ContentRulesModuleType extends ModuleType<ContentRulesConfig> {
    static final String NAME = "content_rules";
    /** Links are collected up to this many at least, whatever {@code max-count} says. */
    private static final int MIN_LINK_LIMIT = 1_000;
    /** What {@code allowed-types} may hold, lower-cased: {@code type/subtype} or {@code type/*} (RFC 6838 names). */
    private static final Pattern MEDIA_TYPE = Pattern.compile("[a-z0-9][a-z0-9!#$&^_.+-]*/(?:[a-z0-9][a-z0-9!#$&^_.+-]*|\\*)");

    private final SharedState state;

    /** @param state where {@code repeated} rules count, shared by the replicas when it is Redis */
    ContentRulesModuleType(SharedState state) {
        super(NAME, ContentRulesConfig.class);
        this.state = state;
    }

    @Override
    public PolicyModule create(ContentRulesConfig config, ModuleContext context) {
        return create(config, context, new SharedRecentMessages(state, context.instanceName()));
    }

    ContentRules create(ContentRulesConfig config, ModuleContext context, RecentMessages recent) {
        Set<CallbackType<?, ?, ?>> enabled = ConfigValues.callbacks("callbacks", config.callbacks(), ContentRules.SUPPORTED);
        ConfigValues.requireUniqueNames("rules", config.rules().stream().map(ContentRulesConfig.Rule::name).toList(), "rules");
        ContentRulesConfig.Normalisation folding = config.normalisation();
        Normaliser normaliser = new Normaliser(folding.foldConfusables(), folding.foldDiacritics(), folding.foldLeet());
        TextIndex.Builder index = TextIndex.builder();
        List<ContentRule> rules = new ArrayList<>();
        List<AutoCloseable> resources = new ArrayList<>();
        int mentionLimit = 0;
        int linkLimit = MIN_LINK_LIMIT;
        try {
            for (int i = 0; i < config.rules().size(); i++) {
                ContentRulesConfig.Rule rule = config.rules().get(i);
                String field = "rules[" + i + "]";
                ContentRule.TextChecks text = textChecks(i, field, rule, normaliser, index);
                Optional<ContentRule.MediaChecks> media = Optional.ofNullable(rule.media())
                        .map(settings -> media(field + ".media", settings, context, resources));
                if (!text.any() && media.isEmpty()) {
                    throw new ModuleConfigurationException(field, "the rule checks nothing: give it keywords, phrases, "
                            + "regexes, mentions, links, max-length, repeated or media");
                }
                mentionLimit = Math.max(mentionLimit, text.maxUsers().orElse(0));
                linkLimit = Math.max(linkLimit, text.maxLinks().orElse(0));
                rules.add(new ContentRule(rule.name(), rejection(field, rule), exempt(field + ".exempt", rule.exempt()), text,
                        media, Counter.builder("policy.module.content_rules.matches")
                                .description("Refusals by a content_rules rule (shadow-mode entries count too)")
                                .tags("module", context.instanceName(), "rule", rule.name())
                                .register(context.meterRegistry())));
            }
        } catch (RuntimeException wrong) {
            resources.forEach(ContentRulesModuleType::closeQuietly);
            throw wrong;
        }
        ContentRules.Reading reading = new ContentRules.Reading(normaliser, index.build(), config.maxScannedLength(),
                mentionLimit, linkLimit);
        return new ContentRules(context.instanceName(), context.serverName(), rules, enabled, reading, recent, resources);
    }

    /** Whether a regex finds a match of no text in the empty text, or in short ordinary ones. */
    private static boolean matchesNothing(Pattern pattern) {
        for (String text : List.of("", " ", "a", "hello world", "0")) {
            Matcher matcher = pattern.matcher(text);
            while (matcher.find()) {
                if (matcher.start() == matcher.end()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static ContentRule.TextChecks textChecks(int rule, String field, ContentRulesConfig.Rule config,
                                                     Normaliser normaliser, TextIndex.Builder index) {
        List<String> keywords = normalised(field + ".keywords", config.keywords(), normaliser);
        List<String> phrases = normalised(field + ".phrases", config.phrases(), normaliser);
        keywords.forEach(keyword -> index.keyword(rule, keyword));
        phrases.forEach(phrase -> index.phrase(rule, phrase));
        for (int r = 0; r < config.regexes().size(); r++) {
            String source = config.regexes().get(r);
            String key = field + ".regexes[" + r + "]";
            String tooLarge = RegexSize.tooLarge(source);
            if (tooLarge != null) {
                throw new ModuleConfigurationException(key, "'" + source + "' cannot be used: " + tooLarge
                        + ". Write it with smaller counted repetitions ({n,m}), or as several regexes.");
            }
            Pattern pattern;
            try {
                pattern = Pattern.compile(source, Pattern.CASE_INSENSITIVE);
            } catch (PatternSyntaxException invalid) {
                throw new ModuleConfigurationException(key, "'" + source + "' is not a valid RE2 "
                        + "regular expression: " + invalid.getDescription());
            }
            if (matchesNothing(pattern)) {
                throw new ModuleConfigurationException(key, "'" + source + "' matches the empty text (or a mere position,"
                        + " such as \\b), so it finds a match in about every text and would refuse every message (and hide"
                        + " every user from the directory). Make what it must find required: 'a|b' rather than 'a|b|',"
                        + " 'x+' rather than 'x*'.");
            }
            index.regex(rule, source, pattern);
        }
        ContentRulesConfig.Mentions mentions = config.mentions();
        ContentRulesConfig.Links links = config.links();
        if (links != null) {
            Links.loadTopLevelDomains();
        }
        return new ContentRule.TextChecks(rule, !keywords.isEmpty() || !phrases.isEmpty() || !config.regexes().isEmpty(),
                Optional.ofNullable(mentions).map(ContentRulesConfig.Mentions::maxUsers),
                mentions == null || mentions.room(),
                links == null ? Set.of() : domains(field + ".links.allowed-domains", links.allowedDomains(), normaliser),
                links == null ? Set.of() : asciiDomains(field + ".links.allowed-domains", links.allowedDomains()),
                links == null ? Set.of() : domains(field + ".links.denied-domains", links.deniedDomains(), normaliser),
                Optional.ofNullable(links).map(ContentRulesConfig.Links::maxCount),
                Optional.ofNullable(config.maxLength()),
                Optional.ofNullable(config.repeated()));
    }

    /** Words normalised as the text will be; one that normalises to nothing could never be told from any text. */
    private static List<String> normalised(String field, List<String> words, Normaliser normaliser) {
        List<String> normalised = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String word = normaliser.normalise(words.get(i));
            if (word.isEmpty()) {
                throw new ModuleConfigurationException(field + "[" + i + "]", "is empty once normalised");
            }
            normalised.add(word);
        }
        return normalised;
    }

    /**
     * The domains as the hosts of links are compared. A name with an empty label ({@code .bit.ly},
     * {@code bit..ly}) is refused: no host of a link has one, so it would match nothing, and a
     * denied domain written so would deny nothing without a word.
     */
    private static Set<String> domains(String field, List<String> domains, Normaliser normaliser) {
        Set<String> normalised = new LinkedHashSet<>();
        List<String> written = normalised(field, domains, normaliser.withDigitsAsWritten());
        for (int i = 0; i < written.size(); i++) {
            String domain = written.get(i);
            String name = domain.startsWith("*.") ? domain.substring(2) : domain;
            String host = Links.host(name);
            if (host.isEmpty() || !host.equals(name) || host.startsWith(".") || host.contains("..")) {
                String bare = name.replaceFirst("^\\.+", "");
                throw new ModuleConfigurationException(field + "[" + i + "]", "'" + domains.get(i) + "' is not a domain name"
                        + (name.startsWith(".") && !bare.isEmpty() ? ": write '" + bare + "', which covers its subdomains too" : ""));
            }
            normalised.add(Links.folded(host, normaliser)); // as the hosts of links are compared
        }
        return Set.copyOf(normalised);
    }

    /** The domains as a browser looks them up, unfolded: what the hosts of links are held to by an allow-list. */
    private static Set<String> asciiDomains(String field, List<String> domains) {
        Set<String> ascii = new LinkedHashSet<>();
        for (String domain : domains) {
            String host = Links.ascii(Links.host(domain.strip().startsWith("*.") ? domain.strip().substring(2) : domain.strip()));
            if (host.isEmpty()) {
                throw new ModuleConfigurationException(field, "'" + domain + "' is not a domain name");
            }
            ascii.add(host);
        }
        return Set.copyOf(ascii);
    }

    private static Rejection rejection(String field, ContentRulesConfig.Rule rule) {
        try {
            return ConfigValues.rejection(rule.errcode(), rule.error());
        } catch (ModuleConfigurationException wrong) {
            throw new ModuleConfigurationException(field + "." + wrong.field(), wrong.getMessage());
        }
    }

    private static Optional<UserIdMatcher> exempt(String field, ContentRulesConfig.Exempt exempt) {
        List<String> patterns = new ArrayList<>(exempt.users());
        ConfigValues.users(field + ".users", exempt.users());
        for (int i = 0; i < exempt.servers().size(); i++) {
            String server = exempt.servers().get(i).strip();
            if (server.isEmpty() || server.startsWith("@") || UserIdMatcher.isGlob(server) || server.contains(" ")) {
                throw new ModuleConfigurationException(field + ".servers[" + i + "]", "'" + server + "' is not a server name");
            }
            patterns.add("*:" + server.toLowerCase(Locale.ROOT));
        }
        return patterns.isEmpty() ? Optional.empty() : Optional.of(UserIdMatcher.compile(patterns));
    }

    private static ContentRule.MediaChecks media(String field, ContentRulesConfig.Media media, ModuleContext context,
                                                 List<AutoCloseable> resources) {
        if (media.hashesFile() != null && media.hashesUrl() != null) {
            throw new ModuleConfigurationException(field, "set hashes-file or hashes-url, not both");
        }
        Optional<MediaHashes> hashes = Optional.empty();
        if (media.hashesFile() != null) {
            try {
                hashes = Optional.of(MediaHashes.file(context.instanceName(), field + ".hashes-file", media.hashesFile(),
                        media.reloadInterval(), listsBefore(context)));
                resources.add(hashes.get());
            } catch (IOException unreadable) {
                throw new ModuleConfigurationException(field + ".hashes-file", FileReadProblem.of(media.hashesFile(), unreadable));
            } catch (IllegalArgumentException invalid) {
                throw new ModuleConfigurationException(field + ".hashes-file", media.hashesFile() + ": " + invalid.getMessage());
            }
        } else if (media.hashesUrl() != null) {
            URI url = BackendUrls.parse(field + ".hashes-url", media.hashesUrl()); // refused before a client is built
            Backend backend = Backend.builder(context, media.timeout()).maxReplySize(Backend.MAX_MAX_REPLY_SIZE).build();
            hashes = Optional.of(MediaHashes.url(context.instanceName(), field + ".hashes-url", url, media.timeout(),
                    media.reloadInterval(), backend));
            // closed after the list: its fetch in flight is stopped first, and not left to fail on a closed client
            resources.add(hashes.get());
            resources.add(backend);
        }
        if (hashes.isEmpty() && media.allowedTypes().isEmpty()) {
            throw new ModuleConfigurationException(field, "give hashes-file, hashes-url or allowed-types");
        }
        return new ContentRule.MediaChecks(hashes, allowedTypes(field + ".allowed-types", media.allowedTypes()));
    }

    /**
     * The media hash lists of the instance a reload replaces, which serve until this one's do: a file
     * one of them reads is read as carefully as a check reads it.
     */
    private static List<MediaHashes> listsBefore(ModuleContext context) {
        return context.predecessor().filter(ContentRules.class::isInstance).map(ContentRules.class::cast)
                .map(ContentRules::mediaHashes).orElse(List.of());
    }

    /** The types lower-cased; one that could never match a file's type would refuse every upload. */
    private static List<String> allowedTypes(String field, List<String> types) {
        List<String> allowed = new ArrayList<>();
        for (int i = 0; i < types.size(); i++) {
            String type = types.get(i).strip().toLowerCase(Locale.ROOT);
            if (!MEDIA_TYPE.matcher(type).matches()) {
                throw new ModuleConfigurationException(field + "[" + i + "]", "'" + types.get(i) + "' is not a media type: write "
                        + "type/subtype (image/png) or type/* (image/*), without parameters; to allow every type, leave "
                        + "allowed-types out");
            }
            allowed.add(type);
        }
        return allowed;
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception ignored) {
            // startup is failing already; that failure is the one to report
        }
    }
}
