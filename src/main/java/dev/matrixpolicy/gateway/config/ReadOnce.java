package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.hashing.Sha256;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.util.Optional;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginLookup;
import org.springframework.boot.origin.OriginTrackedResource;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.AbstractResource;
import org.springframework.core.io.Resource;

/**
 * A configuration file on disk, read once while a loader reads it. {@link YamlFileLoader} checks a
 * file, then hands it to Spring Boot's loader: had each read the file itself, a file replaced in
 * between would give settings that were never checked. Read once, every reader reads the same bytes,
 * and the settings read from them tell those bytes' {@linkplain #fingerprint fingerprint}, by which a
 * reload tells whether the file still holds what it read. Closed, it lets the bytes go: the settings'
 * origins keep naming the file, and whatever reads it after that (a failure analyzer showing a line)
 * reads the file itself. A file packaged in the gateway's jar never changes, and is read as it is.
 */
final class ReadOnce implements AutoCloseable {
    private final Resource resource;
    private final Held held;

    private ReadOnce(Resource resource, Held held) {
        this.resource = resource;
        this.held = held;
    }

    /** Reads {@code resource} into memory if it is a file on disk, which must be a regular file ({@link RegularFileRequired}). */
    static ReadOnce of(Resource resource) throws IOException {
        RegularFileRequired.of(resource);
        if (!resource.isFile()) {
            return new ReadOnce(resource, null);
        }
        if (resource instanceof OriginTrackedResource tracked) {
            // the origin stays outermost: Boot's origins name it as the place the file was imported from
            Held held = new Held(tracked.getResource(), tracked.getContentAsByteArray());
            return new ReadOnce(OriginTrackedResource.of(held, tracked.getOrigin()), held);
        }
        Held held = new Held(resource, resource.getContentAsByteArray());
        return new ReadOnce(held, held);
    }

    /** The file, to be read as often as the loader likes: the same bytes each time until closed. */
    Resource resource() {
        return resource;
    }

    /**
     * The fingerprint (SHA-256, hex) of the bytes a document's settings were read from, if a loader read
     * them from a file on disk once: Boot's loaders give each value an origin naming the resource they
     * read, which is the file as read.
     */
    static Optional<String> fingerprint(PropertySource<?> settings) {
        return held(settings).map(held -> held.fingerprint);
    }

    /** The file on disk a document's settings were read from, if a loader read them from one once. */
    static Optional<Path> file(PropertySource<?> settings) {
        return held(settings).flatMap(Held::path);
    }

    /**
     * The file on disk a loader read once and refused, if {@code origin}, where the refusal points, is in
     * it: with the fingerprint of the bytes refused.
     */
    static Optional<ConfigurationLoader.FileRefused> refused(Origin origin) {
        return held(origin).flatMap(held -> held.path().map(path -> new ConfigurationLoader.FileRefused(path, held.fingerprint)));
    }

    private static Optional<Held> held(PropertySource<?> settings) {
        if (settings instanceof EnumerablePropertySource<?> enumerable && settings instanceof OriginLookup<?>) {
            @SuppressWarnings("unchecked")
            OriginLookup<String> origins = (OriginLookup<String>) settings;
            for (String name : enumerable.getPropertyNames()) {
                if (origins.getOrigin(name) instanceof TextResourceOrigin text) {
                    return held(text);
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Held> held(Origin origin) {
        if (!(origin instanceof TextResourceOrigin text)) {
            return Optional.empty();
        }
        Resource resource = text.getResource() instanceof OriginTrackedResource tracked ? tracked.getResource() : text.getResource();
        return resource instanceof Held held ? Optional.of(held) : Optional.empty();
    }

    @Override
    public void close() {
        if (held != null) {
            held.bytes = null;
        }
    }

    /** The file's bytes as read, standing for the file to everything else: its name, its path, its description. */
    private static final class Held extends AbstractResource {
        private final Resource file;
        private final String fingerprint;
        /** Null once closed. */
        private volatile byte[] bytes;

        Held(Resource file, byte[] bytes) {
            this.file = file;
            this.bytes = bytes;
            this.fingerprint = Sha256.hexOf(bytes);
        }

        /** The file's path, as {@link ConfigurationLoader} names a file it is told of. */
        Optional<Path> path() {
            try {
                return Optional.of(file.getFile().toPath());
            } catch (IOException notAFile) {
                return Optional.empty();
            }
        }

        @Override
        public InputStream getInputStream() throws IOException {
            byte[] read = bytes;
            return read == null ? file.getInputStream() : new ByteArrayInputStream(read);
        }

        @Override
        public byte[] getContentAsByteArray() throws IOException {
            byte[] read = bytes;
            return read == null ? file.getContentAsByteArray() : read.clone();
        }

        @Override
        public long contentLength() throws IOException {
            byte[] read = bytes;
            return read == null ? file.contentLength() : read.length;
        }

        @Override
        public boolean exists() {
            return bytes != null || file.exists();
        }

        @Override
        public boolean isFile() {
            return true;
        }

        @Override
        public File getFile() throws IOException {
            return file.getFile();
        }

        @Override
        public URL getURL() throws IOException {
            return file.getURL();
        }

        @Override
        public URI getURI() throws IOException {
            return file.getURI();
        }

        @Override
        public long lastModified() throws IOException {
            return file.lastModified();
        }

        @Override
        public Resource createRelative(String relativePath) throws IOException {
            return file.createRelative(relativePath);
        }

        @Override
        public String getFilename() {
            return file.getFilename();
        }

        @Override
        public String getDescription() {
            return file.getDescription();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Held held && held.file.equals(file);
        }

        @Override
        public int hashCode() {
            return file.hashCode();
        }
    }
}
