package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.matrix.glob.GlobAutomaton;
import dev.matrixpolicy.gateway.matrix.glob.Globs;
import java.util.AbstractCollection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

/**
 * The rules of every source of one {@code policy_list} instance, compiled for lookups that cost
 * O(length of the ID) whatever the number of rules: exact IDs and hashes in hash maps, globs in one
 * automaton per source, kind and verdict. Each source's rules are held flat ({@link RuleRecords}), not
 * as objects; a lookup that finds a rule makes that one again. Immutable: an update builds a new
 * index off the request path, and the instance swaps it in whole.
 *
 * <p>Sources are in priority order. The first source with a rule for an entity decides it; within a
 * source an {@linkplain Recommendation#ALLOW allow} beats a ban or takedown. An entity asked under
 * several IDs (a user, then the user's server) is decided by source first: an earlier source's
 * server ban beats a later source's allow of the user.
 */
public final class PolicyIndex {
    public static final PolicyIndex EMPTY = compile(List.of());

    /**
     * One ID to look up, of a kind: a user ID, a room ID or alias, or a server name.
     *
     * @param bans which ban and takedown rules may decide the ID; an allow of any form always counts
     */
    public record Query(EntityKind kind, String id, Bans bans) {
        public Query {
            Objects.requireNonNull(bans, "bans");
        }

        /** An ID any rule may decide. */
        public Query(EntityKind kind, String id) {
            this(kind, id, Bans.ANY);
        }
    }

    /** Which bans and takedowns a {@link Query} heeds. */
    public enum Bans {
        /** Every rule that names the ID. */
        ANY,
        /** Only rules that name the ID itself, exactly or by its hash: bans by glob pass it over. */
        EXACT,
        /** None: the ID is asked for allows alone (the server of a protected user, whose allow still spares them). */
        NONE
    }

    /** One source's rules, as its source last read them. */
    public record Source(String name, Collection<PolicyRule> rules) {
    }

    private final List<Compiled> sources;

    private PolicyIndex(List<Compiled> sources) {
        this.sources = sources;
    }

    /** Compiles sources given in priority order, the highest first. */
    public static PolicyIndex compile(List<Source> sources) {
        return new PolicyIndex(sources.stream().map(Compiled::new).toList());
    }

    /**
     * The rule that decides an entity: the first source's matching allow, else its matching ban or
     * takedown, else the next source's. Empty when no rule names it.
     *
     * @param id a user ID, room ID or alias, or server name, as the homeserver wrote it
     */
    public Optional<PolicyRule> decide(EntityKind kind, String id) {
        return decide(kind, id, source -> true);
    }

    /**
     * As {@link #decide(EntityKind, String)}, asking only the sources {@code applies} accepts, by
     * their position in the list the index was compiled from.
     */
    public Optional<PolicyRule> decide(EntityKind kind, String id, IntPredicate applies) {
        return decide(List.of(new Query(kind, id)), applies);
    }

    /**
     * The rule that decides one entity known under several IDs, most specific first (a user ID, then
     * the user's server): the first source, in priority order and among those {@code applies}
     * accepts, with a rule for any of them decides; within that source the IDs are asked in order,
     * each an allow before a ban. So a source's allow of a user beats its own ban of the user's server,
     * and loses to an earlier source's.
     */
    public Optional<PolicyRule> decide(List<Query> queries, IntPredicate applies) {
        Lookup[] lookups = new Lookup[queries.size()];
        for (int i = 0; i < lookups.length; i++) {
            lookups[i] = new Lookup(queries.get(i).kind(), queries.get(i).id(), queries.get(i).bans());
        }
        for (int position = 0; position < sources.size(); position++) {
            if (applies.test(position)) {
                Compiled source = sources.get(position);
                for (Lookup lookup : lookups) {
                    PolicyRule rule = source.decide(lookup);
                    if (rule != null) {
                        return Optional.of(rule);
                    }
                }
            }
        }
        return Optional.empty();
    }

    /**
     * This index with one source's rules replaced, compiling that source alone: the others are
     * shared, so an update costs the size of its own source.
     */
    public PolicyIndex replace(int position, Source source) {
        return with(position, new Compiled(source));
    }

