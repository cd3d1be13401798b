package dev.matrixpolicy.gateway.policylist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A policy list in a file ({@link RuleText}'s formats), read again when it changes: its modification
 * time, size or identity (a Kubernetes ConfigMap swaps a symlink, which changes the file it leads to).
 */
public final class FileSource extends PollingSource {
    private final Path file;
    private List<Object> lastSeen = List.of();

    public FileSource(String name, Path file, Duration checkInterval, Clock clock) {
        super(name, checkInterval, clock);
        this.file = file;
    }

    @Override
    Optional<RuleText.Parsed> readIfChanged() throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException missing) {
            throw new IOException("no such file");
        }
        Object identity = attributes.fileKey() == null ? "" : attributes.fileKey();
        List<Object> seen = List.of(attributes.lastModifiedTime(), attributes.size(), identity);
        if (seen.equals(lastSeen)) {
            return Optional.empty();
        }
        String text = utf8(Files.readAllBytes(file));
        RuleText.Parsed parsed = RuleText.parse(text, name());
        lastSeen = seen; // only once the content was good: a bad file is read again on the next check
        return Optional.of(parsed);
    }

    @Override
    String location() {
        return file.toString();
    }
}
