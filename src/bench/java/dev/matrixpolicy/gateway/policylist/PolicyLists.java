package dev.matrixpolicy.gateway.policylist;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A realistic policy list of a given size, written the two ways a file or URL holds one (a policy
 * room's state events as JSON, and the line format), with IDs to look up that it does and does not
 * name. Deterministic: rule {@code i} is the same whatever the size.
 *
 * <p>The mix, by {@code i % 100}: 88 % exact user IDs, 2 % MSC4205 hashed user IDs, 1 % infix user
 * globs ({@code @*spam17*:*}), 1 % whole-server user globs ({@code *:bad-server-17.example}), 1 %
 * server globs ({@code *.bad-17.example}), 4 % exact servers, 2 % rooms and aliases, 1 % exact users
 * taken down. Every twentieth ban is a takedown instead. Reasons come from a handful, as real lists
 * reuse them; senders are a few moderators; every event has its own ID.
 */
public final class PolicyLists {
    public static final String SOURCE = "community-bans";
    private static final String[] REASONS = {"spam", "crypto spam", "harassment", "ban evasion", "",
        "hateful conduct", "spam bot", "abuse of the report feature"};
    private static final String EVENT_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private PolicyLists() {
    }

    /** What the query arrays hold: which rule form an ID meets, or none. */
    enum Query { EXACT_HIT, MISS, GLOB_HIT, INFIX_HIT, SUFFIX_HIT, HASH_HIT, SERVER, ROOM }

    /** One lookup. */
    record Lookup(EntityKind kind, String id) {
    }

    /** Rule {@code i} as (kind, entity-or-hash, hashed, recommendation). */
    private record Spec(EntityKind kind, String entity, boolean hashed, String recommendation) {
    }

    private static Spec spec(int i) {
        String recommendation = i % 20 == 7 ? "m.takedown" : "m.ban";
        int n = i / 100;
        return switch (i % 100) {
            case 88, 89 -> new Spec(EntityKind.USER, hashedUser(i), true, recommendation);
            case 90 -> new Spec(EntityKind.USER, "@*spam" + n + "*:*", false, recommendation);
            case 91 -> new Spec(EntityKind.USER, "*:bad-server-" + n + ".example", false, recommendation);
            case 92 -> new Spec(EntityKind.SERVER, "*.bad-" + n + ".example", false, recommendation);
            case 93, 94, 95, 96 -> new Spec(EntityKind.SERVER, "bad-" + i + ".example", false, recommendation);
            case 97 -> new Spec(EntityKind.ROOM, "!" + opaque(i, 18) + ":" + homeserver(i), false, recommendation);
            case 98 -> new Spec(EntityKind.ROOM, "#spam-room-" + i + ":" + homeserver(i), false, recommendation);
            case 99 -> new Spec(EntityKind.USER, listedUser(i), false, "m.takedown");
            default -> new Spec(EntityKind.USER, listedUser(i), false, recommendation);
        };
    }

    private static String homeserver(int i) {
        return "hs" + (i * 7919 % 4000) + ".example.org";
    }

    private static String listedUser(int i) {
        return "@" + opaque(i, 8).toLowerCase() + i + ":" + homeserver(i);
    }

    private static String hashedUser(int i) {
        return "@hidden" + i + ":" + homeserver(i);
    }

    /** Characters that look random but depend only on {@code seed}. */
    private static String opaque(long seed, int length) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L);
        StringBuilder text = new StringBuilder(length);
        for (int c = 0; c < length; c++) {
            text.append(EVENT_ID_ALPHABET.charAt(random.nextInt(52)));
        }
        return text.toString();
    }

    private static String eventId(int i) {
        SplittableRandom random = new SplittableRandom(i + 0x5DEECE66DL);
        StringBuilder id = new StringBuilder(44).append('$');
        for (int c = 0; c < 43; c++) {
            id.append(EVENT_ID_ALPHABET.charAt(random.nextInt(64)));
        }
        return id.toString();
    }

    /** The list as a policy room's state, as {@code GET /rooms/{roomId}/state} answers it. */
    static String stateEventsJson(int size) {
        StringBuilder json = new StringBuilder(size * 330).append('[');
        for (int i = 0; i < size; i++) {
            Spec spec = spec(i);
            if (i > 0) {
                json.append(",\n");
            }
            json.append("{\"type\":\"m.policy.rule.").append(spec.kind.wireName())
                    .append("\",\"state_key\":\"rule:").append(i)
                    .append("\",\"sender\":\"@moderator").append(i % 7).append(":example.org")
                    .append("\",\"event_id\":\"").append(eventId(i))
                    .append("\",\"origin_server_ts\":").append(1_700_000_000_000L + i * 1000L)
                    .append(",\"room_id\":\"!policyroom:example.org\",\"content\":{\"recommendation\":\"")
                    .append(spec.recommendation).append("\",\"reason\":\"").append(REASONS[i % REASONS.length]).append('"');
            if (spec.hashed) {
                json.append(",\"hashes\":{\"sha256\":\"").append(Entity.hashOf(spec.entity)).append("\"}");
            } else {
                json.append(",\"entity\":\"").append(spec.entity).append('"');
            }
            json.append("}}");
        }
        return json.append(']').toString();
    }

    /** The same list in the line format. */
    static String lines(int size) {
        StringBuilder text = new StringBuilder(size * 60);
        for (int i = 0; i < size; i++) {
            Spec spec = spec(i);
            text.append(spec.recommendation.substring(2)).append(' ').append(spec.kind.wireName()).append(' ')
                    .append(spec.hashed ? "sha256:" + Entity.hashOf(spec.entity) : spec.entity)
                    .append(' ').append(REASONS[i % REASONS.length]).append('\n');
        }
        return text.toString();
    }

    /** The list's rules, read as a file source reads its JSON. */
    public static Collection<PolicyRule> rules(int size) {
        return RuleText.parse(stateEventsJson(size), SOURCE).rules();
    }

    /** The index a {@code policy_list} instance holds: its (small) allow list first, then the list. */
    static PolicyIndex index(Collection<PolicyRule> rules) {
        List<PolicyRule> allow = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            allow.add(new PolicyRule(EntityKind.USER, Entity.of("@friend" + i + ":example.org"), Recommendation.ALLOW, "",
                    new PolicyRule.Origin("allow", java.util.Optional.empty(), java.util.Optional.empty(), 0)));
        }
        return PolicyIndex.compile(List.of(new PolicyIndex.Source("allow", allow), new PolicyIndex.Source(SOURCE, rules)));
    }

    /**
     * {@code count} IDs of one query kind for a list of {@code size} rules, drawn at random.
     * Hits name a rule of the list; misses look like ordinary users of ordinary servers.
     */
    static Lookup[] queries(Query query, int size, int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Lookup[] lookups = new Lookup[count];
        for (int q = 0; q < count; q++) {
            lookups[q] = switch (query) {
                case EXACT_HIT -> new Lookup(EntityKind.USER, listedUser(ruleOf(random, size, 0, 88)));
                case MISS -> new Lookup(EntityKind.USER, "@" + opaque(random.nextLong(), 9).toLowerCase() + ":matrix-"
                        + random.nextInt(100_000) + ".example.net");
                case GLOB_HIT -> queries(globPath(random), size, 1, random.nextLong())[0];
                case INFIX_HIT -> {
                    int n = random.nextInt(Math.max(1, size / 100));
                    yield new Lookup(EntityKind.USER, "@free" + "spam" + n + "offers:" + homeserver(n));
                }
                case SUFFIX_HIT -> new Lookup(EntityKind.USER, "@someone" + random.nextInt(1000) + ":bad-server-"
                        + random.nextInt(Math.max(1, size / 100)) + ".example");
                case HASH_HIT -> new Lookup(EntityKind.USER, hashedUser(ruleOf(random, size, 88, 90)));
                case SERVER -> random.nextBoolean()
                        ? new Lookup(EntityKind.SERVER, "bad-" + ruleOf(random, size, 93, 97) + ".example")
                        : new Lookup(EntityKind.SERVER, "matrix-" + random.nextInt(100_000) + ".example.net");
                case ROOM -> random.nextBoolean()
                        ? roomAlias(ruleOf(random, size, 98, 99))
                        : new Lookup(EntityKind.ROOM, "!" + opaque(random.nextLong(), 18) + ":matrix.org");
            };
        }
        return lookups;
    }

    private static Lookup roomAlias(int i) {
        return new Lookup(EntityKind.ROOM, "#spam-room-" + i + ":" + homeserver(i));
    }

    /** A mix of every query kind: a third exact hits, a third misses, the rest spread over the others. */
    static Lookup[] mixed(int size, int count, long seed) {
        return Arrays.stream(labelledMix(size, count, seed)).map(Labelled::lookup).toArray(Lookup[]::new);
    }

    /** One lookup of a mix and the path it takes: {@code GLOB_HIT} is resolved to its infix or suffix path. */
    record Labelled(Query path, Lookup lookup) {
    }

    /** The lookups {@link #mixed} makes, each with its path. */
    static Labelled[] labelledMix(int size, int count, long seed) {
        Query[] weights = {Query.EXACT_HIT, Query.EXACT_HIT, Query.EXACT_HIT, Query.EXACT_HIT, Query.MISS, Query.MISS,
            Query.MISS, Query.MISS, Query.GLOB_HIT, Query.HASH_HIT, Query.SERVER, Query.ROOM};
        SplittableRandom random = new SplittableRandom(seed);
        Labelled[] lookups = new Labelled[count];
        for (int q = 0; q < count; q++) {
            Query query = weights[random.nextInt(weights.length)];
            long drawn = random.nextLong();
            // queries() draws a glob hit's path first from the same seed, so this names the path it takes
            Query path = query == Query.GLOB_HIT ? globPath(new SplittableRandom(drawn)) : query;
            lookups[q] = new Labelled(path, queries(query, size, 1, drawn)[0]);
        }
        return lookups;
    }

    private static Query globPath(SplittableRandom random) {
        return random.nextBoolean() ? Query.INFIX_HIT : Query.SUFFIX_HIT;
    }

    /** A random rule number below {@code size} whose {@code i % 100} is in [from, to). */
    private static int ruleOf(SplittableRandom random, int size, int from, int to) {
        int hundreds = Math.max(1, size / 100);
        int i = random.nextInt(hundreds) * 100 + from + random.nextInt(to - from);
        return i < size ? i : from;
    }
}