    /**
     * This index with one source's rules changed, compiling only what changes: the source's rules
     * compiled before are shared; the rules added since its last whole compile are compiled again
     * with these, as a small second layer that lookups ask first; and a rule taken out of the shared
     * ones is marked withdrawn, so that lookups pass it over. An update of a policy room (a new ban,
     * a withdrawal) so costs the size of what it changes, not of the list, which at a million rules
     * takes about a second to compile.
     *
     * <p>Empty when the changes cannot be made so, and the source is to be compiled whole
     * ({@link #replace}), which also folds the layer in: when they take out a glob compiled whole
     * with the source (its automaton cannot pass one pattern over), or a rule the source does not hold.
     */
    public Optional<PolicyIndex> change(int position, RuleChanges changes) {
        if (changes.size() == 0) {
            return Optional.of(this);
        }
        Compiled changed = sources.get(position).with(changes);
        return changed == null ? Optional.empty() : Optional.of(with(position, changed));
    }

    /**
     * How many rules a source holds apart from its last whole compile: those {@linkplain #change
     * added} since, and those of the compile withdrawn since.
     */
    public int changedSince(int position) {
        return sources.get(position).changed();
    }

    /**
     * This index with the source at {@code position} replaced by {@code other}'s source at
     * {@code from}, as compiled there and shared, not compiled again: how an instance a reload builds
     * serves what its predecessor read until its own source has read.
     */
    public PolicyIndex adopt(int position, PolicyIndex other, int from) {
        return with(position, other.sources.get(from));
    }

    private PolicyIndex with(int position, Compiled source) {
        List<Compiled> changed = new ArrayList<>(sources);
        changed.set(position, source);
        return new PolicyIndex(List.copyOf(changed));
    }

    /**
     * The rules of one source, both layers, each made again from its record as it is iterated: for
     * handing a source's rules to an index that keeps other kinds or recommendations of them, a million
     * rules never held as objects at once; not for the request path.
     */
    public Collection<PolicyRule> rules(int position) {
        Compiled source = sources.get(position);
        return new AbstractCollection<>() {
            @Override
            public Iterator<PolicyRule> iterator() {
                return new Iterator<>() {
                    private Compiled layer = source;
                    private int record;

                    @Override
                    public boolean hasNext() {
                        while (layer != null && (record >= layer.records.end() || layer.isWithdrawn(record))) {
                            if (record >= layer.records.end()) {
                                layer = layer.added;
                                record = 0;
                            } else {
                                record = layer.records.next(record);
                            }
                        }
                        return layer != null;
                    }

                    @Override
                    public PolicyRule next() {
                        if (!hasNext()) {
                            throw new NoSuchElementException();
                        }
                        PolicyRule rule = layer.records.rule(record);
                        record = layer.records.next(record);
                        return rule;
                    }
                };
            }

            @Override
            public int size() {
                return source.counts.values().stream().flatMap(byRecommendation -> byRecommendation.values().stream())
                        .mapToInt(Integer::intValue).sum();
            }
        };
    }

    /** Whether a source of this index is, as compiled, the same as one of {@code other}'s. */
    public boolean sameSource(int position, PolicyIndex other, int otherPosition) {
        return sources.get(position) == other.sources.get(otherPosition);
    }

    /** How many sources the index was compiled from. */
    public int size() {
        return sources.size();
    }

    /** Every rule of every source that names the entity, in priority order: what the explain endpoint shows. */
    public List<PolicyRule> matching(EntityKind kind, String id) {
        Lookup lookup = new Lookup(kind, id, Bans.ANY);
        List<PolicyRule> matches = new ArrayList<>();
        for (Compiled source : sources) {
            source.all(lookup, matches);
        }
        return matches;
    }

