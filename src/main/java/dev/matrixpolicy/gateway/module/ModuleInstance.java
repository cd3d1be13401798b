package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.chain.Overruns;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One entry of the configured {@code modules} list, built: its unique instance name, the module,
 * and how its failures are handled. The list's order is the only order of every chain.
 *
 * @param position  the entry's index in the {@code modules} list
 * @param type      the module type that built it, e.g. {@code static}
 * @param name      the instance name, unique in the list
 * @param module    the module built by its module type
 * @param onFailure what a chain does when this module throws or times out
 * @param timeout   how long the module may take per call
 * @param mode      whether its answers count, or are only recorded ({@code shadow})
 * @param secretFiles the secret files the module read when it was built ({@link ModuleContext#secretFile}),
 *                  each with its secret's fingerprint then
 * @param overruns  the module's calls running past their deadline, whatever callback they answer: a
 *                  reload that keeps the module keeps them, so a module stuck for good is not given
 *                  a fresh allowance of threads by each reload
 */
public record ModuleInstance(int position, String type, String name, PolicyModule module, FailurePolicy onFailure,
                             Duration timeout, Link.Mode mode, Map<Path, String> secretFiles, Overruns overruns)
        implements AutoCloseable {
    /**
     * What the metrics name the deciding instance of a decision no instance made, every entry having
     * fallen through ({@code policy_decisions_total{module="none"}}): no instance may take this name, or
     * those decisions would count as its own, and go with its series when a reload removes it.
     */
    public static final String NO_INSTANCE = "none";

    public ModuleInstance {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(module, "module");
        Objects.requireNonNull(onFailure, "onFailure");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(overruns, "overruns");
        secretFiles = Map.copyOf(secretFiles);
    }

    /** A module just built: none of its calls has run past its deadline yet. */
    public ModuleInstance(int position, String type, String name, PolicyModule module, FailurePolicy onFailure,
                          Duration timeout, Link.Mode mode, Map<Path, String> secretFiles) {
        this(position, type, name, module, onFailure, timeout, mode, secretFiles, new Overruns());
    }

    /** An instance whose module read no secret file. */
    public ModuleInstance(int position, String type, String name, PolicyModule module, FailurePolicy onFailure,
                          Duration timeout, Link.Mode mode) {
        this(position, type, name, module, onFailure, timeout, mode, Map.of());
    }

    /** An enforcing instance. */
    public ModuleInstance(int position, String type, String name, PolicyModule module, FailurePolicy onFailure,
                          Duration timeout) {
        this(position, type, name, module, onFailure, timeout, Link.Mode.ENFORCE);
    }

    /** Whether a secret file the module read holds another secret now, or none: the module must be built again. */
    public boolean secretFilesChanged() {
        return secretFiles.entrySet().stream()
                .anyMatch(read -> !SecretFile.fingerprintNow(read.getKey()).equals(Optional.of(read.getValue())));
    }

    /** Closes the module: see {@link PolicyModule#close()}. */
    @Override
    public void close() {
        module.close();
    }

    /** How configuration errors name this entry, e.g. {@code modules[2] (static 'deny-all')}. */
    public String describe() {
        return "modules[" + position + "] (" + type + " '" + name + "')";
    }
}
