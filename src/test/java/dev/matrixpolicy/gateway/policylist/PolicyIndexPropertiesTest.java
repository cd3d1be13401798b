package dev.matrixpolicy.gateway.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.matrix.glob.Globs;
import dev.matrixpolicy.gateway.support.Gen;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The index against a reference matcher that reads every rule of every source in order, over random
 * rules (exact, glob and hashed; bans, takedowns and allows; several sources) and random IDs drawn
 * from a small alphabet so that they often collide with the rules.
 */
class PolicyIndexPropertiesTest {
    // "st*r" and "q?": historical localparts may hold the wildcards themselves, which a glob's star must still match
    private static final List<String> LOCALPARTS = List.of("a", "b", "ab", "spam", "Spam", "bot1", "bot2", "st*r", "q?");
    private static final List<String> SERVERS = List.of("x.example", "X.example", "evil.example", "y.example:8448");

    @Test
    void decidesAsTheReferenceDoesOnRandomRulesAndIds() {
        Gen.forAll(13, 400, PolicyIndexPropertiesTest::randomSources, sources -> {
            PolicyIndex index = PolicyIndex.compile(sources);
            Gen ids = Gen.seeded(sources.hashCode());
            for (int i = 0; i < 60; i++) {
                EntityKind kind = ids.oneOf(List.of(EntityKind.values()));
                String id = randomId(ids, kind);
                Optional<PolicyRule> expected = reference(sources, kind, id);
                Optional<PolicyRule> actual = index.decide(kind, id);

                assertThat(actual.map(rule -> rule.origin().source())).as("%s %s", kind, id)
                        .isEqualTo(expected.map(rule -> rule.origin().source()));
                assertThat(actual.map(rule -> rule.recommendation() == Recommendation.ALLOW)).as("%s %s", kind, id)
                        .isEqualTo(expected.map(rule -> rule.recommendation() == Recommendation.ALLOW));
                actual.ifPresent(rule -> assertThat(names(rule, kind, id)).as("%s names %s", rule, id).isTrue());
                assertThat(index.matching(kind, id)).as("%s %s", kind, id).containsExactlyInAnyOrderElementsOf(
                        sources.stream().flatMap(source -> source.rules().stream())
                                .filter(rule -> rule.kind() == kind && names(rule, kind, id)).toList());
            }
        });
    }

    /**
     * Rules added to a compiled source, in several steps and layered on it, decide as the same rules
     * compiled whole would: each source's rules are split at random into a first compile and later
     * additions, and every ID is decided and explained as the reference does over all of them.
     */
    @Test
    void rulesAddedInStepsDecideAsTheSameRulesCompiledWhole() {
        Gen.forAll(19, 300, PolicyIndexPropertiesTest::randomSources, sources -> {
            Gen gen = Gen.seeded(sources.hashCode());
            List<PolicyIndex.Source> first = new ArrayList<>();
            List<List<PolicyRule>> later = new ArrayList<>();
            for (PolicyIndex.Source source : sources) {
                List<PolicyRule> rules = List.copyOf(source.rules());
                int split = gen.between(0, rules.size());
                first.add(new PolicyIndex.Source(source.name(), rules.subList(0, split)));
                later.add(rules.subList(split, rules.size()));
            }
            PolicyIndex index = PolicyIndex.compile(first);
            for (int position = 0; position < sources.size(); position++) {
                List<PolicyRule> rest = later.get(position);
                for (int from = 0; from < rest.size(); ) {
                    int to = gen.between(from + 1, rest.size());
                    index = index.change(position, RuleChanges.adding(rest.subList(from, to))).orElseThrow();
                    from = to;
                }
                assertThat(index.changedSince(position)).isEqualTo(rest.size());
            }
            assertThat(index.counts()).isEqualTo(PolicyIndex.compile(sources).counts());
            for (int i = 0; i < 60; i++) {
                EntityKind kind = gen.oneOf(List.of(EntityKind.values()));
                String id = randomId(gen, kind);
                Optional<PolicyRule> expected = reference(sources, kind, id);
                Optional<PolicyRule> actual = index.decide(kind, id);

                assertThat(actual.map(PolicyIndexPropertiesTest::describe)).as("%s %s", kind, id)
                        .isEqualTo(expected.map(PolicyIndexPropertiesTest::describe));
                actual.ifPresent(rule -> assertThat(names(rule, kind, id)).as("%s names %s", rule, id).isTrue());
                assertThat(index.matching(kind, id)).as("%s %s", kind, id).containsExactlyInAnyOrderElementsOf(
                        sources.stream().flatMap(source -> source.rules().stream())
                                .filter(rule -> rule.kind() == kind && names(rule, kind, id)).toList());
            }
        });
    }