    /**
     * A source's rules that name each of {@code ids}, in priority order (the order of {@link #matching}):
     * asked with IDs alike in nothing but their grammar
     * ({@link dev.matrixpolicy.gateway.matrix.MatrixIds#unlikeIds}), the rules that name every ID of
     * their kind. An exact ID or a hash names one ID, so only the source's globs are read, and each
     * layer's once for given IDs (a layer never changes): the layer a {@linkplain #change change} leaves
     * shared is not read again, and a policy room's new ban costs the check its added layer, not the list.
     *
     * @param ids two or more IDs of which no two are one ID, or a hash's, under any form a rule names them by
     * @throws IllegalArgumentException when two of {@code ids} may be named by one exact ID or hash
     */
    public List<PolicyRule> namingEach(int position, EntityKind kind, List<String> ids) {
        List<Lookup> lookups = ids.stream().map(id -> new Lookup(kind, id, Bans.ANY)).toList();
        Set<String> forms = new HashSet<>(); // what an exact rule (the key) or a hash (the key, or the ID as written) names
        for (Lookup lookup : lookups) {
            if (!forms.add(lookup.key()) || !lookup.key().equals(lookup.id) && !forms.add(lookup.id)) {
                throw new IllegalArgumentException("one exact rule or hash may name two of " + ids);
            }
        }
        if (lookups.size() < 2) {
            throw new IllegalArgumentException("an exact rule or hash may name every one of " + ids);
        }
        GlobQuestion question = new GlobQuestion(kind, List.copyOf(ids));
        List<PolicyRule> naming = new ArrayList<>();
        for (Compiled layer = sources.get(position); layer != null; layer = layer.added) {
            for (int record : layer.globsNamingEach(question, lookups)) {
                if (!layer.isWithdrawn(record)) {
                    naming.add(layer.records.rule(record));
                }
            }
        }
        return naming;
    }

    /** What {@link #namingEach} asks of a layer's globs, the key its answer is remembered by. */
    private record GlobQuestion(EntityKind kind, List<String> ids) {
    }

    /** Rules by source, kind and recommendation. */
    public Map<String, Map<EntityKind, Map<Recommendation, Integer>>> counts() {
        Map<String, Map<EntityKind, Map<Recommendation, Integer>>> counts = new LinkedHashMap<>();
        for (Compiled source : sources) {
            counts.put(source.name, source.counts);
        }
        return counts;
    }

    /** The ID in the forms rules are compared under, worked out once per lookup and only as needed. */
    private static final class Lookup {
        final EntityKind kind;
        final String id;
        /** See {@link Query#bans}. */
        final Bans bans;
        private String key;
        private String folded;
        private byte[] digest;
        private byte[] digestAsWritten;

        Lookup(EntityKind kind, String id, Bans bans) {
            this.kind = kind;
            this.id = id;
            this.bans = bans;
        }

        String key() {
            return key == null ? key = Entity.key(kind, id) : key;
        }

        String folded() {
            return folded == null ? folded = UserIdMatcher.fold(id) : folded;
        }

        /** The SHA-256 of the key, its server name in lower case as in a rule's hash, so case cannot dodge one. */
        byte[] digest() {
            return digest == null ? digest = Entity.digestOf(key()) : digest;
        }

        /**
         * The SHA-256 of the ID as the homeserver wrote it, when that is not the key (its server name has
         * capitals): MSC4205 hashes the ID as it is, so a curator who copied it from an event hashed
         * that. Null when the key is the ID, the usual case, which {@link #digest} covers.
         */
        byte[] digestAsWritten() {
            if (key().equals(id)) {
                return null;
            }
            return digestAsWritten == null ? digestAsWritten = Entity.digestOf(id) : digestAsWritten;
        }
    }

    /** One source's rules of one kind and verdict (allow, or ban and takedown), each named by its record. */
    private static final class Table {
        final RuleTable exact;
        final DigestTable hashes;
        final int[] globRecords;
        final GlobAutomaton globs;

        Table(Builder rules, RuleRecords records) {
            exact = rules.exact.build(records);
            hashes = rules.hashes.build();
            globRecords = rules.globRecords.stream().mapToInt(Integer::intValue).toArray();
            globs = rules.globs.isEmpty() ? null : GlobAutomaton.compile(rules.globs);
        }

        /**
         * Every record of the table under the ID or hash of {@code rule}: the one its slot names, then
         * those given after it, which no slot names; perhaps with a few under another key, which the
         * caller tells apart. None for a glob, which has no slot.
         */
        int[] recordsUnder(PolicyRule rule, String key) {
            return switch (rule.entity().form()) {
                case EXACT -> withFirst(exact.get(key), exact.duplicatesOf(key));
                case SHA256 -> withFirst(hashes.get(rule.entity().digest()), hashes.duplicatesOf(rule.entity().digest()));
                case GLOB -> new int[0];
            };
        }

        private static int[] withFirst(int first, int[] others) {
            if (first == RuleTable.ABSENT) {
                return others;
            }
            int[] all = new int[others.length + 1];
            all[0] = first;
            System.arraycopy(others, 0, all, 1, others.length);
            return all;
        }

        static final class Builder {
            final RuleTable.Builder exact = new RuleTable.Builder();
            final DigestTable.Builder hashes = new DigestTable.Builder();
            final List<Integer> globRecords = new ArrayList<>();
            final List<String> globs = new ArrayList<>();

