package dev.matrixpolicy.gateway.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.io.Resource;

/**
 * A configuration file on disk must be a regular file. A named pipe (what a shell's
 * {@code <(envsubst < gateway.yml)} hands over) can be read once, but the gateway reads each file
 * again as it finishes starting, at every check of the file watcher and at every reload, where the
 * pipe would give nothing: the
 * file would be refused as empty, which says nothing of the cause. Refused before it is opened, since
 * opening a pipe with no writer waits for one. The files packaged in the gateway's jar are not files
 * on disk and are not checked.
 */
final class RegularFileRequired {
    private RegularFileRequired() {
    }

    /** {@code resource}, unless it is a file on disk that is not a regular file. */
    static Resource of(Resource resource) throws IOException {
        if (!resource.isFile()) {
            return resource;
        }
        Path file = resource.getFile().toPath();
        if (Files.isRegularFile(file)) {
            return resource;
        }
        boolean directory = Files.isDirectory(file);
        throw new InvalidConfigurationException("Configuration file that is not a regular file", new BadSetting(null, null,
                new TextResourceOrigin(resource, new TextResourceOrigin.Location(0, 0)),
                directory ? "it is a directory, where the location names a file"
                        : "it is a named pipe or a device (a shell's <(...) is a pipe), which the gateway cannot read again"
                                + " at a reload as it reads a file",
                // a location ending in '/' reads Boot's spring.config.name in the directory, not each file in it
                directory ? "Name the configuration file in the directory, or end the location with '/' to read the"
                        + " application.yml or application.properties in it, and start the gateway again."
                        : "Write the configuration to a file and name that file (for a template: envsubst < gateway.yml.in"
                                + " > gateway.yml), and start the gateway again."),
                null);
    }
}