    /**
     * Rules added and taken out in steps, layered on a whole compile (or compiled whole where a step
     * takes out a glob, as the instance does), decide and explain as the rules left compiled whole
     * would. The IDs are few, so rules often name one ID twice, and taking out the one a table holds
     * must leave the other in force.
     */
    @Test
    void rulesChangedInStepsDecideAsTheRulesLeftCompiledWhole() {
        Gen.forAll(29, 300, PolicyIndexPropertiesTest::randomSources, sources -> {
            Gen gen = Gen.seeded(sources.hashCode());
            PolicyIndex index = PolicyIndex.compile(sources);
            List<List<PolicyRule>> now = new ArrayList<>();
            sources.forEach(source -> now.add(new ArrayList<>(source.rules())));
            for (int step = 0; step < 4; step++) {
                int position = gen.between(0, sources.size() - 1);
                List<PolicyRule> rules = now.get(position);
                List<PolicyRule> removed = removeSome(gen, rules);
                List<PolicyRule> added = new ArrayList<>();
                String name = sources.get(position).name();
                for (PolicyRule rule : randomSources(gen).getFirst().rules()) {
                    added.add(new PolicyRule(rule.kind(), rule.entity(), rule.recommendation(), rule.reason(),
                            new PolicyRule.Origin(name, Optional.of("$step" + step + "-" + added.size()), Optional.empty(), 0)));
                }
                rules.addAll(added);
                PolicyIndex before = index;
                index = index.change(position, new RuleChanges(added, removed))
                        .orElseGet(() -> before.replace(position, new PolicyIndex.Source(name, List.copyOf(rules))));
            }
            List<PolicyIndex.Source> left = new ArrayList<>();
            for (int position = 0; position < sources.size(); position++) {
                left.add(new PolicyIndex.Source(sources.get(position).name(), now.get(position)));
                assertThat(index.rules(position)).containsExactlyInAnyOrderElementsOf(now.get(position));
            }
            assertThat(index.counts()).isEqualTo(PolicyIndex.compile(left).counts());
            for (int i = 0; i < 60; i++) {
                EntityKind kind = gen.oneOf(List.of(EntityKind.values()));
                String id = randomId(gen, kind);
                assertThat(index.decide(kind, id).map(PolicyIndexPropertiesTest::describe)).as("%s %s", kind, id)
                        .isEqualTo(reference(left, kind, id).map(PolicyIndexPropertiesTest::describe));
                assertThat(index.matching(kind, id)).as("%s %s", kind, id).containsExactlyInAnyOrderElementsOf(
                        left.stream().flatMap(source -> source.rules().stream())
                                .filter(rule -> rule.kind() == kind && names(rule, kind, id)).toList());
            }
        });
    }