            void add(PolicyRule rule, String key, int record) {
                switch (rule.entity().form()) {
                    case EXACT -> exact.putIfAbsent(key, record);
                    case SHA256 -> hashes.putIfAbsent(rule.entity().digest(), record);
                    case GLOB -> {
                        globRecords.add(record);
                        globs.add(UserIdMatcher.fold(rule.entity().value()));
                    }
                }
            }
        }

        /**
         * The record of a rule that names the entity, or {@link RuleTable#ABSENT}: the rule for its exact
         * ID, else for its hash, else a glob's, as {@link GlobAutomaton#anyMatch} finds one: every rule
         * of the table decides alike, so the lookup stops at the first found. (A source's added layer is
         * asked before its other rules, so a rule added since the last whole compile may be named first.)
         * A rule of {@code layer}'s withdrawn since is passed over; another under the same ID or hash is
         * then in the added layer ({@link Compiled#with}), and no glob is ever withdrawn.
         */
        int first(Lookup lookup, boolean withGlobs, Compiled layer) {
            int record = exact.isEmpty() ? RuleTable.ABSENT : layer.unlessWithdrawn(exact.get(lookup.key()));
            if (record == RuleTable.ABSENT && !hashes.isEmpty()) {
                record = layer.unlessWithdrawn(hashes.get(lookup.digest()));
                if (record == RuleTable.ABSENT && lookup.digestAsWritten() != null) {
                    record = layer.unlessWithdrawn(hashes.get(lookup.digestAsWritten()));
                }
            }
            if (record == RuleTable.ABSENT && globs != null && withGlobs) {
                int match = globs.anyMatch(lookup.folded());
                record = match < 0 ? RuleTable.ABSENT : globRecords[match];
            }
            return record;
        }
    }

    private static final class Compiled {
        final String name;
        final RuleRecords records;
        final Map<EntityKind, Table> allows;
        final Map<EntityKind, Table> bans;
        /** Rules by kind and recommendation, of this layer alone. */
        final Map<EntityKind, Map<Recommendation, Integer>> layerCounts;
        /** Rules by kind and recommendation, of both layers. */
        final Map<EntityKind, Map<Recommendation, Integer>> counts = new EnumMap<>(EntityKind.class);
        /** The rules {@linkplain #with added} since the source was compiled whole, as a layer of their own; null when none. */
        final Compiled added;
        /** The records of this layer's rules taken out since, sorted; null when none. */
        final int[] withdrawn;
        /**
         * This layer's globs that name each ID of a {@link GlobQuestion}, as records in priority order,
         * withdrawn ones included: worked out once, and shared with every change of the layer as its records are.
         */
        final Map<GlobQuestion, int[]> globsNaming;

        Compiled(Source source) {
            this.name = source.name();
            this.allows = new EnumMap<>(EntityKind.class);
            this.bans = new EnumMap<>(EntityKind.class);
            this.added = null;
            this.withdrawn = null;
            this.layerCounts = counts;
            this.globsNaming = new ConcurrentHashMap<>();
            // Two passes: the first sizes the records exactly, so the second writes them into their final array.
            // Each works the keys out again rather than keep a million of them: the rules of a
            // line-format list are read afresh on each pass, and their strings die young.
            long[] regionBytes = new long[Entity.Form.values().length];
            for (PolicyRule rule : source.rules()) {
                regionBytes[region(rule)] += RuleRecords.Builder.recordBytes(rule, key(rule));
            }
            RuleRecords.Builder writing = new RuleRecords.Builder(regionBytes);
            Map<EntityKind, Table.Builder> allowing = new EnumMap<>(EntityKind.class);
            Map<EntityKind, Table.Builder> banning = new EnumMap<>(EntityKind.class);
            for (PolicyRule rule : source.rules()) {
                String key = key(rule);
                int record = writing.add(rule, key, region(rule));
                Map<EntityKind, Table.Builder> tables = rule.recommendation() == Recommendation.ALLOW ? allowing : banning;
                tables.computeIfAbsent(rule.kind(), kind -> new Table.Builder()).add(rule, key, record);
                counts.computeIfAbsent(rule.kind(), kind -> new EnumMap<>(Recommendation.class))
                        .merge(rule.recommendation(), 1, Integer::sum);
            }
            records = writing.build();
            allowing.forEach((kind, table) -> allows.put(kind, new Table(table, records)));
            banning.forEach((kind, table) -> bans.put(kind, new Table(table, records)));
        }

