package dev.matrixpolicy.gateway.modules.passwordfile;

import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.matrix.EventJson;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.module.ListSource;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import tools.jackson.databind.JsonNode;

/**
 * A {@code password_file} instance: auth checkers for {@code m.login.password} and, optionally, one
 * login type of your own, both checked against bcrypt or argon2id hashes.
 *
 * <p>A login for a user nobody defined is checked against a dummy hash of one of the users' costs
 * (see {@link Dummies}), so that unknown and known users take the same time and a timing attacker
 * cannot list the users. Logins for
 * another server's users, with a user name that cannot be a localpart, or with a secret that is not
 * text, are not ours and are answered at once: that reveals nothing about who exists.
 */
final class PasswordFile implements PolicyModule {
    static final LoginType PASSWORD = LoginType.of("m.login.password", "password");

    private final CredentialStore credentials;
    private final String serverName;
    private final PasswordVerifier verifier;
    /** Hashing is expensive on purpose: bound it so a login storm cannot starve the spam checks. */
    private final Semaphore verifications;
    /** The processors the verifications of every instance of the process share. */
    private final Semaphore processors;
    /** The heap argon2id hashing may hold, shared with every other instance of the process. */
    private final Argon2Budget argon2Memory;
    private final Map<LoginType, CheckAuth> checkers;

    PasswordFile(CredentialStore credentials, String serverName, Optional<LoginType> customLoginType,
                 PasswordVerifier verifier, int maxConcurrentVerifications, Semaphore processors, Argon2Budget argon2Memory) {
        this.credentials = credentials;
        this.serverName = serverName;
        this.verifier = verifier;
        this.verifications = new Semaphore(maxConcurrentVerifications, true);
        this.processors = processors;
        this.argon2Memory = argon2Memory;
        Map<LoginType, CheckAuth> byType = new LinkedHashMap<>(); // in order: discovery lists them so
        byType.put(PASSWORD, args -> check(args, PASSWORD.fields().getFirst()));
        customLoginType.ifPresent(custom -> byType.put(custom, args -> check(args, custom.fields().getFirst())));
        this.checkers = Collections.unmodifiableMap(byType);
    }

    /** The credentials it checks logins against. */
    CredentialStore credentials() {
        return credentials;
    }

    @Override
    public List<ListSource> listSources() {
        return credentials.watchesFile() ? List.of(credentials) : List.of();
    }

    @Override
    public Map<LoginType, CheckAuth> authCheckers() {
        return checkers;
    }

    /** Hash verification takes tens of milliseconds by design, and a reload check reads the file system. */
    @Override
    public boolean mayBlock() {
        return true;
    }

    private Optional<String> check(CheckAuth.Args args, String field) {
        Optional<String> localpart = ourLocalpart(args.user());
        JsonNode secret = args.loginDict().get(field);
        // half a surrogate pair, which a JSON escape carries and no UTF-8 can, is in no hashed password:
        // bcrypt would read it as '?', argon2id's hashing throws on it
        if (localpart.isEmpty() || secret == null || !secret.isString() || !EventJson.hasUtf8Form(secret.stringValue())) {
            return Optional.empty();
        }
        Credentials current = credentials.current();
        boolean matches = verify(secret.stringValue(), current.hashFor(localpart.get()));
        return matches && current.users().containsKey(localpart.get()) ? Optional.of("@" + localpart.get() + ":" + serverName) : Optional.empty();
    }

    /**
     * Waits for the heap first, and only then for a slot, the entry's and a processor: a verification
     * waiting for the heap holds no slot that a bcrypt one, which needs no heap, could run in.
     */
    private boolean verify(String password, PasswordHash hash) {
        try {
            return argon2Memory.holding(hash, () -> holding(verifications, () -> holding(processors, () -> verifier.matches(password, hash))));
        } catch (InterruptedException abandoned) {
            return abandoned();
        }
    }

    /** Runs {@code work} once one of {@code slots} is free, in turn with the others waiting. */
    private static <T> T holding(Semaphore slots, Argon2Budget.Work<T> work) throws InterruptedException {
        slots.acquire();
        try {
            return work.run();
        } finally {
            slots.release();
        }
    }

    /** The chain stopped waiting (deadline or shutdown): nobody reads this answer. */
    private static boolean abandoned() {
        Thread.currentThread().interrupt();
        return false;
    }

    /**
     * The localpart, in lower case, of a bare {@code alice} or a full {@code @alice:our.server}; empty
     * for another server's user or something that is not a user name.
     */
    private Optional<String> ourLocalpart(String user) {
        String localpart = user;
        if (user.startsWith("@")) {
            try {
                MatrixIds.userId(user);
            } catch (IllegalArgumentException notAUserId) {
                return Optional.empty();
            }
            int colon = user.indexOf(':');
            if (!user.substring(colon + 1).equalsIgnoreCase(serverName)) {
                return Optional.empty();
            }
            localpart = user.substring(1, colon);
        }
        // Synapse matches user names case-insensitively at login too, and new localparts are lower case.
        localpart = localpart.toLowerCase(Locale.ROOT);
        return Credentials.isLocalpart(localpart) ? Optional.of(localpart) : Optional.empty();
    }
}
