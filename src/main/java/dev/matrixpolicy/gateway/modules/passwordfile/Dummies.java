package dev.matrixpolicy.gateway.modules.passwordfile;

import dev.matrixpolicy.gateway.hashing.Sha256;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Collection;
import java.util.Comparator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The dummy hashes an unknown user's login is checked against, so that it takes as long as a
 * known user's: one hash of a random password per distinct cost among the users' hashes, and for
 * each unknown name one of them, chosen so that unknown names meet each cost in the proportion the
 * users have it.
 *
 * <p>The choice is a keyed hash of the name: the same unknown name always meets the same cost (a
 * known user always costs the same, so a name whose time varied from one try to the next would
 * give itself away), and without the key nobody can tell in advance which cost a name meets. Timing
 * then tells a known user with a rare cost from an unknown name no better than chance, weighted by
 * how rare the cost is.
 *
 * <p>"Every try" includes tries that land on another replica behind the same address, or on the
 * gateway after a restart: a key of each process's own would draw a name's cost afresh in each, and
 * an unknown name would show two times where a known user shows one. So the key is derived from the
 * users' hashes, which every replica reading the same users shares and which stay secret as the
 * file does (whoever holds them needs no timing): from the first of them in sorted order alone, so
 * that a changed password or a user added or removed re-draws the names only when it is that one.
 */
final class Dummies {
    private static final String MAC = "HmacSHA256";
    /** Sets the key apart from any other digest of a hash. */
    private static final String KEY_CONTEXT = "password_file unknown names\n";

    private final SecretKeySpec key;
    /** By the running total of users up to and including each cost: a name's draw picks the first total above it. */
    private final NavigableMap<Long, PasswordHash> byTotal;
    private final long users;

    private Dummies(SecretKeySpec key, NavigableMap<Long, PasswordHash> byTotal, long users) {
        this.key = key;
        this.byTotal = byTotal;
        this.users = users;
    }

    /**
     * @param hashes   the users' hashes
     * @param previous the dummies these replace: the dummy of every cost still in use is kept (making
     *                 one takes as long as a verification, or longer)
     * @param memory   the argon2id budget a new dummy takes its {@code m} from, as a verification of its
     *                 cost does: a reload bringing a new cost makes its dummy on a login's thread, beside
     *                 the verifications running
     * @throws InterruptedException when the thread stops waiting for the budget
     */
    static Dummies of(Collection<PasswordHash> hashes, Optional<Dummies> previous, Argon2Budget memory) throws InterruptedException {
        SecretKeySpec key = keyOf(hashes);
        Map<String, PasswordHash> previousByCost = previous.map(Dummies::byCost).orElse(Map.of());
        // Sorted by cost, so that the same users give the same ranges whatever order they were read in.
        Map<String, Long> counts = hashes.isEmpty() ? Map.of(PasswordHash.DEFAULT_DUMMY_COST, 1L)
                : hashes.stream().collect(Collectors.groupingBy(PasswordHash::cost, TreeMap::new, Collectors.counting()));
        NavigableMap<Long, PasswordHash> byTotal = new TreeMap<>();
        long total = 0;
        for (Map.Entry<String, Long> cost : counts.entrySet()) {
            total += cost.getValue();
            PasswordHash dummy = previousByCost.get(cost.getKey());
            if (dummy == null) {
                Optional<PasswordHash> user = hashes.stream().filter(hash -> hash.cost().equals(cost.getKey())).findFirst();
                dummy = user.isPresent() ? memory.holding(user.get(), user.get()::dummy) : PasswordHash.defaultDummy();
            }
            byTotal.put(total, dummy);
        }
        return new Dummies(key, byTotal, total);
    }

    /** The dummy for a name nobody defined: always the same one for the same name. */
    PasswordHash forUser(String localpart) {
        return byTotal.higherEntry(Math.floorMod(draw(localpart), users)).getValue();
    }

    /** One dummy per cost, by cost. */
    Map<String, PasswordHash> byCost() {
        return byTotal.values().stream().collect(Collectors.toMap(PasswordHash::cost, dummy -> dummy));
    }

    private long draw(String localpart) {
        try {
            Mac mac = Mac.getInstance(MAC);
            mac.init(key);
            byte[] digest = mac.doFinal(localpart.getBytes(StandardCharsets.UTF_8));
            long draw = 0;
            for (int i = 0; i < Long.BYTES; i++) {
                draw = draw << 8 | (digest[i] & 0xff);
            }
            return draw;
        } catch (GeneralSecurityException missing) {
            throw new IllegalStateException("every Java runtime has " + MAC, missing);
        }
    }

    /**
     * The key names are drawn with: a digest of the first hash in sorted order, the same wherever and
     * whenever those users are read. Without users there is one dummy, and nothing to draw.
     */
    private static SecretKeySpec keyOf(Collection<PasswordHash> hashes) {
        String first = hashes.stream().map(PasswordHash::encoded).min(Comparator.naturalOrder()).orElse("");
        return new SecretKeySpec(Sha256.of((KEY_CONTEXT + first).getBytes(StandardCharsets.UTF_8)), MAC);
    }

    @Override
    public String toString() {
        return "Dummies" + byCost().keySet();
    }
}