        /** The rules of this layer as compiled; its {@link #added} layer's not included, its {@link #withdrawn} ones included. */
        int ruleCount() {
            return layerCounts.values().stream().flatMap(byRecommendation -> byRecommendation.values().stream())
                    .mapToInt(Integer::intValue).sum();
        }

        /** How many rules were added to or taken out of the source since its whole compile. */
        int changed() {
            return (added == null ? 0 : added.ruleCount()) + (withdrawn == null ? 0 : withdrawn.length);
        }

        /** {@code base}'s own layer, shared, with {@code withdrawn} of its records passed over and {@code added} (or null) above it. */
        private Compiled(Compiled base, Compiled added, int[] withdrawn) {
            this.name = base.name;
            this.records = base.records;
            this.allows = base.allows;
            this.bans = base.bans;
            this.added = added;
            this.withdrawn = withdrawn;
            this.layerCounts = base.layerCounts;
            this.globsNaming = base.globsNaming;
            merge(base.layerCounts, 1);
            for (int record : withdrawn == null ? new int[0] : withdrawn) {
                counts.get(records.kind(record)).merge(records.recommendation(record), -1, Integer::sum);
            }
            if (added != null) {
                merge(added.layerCounts, 1);
            }
            counts.values().forEach(byRecommendation -> byRecommendation.values().removeIf(count -> count == 0));
            counts.values().removeIf(Map::isEmpty);
        }

        private void merge(Map<EntityKind, Map<Recommendation, Integer>> layer, int sign) {
            layer.forEach((kind, byRecommendation) -> byRecommendation.forEach((recommendation, count) ->
                    counts.computeIfAbsent(kind, any -> new EnumMap<>(Recommendation.class)).merge(recommendation, sign * count, Integer::sum)));
        }

        /**
         * This source with {@code changes} made, as {@link PolicyIndex#change} says; null when they cannot
         * be made without compiling it whole. A rule of the whole compile taken out is marked withdrawn;
         * if the table it was in held others under the same ID or hash (which no slot names, the first
         * one's taking it), those move to the added layer, so that lookups find them.
         */
        Compiled with(RuleChanges changes) {
            Set<PolicyRule> layer = new LinkedHashSet<>();
            if (added != null) {
                for (int record = 0; record < added.records.end(); record = added.records.next(record)) {
                    layer.add(added.records.rule(record));
                }
            }
            TreeSet<Integer> out = new TreeSet<>();
            if (withdrawn != null) {
                Arrays.stream(withdrawn).forEach(out::add);
            }
            for (PolicyRule rule : changes.removed()) {
                if (layer.remove(rule)) {
                    continue;
                }
                int[] underItsKey = recordsUnder(rule);
                int record = locate(rule, underItsKey, out);
                if (record == RuleTable.ABSENT) {
                    return null;
                }
                out.add(record);
                for (int other : underItsKey) { // only the first under a key has the slot: the others move up
                    if (!out.contains(other) && sameSlot(record, other)) {
                        out.add(other);
                        layer.add(records.rule(other));
                    }
                }
            }
            layer.addAll(changes.added());
            Compiled above = layer.isEmpty() ? null : new Compiled(new Source(name, List.copyOf(layer)));
            int[] passedOver = out.isEmpty() ? null : out.stream().mapToInt(Integer::intValue).toArray();
            return new Compiled(this, above, passedOver);
        }

        /** The records of this layer's table for {@code rule} under its ID or hash, as {@link Table#recordsUnder}. */
        private int[] recordsUnder(PolicyRule rule) {
            Table table = (rule.recommendation() == Recommendation.ALLOW ? allows : bans).get(rule.kind());
            return table == null ? new int[0] : table.recordsUnder(rule, key(rule));
        }

        /**
         * Of {@code candidates}, the record, not withdrawn, that holds {@code rule}; {@link RuleTable#ABSENT}
         * when none does, as for a glob, which is never withdrawn.
         */
        private int locate(PolicyRule rule, int[] candidates, Set<Integer> out) {
            for (int record : candidates) {
                if (!out.contains(record) && records.rule(record).equals(rule)) {
                    return record;
                }
            }
            return RuleTable.ABSENT;
        }