    /**
     * A source's rules that name each of some IDs alike in nothing but their grammar (the rules that name
     * everyone), which reads only globs and remembers each layer's, are in every index a change or a
     * whole compile leaves what reading every rule finds: those of the source that {@link
     * PolicyIndex#matching} lists for each ID, in its order. The rules added in steps often name everyone.
     */
    @Test
    void rulesNamingEachOfSomeIdsAreWhatMatchingFindsForEveryOneInItsOrderAfterEveryChange() {
        Gen.forAll(31, 300, PolicyIndexPropertiesTest::randomSources, sources -> {
            Gen gen = Gen.seeded(sources.hashCode());
            PolicyIndex index = PolicyIndex.compile(sources);
            List<List<PolicyRule>> now = new ArrayList<>();
            sources.forEach(source -> now.add(new ArrayList<>(source.rules())));
            assertNamingEachAsMatching(index, sources.size());
            for (int step = 0; step < 6; step++) {
                int position = gen.between(0, sources.size() - 1);
                String name = sources.get(position).name();
                List<PolicyRule> rules = now.get(position);
                PolicyIndex before = index;
                if (gen.chance(0.2)) { // a fold: the same rules compiled whole, in the source's order
                    index = before.replace(position, new PolicyIndex.Source(name, List.copyOf(rules)));
                    assertNamingEachAsMatching(index, sources.size());
                    continue;
                }
                List<PolicyRule> removed = removeSome(gen, rules);
                List<PolicyRule> added = new ArrayList<>();
                for (int r = gen.between(0, 4); r > 0; r--) {
                    EntityKind kind = gen.oneOf(List.of(EntityKind.values()));
                    String glob = gen.oneOf(kind == EntityKind.SERVER ? List.of("*", "?*", "*?", "*.example", "0")
                            : List.of("*", "?*", "@*:*", "@*", "!*", "#*", "*:*", "@*:*.example", "#?*:*"));
                    added.add(new PolicyRule(kind, Entity.of(glob), gen.oneOf(List.of(Recommendation.values())), "everyone?",
                            new PolicyRule.Origin(name, Optional.of("$step" + step + "-" + r), Optional.empty(), 0)));
                }
                for (PolicyRule rule : randomSources(gen).getFirst().rules()) {
                    added.add(new PolicyRule(rule.kind(), rule.entity(), rule.recommendation(), rule.reason(),
                            new PolicyRule.Origin(name, Optional.of("$step" + step + "-" + added.size()), Optional.empty(), 0)));
                }
                added.removeIf(rules::contains);
                rules.addAll(added);
                index = index.change(position, new RuleChanges(added, removed))
                        .orElseGet(() -> before.replace(position, new PolicyIndex.Source(name, List.copyOf(rules))));
                assertNamingEachAsMatching(index, sources.size());
            }
        });
    }

    /** Asks twice, so that the second answer comes from what the first remembered. */
    private static void assertNamingEachAsMatching(PolicyIndex index, int sources) {
        Map<EntityKind, List<List<String>>> unlike = Map.of(EntityKind.USER, List.of(MatrixIds.unlikeIds('@')),
                EntityKind.ROOM, List.of(MatrixIds.unlikeIds('!'), MatrixIds.unlikeIds('#')),
                EntityKind.SERVER, List.of(MatrixIds.unlikeServerNames()));
        for (int position = 0; position < sources; position++) {
            String name = index.counts().keySet().stream().toList().get(position);
            for (Map.Entry<EntityKind, List<List<String>>> kind : unlike.entrySet()) {
                for (List<String> ids : kind.getValue()) {
                    List<PolicyRule> expected = new ArrayList<>(index.matching(kind.getKey(), ids.getFirst()).stream()
                            .filter(rule -> rule.origin().source().equals(name)).toList());
                    for (String id : ids.subList(1, ids.size())) {
                        expected.retainAll(index.matching(kind.getKey(), id));
                    }
                    assertThat(index.namingEach(position, kind.getKey(), ids)).as("%s %s", name, ids).containsExactlyElementsOf(expected);
                    assertThat(index.namingEach(position, kind.getKey(), ids)).as("%s %s again", name, ids).containsExactlyElementsOf(expected);
                }
            }
        }
    }

    /** An ID asked for exact rules only is decided as the reference decides it over the rules without glob bans. */
    @Test
    void exactOnlyQueriesPassOverGlobBansAndStillHeedGlobAllows() {
        Gen.forAll(23, 300, PolicyIndexPropertiesTest::randomSources, sources -> {
            PolicyIndex index = PolicyIndex.compile(sources);
            List<PolicyIndex.Source> withoutGlobBans = sources.stream().map(source -> new PolicyIndex.Source(source.name(),
                    source.rules().stream().filter(rule -> rule.entity().form() != Entity.Form.GLOB
                            || rule.recommendation() == Recommendation.ALLOW).toList())).toList();
            Gen gen = Gen.seeded(sources.hashCode());
            for (int i = 0; i < 60; i++) {
                EntityKind kind = gen.oneOf(List.of(EntityKind.values()));
                String id = randomId(gen, kind);

                Optional<PolicyRule> actual = index.decide(List.of(new PolicyIndex.Query(kind, id, PolicyIndex.Bans.EXACT)), position -> true);

                assertThat(actual.map(PolicyIndexPropertiesTest::describe)).as("%s %s", kind, id)
                        .isEqualTo(reference(withoutGlobBans, kind, id).map(PolicyIndexPropertiesTest::describe));
            }
        });
    }

