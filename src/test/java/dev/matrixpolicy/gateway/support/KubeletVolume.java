package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A ConfigMap or Secret volume as the kubelet's atomic writer lays it out and updates it, in a real
 * directory: each version in a timestamped directory {@code ..<n>}, the link {@code ..data} to the
 * current one, and each visible file {@code name -> ..data/name}. An {@linkplain #update update}
 * takes the kubelet's steps in its order: write the new directory, link {@code ..data_tmp} to it,
 * rename that over {@code ..data} (the atomic switch), add the links of new keys, remove those of
 * keys gone, and delete the old directory.
 */
public final class KubeletVolume {
    private static final String DATA = "..data";

    private final Path mount;
    private Map<String, String> files = Map.of();
    private int versions;

    private KubeletVolume(Path mount) {
        this.mount = mount;
    }

    /** A volume mounted at {@code mount} (created if missing) holding {@code files}, by key. */
    public static KubeletVolume mount(Path mount, Map<String, String> files) {
        try {
            KubeletVolume volume = new KubeletVolume(Files.createDirectories(mount));
            volume.update(files);
            return volume;
        } catch (IOException unwritable) {
            throw new UncheckedIOException(unwritable);
        }
    }

    /** The path a pod reads a key's file at: {@code <mount>/<key>}, a link through {@code ..data}. */
    public Path file(String key) {
        return mount.resolve(key);
    }

    /** Replaces the volume's content with {@code next}, the kubelet's way; a key not in it is removed. */
    public void update(Map<String, String> next) {
        try {
            Path old = Files.isSymbolicLink(mount.resolve(DATA)) ? mount.resolve(Files.readSymbolicLink(mount.resolve(DATA))) : null;
            Path version = Files.createDirectory(mount.resolve(".." + ++versions));
            for (Map.Entry<String, String> file : next.entrySet()) {
                Files.writeString(version.resolve(file.getKey()), file.getValue());
            }
            Path link = Files.createSymbolicLink(mount.resolve("..data_tmp"), version.getFileName());
            Files.move(link, mount.resolve(DATA), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            for (String key : Set.copyOf(next.keySet())) {
                if (!Files.isSymbolicLink(file(key))) {
                    Files.createSymbolicLink(file(key), Path.of(DATA, key));
                }
            }
            for (String key : files.keySet()) {
                if (!next.containsKey(key)) {
                    Files.delete(file(key));
                }
            }
            if (old != null) {
                deleteTree(old);
            }
            files = new TreeMap<>(next);
        } catch (IOException unwritable) {
            throw new UncheckedIOException(unwritable);
        }
    }

    private static void deleteTree(Path directory) throws IOException {
        try (Stream<Path> tree = Files.walk(directory)) {
            for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