        /** Whether two records of this layer are in one table under one ID or hash: only the first has a slot. */
        private boolean sameSlot(int record, int other) {
            if (record == other || records.kind(record) != records.kind(other) || records.form(record) != records.form(other)
                    || (records.recommendation(record) == Recommendation.ALLOW) != (records.recommendation(other) == Recommendation.ALLOW)) {
                return false;
            }
            return switch (records.form(record)) {
                case EXACT -> records.keysEqual(record, other);
                case SHA256 -> Arrays.equals(new Entity(Entity.Form.SHA256, records.value(record)).digest(),
                        new Entity(Entity.Form.SHA256, records.value(other)).digest());
                case GLOB -> false;
            };
        }

        boolean isWithdrawn(int record) {
            return withdrawn != null && Arrays.binarySearch(withdrawn, record) >= 0;
        }

        /** {@code record}, or {@link RuleTable#ABSENT} when it was withdrawn. */
        int unlessWithdrawn(int record) {
            return record != RuleTable.ABSENT && isWithdrawn(record) ? RuleTable.ABSENT : record;
        }

        /**
         * The region of the records a rule's record goes in, by its form, in the order a lookup asks
         * (so {@link #all} finds them in that order too). A hit on a hash or a glob then reads a record
         * among the few thousand of its form, not one anywhere among a million exact IDs'.
         */
        private static int region(PolicyRule rule) {
            return switch (rule.entity().form()) {
                case EXACT -> 0;
                case SHA256 -> 1;
                case GLOB -> 2;
            };
        }

        /** What a rule is looked up by: {@link Entity#key} for an exact ID, else the entity as written. */
        private static String key(PolicyRule rule) {
            return rule.entity().form() == Entity.Form.EXACT ? Entity.key(rule.kind(), rule.entity().value()) : rule.entity().value();
        }

        /** The source's rule that decides the entity: an allow of either layer, else a ban or takedown of either; null when none. */
        PolicyRule decide(Lookup lookup) {
            PolicyRule allow = find(true, lookup);
            return allow != null || lookup.bans == Bans.NONE ? allow : find(false, lookup);
        }

        /** A rule of one verdict (allow, or ban and takedown), the added layer's first; null when none. */
        private PolicyRule find(boolean allow, Lookup lookup) {
            PolicyRule rule = added == null ? null : added.own(allow, lookup);
            return rule != null ? rule : own(allow, lookup);
        }

        /** A rule of one verdict of this layer alone; null when none. */
        private PolicyRule own(boolean allow, Lookup lookup) {
            Table table = (allow ? allows : bans).get(lookup.kind);
            int record = table == null ? RuleTable.ABSENT : table.first(lookup, allow || lookup.bans == Bans.ANY, this);
            return record == RuleTable.ABSENT ? null : records.rule(record);
        }

        /** Every rule that names the entity, found by reading them all: for the explain endpoint, not the request path. */
        void all(Lookup lookup, List<PolicyRule> into) {
            for (int record = 0; record < records.end(); record = records.next(record)) {
                if (records.kind(record) == lookup.kind && !isWithdrawn(record) && names(record, lookup)) {
                    into.add(records.rule(record));
                }
            }
            if (added != null) {
                added.all(lookup, into);
            }
        }

        /** See {@link #globsNaming}: of the globs of the question's kind, allows and bans, in record order as {@link #all} reads them. */
        int[] globsNamingEach(GlobQuestion question, List<Lookup> lookups) {
            return globsNaming.computeIfAbsent(question, asked -> IntStream.concat(globRecords(allows, asked.kind()),
                    globRecords(bans, asked.kind())).sorted().filter(record -> lookups.stream().allMatch(lookup -> names(record, lookup)))
                    .toArray());
        }

        private static IntStream globRecords(Map<EntityKind, Table> tables, EntityKind kind) {
            Table table = tables.get(kind);
            return table == null ? IntStream.empty() : Arrays.stream(table.globRecords);
        }

        private boolean names(int record, Lookup lookup) {
            return switch (records.form(record)) {
                case EXACT -> records.keyEquals(record, lookup.key());
                case SHA256 -> {
                    byte[] digest = new Entity(Entity.Form.SHA256, records.value(record)).digest();
                    yield Arrays.equals(digest, lookup.digest()) || Arrays.equals(digest, lookup.digestAsWritten());
                }
                case GLOB -> Globs.matches(UserIdMatcher.fold(records.value(record)), lookup.folded());
            };
        }
    }
}