    @Test
    void decidesAUserAndTheirServerBySourceFirstAsTheReferenceDoes() {
        Gen.forAll(17, 400, PolicyIndexPropertiesTest::randomSources, sources -> {
            PolicyIndex index = PolicyIndex.compile(sources);
            Gen gen = Gen.seeded(sources.hashCode());
            for (int i = 0; i < 60; i++) {
                String user = randomId(gen, EntityKind.USER);
                List<PolicyIndex.Query> queries = List.of(new PolicyIndex.Query(EntityKind.USER, user),
                        new PolicyIndex.Query(EntityKind.SERVER, user.substring(user.indexOf(':') + 1)));
                int skipped = gen.between(-1, sources.size() - 1);
                Optional<PolicyRule> expected = Optional.empty();
                for (int position = 0; position < sources.size() && expected.isEmpty(); position++) {
                    for (PolicyIndex.Query query : queries) {
                        if (position != skipped && expected.isEmpty()) {
                            expected = reference(List.of(sources.get(position)), query.kind(), query.id());
                        }
                    }
                }

                Optional<PolicyRule> actual = index.decide(queries, position -> position != skipped);

                assertThat(actual.map(PolicyIndexPropertiesTest::describe)).as("%s, source %d left out", user, skipped)
                        .isEqualTo(expected.map(PolicyIndexPropertiesTest::describe));
            }
        });
    }

    @Test
    void anEarlierSourcesServerBanBeatsALaterSourcesAllowOfTheUserAndASourcesOwnAllowBeatsItsServerBan() {
        PolicyRule serverBan = rule("first", EntityKind.SERVER, "evil.example", Recommendation.BAN);
        PolicyRule userAllow = rule("second", EntityKind.USER, "@friend:evil.example", Recommendation.ALLOW);
        List<PolicyIndex.Query> friend = List.of(new PolicyIndex.Query(EntityKind.USER, "@friend:evil.example"),
                new PolicyIndex.Query(EntityKind.SERVER, "evil.example"));

        PolicyIndex banFirst = PolicyIndex.compile(List.of(new PolicyIndex.Source("first", List.of(serverBan)),
                new PolicyIndex.Source("second", List.of(userAllow))));
        PolicyIndex allowFirst = PolicyIndex.compile(List.of(new PolicyIndex.Source("second", List.of(userAllow)),
                new PolicyIndex.Source("first", List.of(serverBan))));
        PolicyIndex oneSource = PolicyIndex.compile(List.of(new PolicyIndex.Source("both", List.of(serverBan, userAllow))));

        assertThat(banFirst.decide(friend, position -> true)).contains(serverBan);
        assertThat(allowFirst.decide(friend, position -> true)).contains(userAllow);
        assertThat(oneSource.decide(friend, position -> true)).contains(userAllow);
        assertThat(banFirst.decide(friend, position -> position == 1)).as("the first source scoped out").contains(userAllow);
    }

    private static PolicyRule rule(String source, EntityKind kind, String entity, Recommendation recommendation) {
        return new PolicyRule(kind, Entity.of(entity), recommendation, "", new PolicyRule.Origin(source, Optional.empty(), Optional.empty(), 1));
    }

    /** Which source decides, and whether it allows: what a decision means to a callback. */
    private static String describe(PolicyRule rule) {
        return rule.origin().source() + " " + (rule.recommendation() == Recommendation.ALLOW ? "allow" : "ban");
    }

