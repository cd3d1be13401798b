package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.dispatch.CallbackChains;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import dev.matrixpolicy.gateway.module.SecretFile;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One applied configuration: the {@code policy-gateway} settings, the module instances built from
 * them and the chains those form. Immutable; a reload builds the next generation beside this one and
 * {@link Generations} swaps them whole, so a request sees one generation from start to end.
 *
 * @param number      1 at startup, one more for each configuration applied since
 * @param properties  the settings it was built from
 * @param modules     the module instances, in {@code modules} order; a reload carries an unchanged
 *                    entry's instance over instead of building it again
 * @param chains      every callback's chain
 * @param sharedToken the token the homeserver presents, read from {@code auth.token} or {@code auth.token-file}
 * @param adminToken  the token of the management port's admin endpoints and console, from {@code admin.*}
 * @param appliedAt   when it started to serve
 */
public record Generation(long number, PolicyGatewayProperties properties, List<ModuleInstance> modules,
                         CallbackChains chains, Optional<String> sharedToken, Optional<String> adminToken,
                         Instant appliedAt) {
    public Generation {
        Objects.requireNonNull(properties, "properties");
        modules = List.copyOf(modules);
        Objects.requireNonNull(chains, "chains");
        Objects.requireNonNull(sharedToken, "sharedToken");
        Objects.requireNonNull(adminToken, "adminToken");
        Objects.requireNonNull(appliedAt, "appliedAt");
    }

    /**
     * What it serves, in {@code modules} order, for the log at startup and after a reload: for example
     * {@code 2 module(s): user_denylist 'known-spammers', static 'deny-all'}.
     */
    public String serving() {
        if (modules.isEmpty()) {
            return "no module: policy-gateway.modules is empty, so every callback gives the answer of an empty chain"
                    + " (what Synapse answers with no module: allowed, NOT_SPAM)";
        }
        return modules.size() + " module(s): " + String.join(", ",
                modules.stream().map(instance -> instance.type() + " '" + instance.name() + "'").toList());
    }

    /**
     * Whether {@code file} holds now the secret this generation read from it: the shared token, the
     * admin token, or a module's secret. True for a file it read no secret from.
     */
    public boolean holdsWhatItRead(Path file) {
        List<Optional<String>> read = new ArrayList<>(); // the fingerprints of the secrets it read from the file
        if (file.equals(properties.auth().tokenFile())) {
            read.add(sharedToken.map(SecretFile::fingerprint));
        }
        if (file.equals(properties.admin().tokenFile())) {
            read.add(adminToken.map(SecretFile::fingerprint));
        }
        modules.forEach(instance -> Optional.ofNullable(instance.secretFiles().get(file)).ifPresent(secret -> read.add(Optional.of(secret))));
        if (read.isEmpty()) {
            return true; // not read again: a configuration file, say
        }
        Optional<String> now = SecretFile.fingerprintNow(file);
        return read.stream().allMatch(now::equals);
    }

    /** The instance of the entry with this name. */
    public Optional<ModuleInstance> instance(String name) {
        return modules.stream().filter(instance -> instance.name().equals(name)).findFirst();
    }
}
