package dev.matrixpolicy.gateway.reload;

import dev.matrixpolicy.gateway.config.ConfigurationLoader;
import dev.matrixpolicy.gateway.config.Generation;
import dev.matrixpolicy.gateway.module.SecretFile;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The files a reload (or the start) left to watch, with what it found in them, published whole: the
 * file watcher, which asks about them once a reload is done, never mixes one reload's files with
 * another's reads when a {@code POST /actuator/reload} ends in between.
 *
 * @param files                the files whose change asks for a reload
 * @param configurationRead    the configuration files the reload read, with the fingerprints of what it read
 * @param configurationRefused the configuration file a loader refused, if that is why the reload was refused
 * @param secretsRefused       the token and secret files a refused reload read, each with the fingerprint of
 *                             the secret it held (empty: none)
 * @param serving              the generation serving once the reload was done
 */
record WatchedFiles(List<Path> files, List<ConfigurationLoader.FileRead> configurationRead,
                    Optional<ConfigurationLoader.FileRefused> configurationRefused,
                    Map<Path, Optional<String>> secretsRefused, Generation serving) {
    WatchedFiles {
        files = List.copyOf(files);
        configurationRead = List.copyOf(configurationRead);
        Objects.requireNonNull(configurationRefused, "configurationRefused");
        secretsRefused = Map.copyOf(secretsRefused);
        Objects.requireNonNull(serving, "serving");
    }

    /**
     * What a reload leaves to watch: the files watched {@code before} (none after a configuration read
     * whole), the configuration files it read, the token and secret files of the generation serving,
     * and what a refused configuration read: a Secret's key the kubelet has not synced yet, a token
     * refused for what it holds, a new import that does not parse. Their next change asks for the
     * configuration again.
     */
    static WatchedFiles after(List<Path> before, List<ConfigurationLoader.FileRead> configurationRead,
                              Optional<ConfigurationLoader.FileRefused> configurationRefused,
                              Map<Path, Optional<String>> secretsRefused, Generation serving) {
        Set<Path> files = new LinkedHashSet<>(before);
        files.addAll(secretsRefused.keySet());
        configurationRefused.ifPresent(refused -> files.add(refused.path()));
        configurationRead.forEach(read -> files.add(read.path()));
        Optional.ofNullable(serving.properties().auth().tokenFile()).ifPresent(files::add);
        Optional.ofNullable(serving.properties().admin().tokenFile()).ifPresent(files::add);
        serving.modules().forEach(instance -> files.addAll(instance.secretFiles().keySet()));
        return new WatchedFiles(List.copyOf(files), configurationRead, configurationRefused, secretsRefused, serving);
    }

    /**
     * Whether {@code file} still holds what the reload found in it: for a configuration file, the bytes
     * it read its settings from, or those a loader refused; for a token or secret file a refused reload
     * read, the secret it found or still none; for any other token or secret file, the secret the
     * serving generation read. The file watcher asks once it has taken the file's fingerprint, so a file
     * changed since the reload read it is never taken as seen.
     */
    boolean holdsWhatWasRead(Path file) {
        List<Optional<String>> read = configurationRead.stream().filter(configuration -> configuration.path().equals(file))
                .map(ConfigurationLoader.FileRead::fingerprint).distinct().toList();
        if (!read.isEmpty()) {
            return read.equals(List.of(Optional.of(FileWatcher.fingerprint(file))));
        }
        if (configurationRefused.isPresent() && configurationRefused.get().path().equals(file)) {
            return configurationRefused.get().fingerprint().equals(FileWatcher.fingerprint(file));
        }
        if (secretsRefused.containsKey(file)) {
            return SecretFile.fingerprintNow(file).equals(secretsRefused.get(file));
        }
        return serving.holdsWhatItRead(file);
    }
}