    /** The reference: sources in order; in each, any allow that names the ID, else any ban or takedown. */
    private static Optional<PolicyRule> reference(List<PolicyIndex.Source> sources, EntityKind kind, String id) {
        for (PolicyIndex.Source source : sources) {
            Optional<PolicyRule> allow = source.rules().stream()
                    .filter(rule -> rule.kind() == kind && rule.recommendation() == Recommendation.ALLOW && names(rule, kind, id))
                    .findFirst();
            if (allow.isPresent()) {
                return allow;
            }
            Optional<PolicyRule> ban = source.rules().stream()
                    .filter(rule -> rule.kind() == kind && rule.recommendation() != Recommendation.ALLOW && names(rule, kind, id))
                    .findFirst();
            if (ban.isPresent()) {
                return ban;
            }
        }
        return Optional.empty();
    }

    /** Lower case, a code point for a code point: what a glob's {@code ?} stands for is one character either way. */
    private static String lower(String text) {
        return text.codePoints().map(Character::toLowerCase)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }

    /** Whether a rule names an ID, read straight from its definition. */
    private static boolean names(PolicyRule rule, EntityKind kind, String id) {
        String value = rule.entity().value();
        return switch (rule.entity().form()) {
            case EXACT -> Entity.key(kind, value).equals(Entity.key(kind, id));
            case SHA256 -> value.equals(Entity.hashOf(Entity.key(kind, id))) || value.equals(Entity.hashOf(id));
            case GLOB -> Globs.matches(lower(value), lower(id));
        };
    }

    private static List<PolicyIndex.Source> randomSources(Gen gen) {
        List<PolicyIndex.Source> sources = new ArrayList<>();
        int count = gen.between(1, 3);
        for (int s = 0; s < count; s++) {
            List<PolicyRule> rules = new ArrayList<>();
            int size = gen.between(0, 12);
            for (int r = 0; r < size; r++) {
                EntityKind kind = gen.oneOf(List.of(EntityKind.values()));
                String id = randomId(gen, kind);
                Entity entity = switch (gen.between(0, 3)) {
                    case 0 -> Entity.of(id.replace('?', 'q').replace('*', 's'));
                    case 1 -> Entity.sha256(Entity.hashOf(Entity.key(kind, id)));
                    case 2 -> Entity.sha256(Entity.hashOf(id)); // as written, capitals in the server name included
                    default -> Entity.of(globOf(gen, id));
                };
                Recommendation recommendation = gen.oneOf(List.of(Recommendation.values()));
                rules.add(new PolicyRule(kind, entity, recommendation, "r" + r,
                        new PolicyRule.Origin("source" + s, Optional.empty(), Optional.empty(), r + 1)));
            }
            sources.add(new PolicyIndex.Source("source" + s, rules));
        }
        return sources;
    }

    private static String randomId(Gen gen, EntityKind kind) {
        String server = gen.oneOf(SERVERS);
        return switch (kind) {
            case USER -> "@" + gen.oneOf(LOCALPARTS) + ":" + server;
            case ROOM -> (gen.chance(0.5) ? "!" : "#") + gen.oneOf(LOCALPARTS) + ":" + server;
            case SERVER -> server;
        };
    }

    /** Replaces random characters of an ID with wildcards. */
    private static String globOf(Gen gen, String id) {
        StringBuilder glob = new StringBuilder();
        for (int i = 0; i < id.length(); i++) {
            int roll = gen.between(0, 9);
            if (roll == 0) {
                glob.append('*');
                i += gen.between(0, 3);
            } else if (roll == 1) {
                glob.append('?');
            } else {
                glob.append(id.charAt(i));
            }
        }
        return glob.indexOf("*") < 0 && glob.indexOf("?") < 0 ? glob.append('*').toString() : glob.toString();
    }

    /** Takes out about three rules in ten, at random: what they were, in their order. */
    private static List<PolicyRule> removeSome(Gen gen, List<PolicyRule> rules) {
        List<PolicyRule> removed = new ArrayList<>();
        for (PolicyRule rule : List.copyOf(rules)) {
            if (gen.chance(0.3)) {
                removed.add(rule);
                rules.remove(rule);
            }
        }
        return removed;
    }
}
