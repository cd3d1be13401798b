package dev.matrixpolicy.gateway.module;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * What a module instance may know about its surroundings.
 *
 * <p>Meters that read the instance's own state (a gauge of its queue, a function counter, a cache's
 * or circuit breaker's binder) go through {@link #bindMeters}, never straight to the registry: a
 * configuration reload may build a replacement with the same name, and Micrometer would hand that
 * replacement the old instance's meters, reading the old state. Bound this way, they are registered
 * when the instance starts serving and removed when it stops. Counters and timers the instance only
 * increments may be registered on {@link #meterRegistry()} directly. Those it registers while it is
 * built (a counter per configured rule) are known as its own: once a reload's old instance of the same
 * name has finished, the series only the old one registered (a rule the reload removed) leave the
 * scrape, and those the new one registered again go on counting. What it registers later, on a request
 * or another thread, stays until its name or the callback it is tagged with stops being served, or it
 * removes it itself.
 *
 * @param instanceName  the instance's unique name, for its logs and metric tags
 * @param serverName    the homeserver this gateway serves ({@code policy-gateway.server-name})
 * @param meterRegistry where a module records metrics about its own work
 * @param meterBinders  takes the instance's state-reading meters, see {@link #bindMeters}
 * @param secretFiles   takes each secret file read by {@link #secretFile} and its secret's
 *                      {@linkplain SecretFile#fingerprint fingerprint}: a reload rebuilds the instance
 *                      when one holds another secret
 * @param predecessor   the instance of the same name and module type that this one replaces, when a
 *                      reload builds it because its {@code config} or a secret changed. Of the
 *                      instances of its type that no entry keeps: the one built from the same {@code
 *                      config} (an entry renamed, or whose default name moved), else the one of the same
 *                      name, else one whose name is gone; each handed to one successor at most. It serves until
 *                      this one is swapped in and is closed after. A module may take over what its
 *                      predecessor has learnt (the rules a source last read) rather than start empty.
 *                      Empty at startup. A module must not keep the context (nor a method reference
 *                      bound to it, such as {@code context::bindMeters}) past its creation: it would
 *                      keep the closed predecessor, and every instance before it, in the heap.
 */
public record ModuleContext(String instanceName, String serverName, MeterRegistry meterRegistry,
                            Consumer<MeterBinder> meterBinders, BiConsumer<Path, String> secretFiles,
                            Optional<PolicyModule> predecessor) {
    public ModuleContext {
        Objects.requireNonNull(instanceName, "instanceName");
        Objects.requireNonNull(meterRegistry, "meterRegistry");
        Objects.requireNonNull(meterBinders, "meterBinders");
        Objects.requireNonNull(secretFiles, "secretFiles");
        Objects.requireNonNull(predecessor, "predecessor");
    }

    /** A context whose secret files are not remembered: nothing reloads the instance. */
    public ModuleContext(String instanceName, String serverName, MeterRegistry meterRegistry, Consumer<MeterBinder> meterBinders) {
        this(instanceName, serverName, meterRegistry, meterBinders, (file, fingerprint) -> { }, Optional.empty());
    }

    /** A context whose meters are bound at once: for an instance used on its own, outside any chain. */
    public ModuleContext(String instanceName, String serverName, MeterRegistry meterRegistry) {
        this(instanceName, serverName, meterRegistry, binder -> binder.bindTo(meterRegistry));
    }

    /**
     * A secret (an access token) the instance reads once from a file, surrounding white space ignored.
     * The gateway watches the file: when it holds another secret, the file watcher's reload and
     * {@code POST /actuator/reload} build the instance again, as for a changed {@code config}.
     *
     * @param field the file's field, e.g. {@code token-file}
     * @throws ModuleConfigurationException when the file cannot be read or holds nothing, e.g.
     *         {@code token-file: /run/secrets/token does not exist}
     */
    public String secretFile(String field, Path file) {
        String secret = ConfigValues.secretFile(field, file);
        secretFiles.accept(file, SecretFile.fingerprint(secret));
        return secret;
    }

    /** Registers meters that read this instance's state for as long as it serves. */
    public void bindMeters(MeterBinder binder) {
        meterBinders.accept(binder);
    }
}
