package dev.matrixpolicy.gateway.policylist;

import dev.matrixpolicy.gateway.files.FileReadProblem;
import dev.matrixpolicy.gateway.files.FileVersion;
import dev.matrixpolicy.gateway.files.Settling;
import dev.matrixpolicy.gateway.matrix.LogText;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * A policy list in a file ({@link RuleText}'s formats), read again when its {@link FileVersion}
 * changes: its modification time, size or identity (a Kubernetes ConfigMap swaps a symlink, which
 * changes the file it leads to).
 *
 * <p>A file rewritten within the tick of its last read, at the same size, keeps its version, so a
 * read that started less than {@link FileVersion#AMBIGUOUS} after the modification time it saw is
 * not remembered: until a read starts that long after it, the file is read on every check (and
 * parsed only when its content differs from the last good content's). How late a check runs (a busy
 * machine) changes nothing. Changed content is applied only once it has stayed the same for
 * {@link Settling#SETTLE}, so a file is not read while it is written, unless its writer pauses for
 * longer; an empty file, which is what a rewrite in place leaves for a moment, is a failed read.
 * Writing a new file and renaming it over the old one is what never shows a reader half a list.
 *
 * <p>Its first read is made in {@link #start}, as every other file the configuration names is read
 * while the gateway starts: a local file needs no network, and its rules are then handed over before
 * the instance serves (see {@link PolicySource#start}).
 */
public final class FileSource extends PollingSource {
    private final Path file;
    private final Clock clock;
    /** The version of the file when its content was last taken; {@link FileVersion#NONE} to read it at the next check. */
    private FileVersion lastSeen = FileVersion.NONE;
    /** What the read in hand may remember: kept as {@link #lastSeen} once its content is taken. */
    private FileVersion seen = FileVersion.NONE;

    public FileSource(String name, Path file, Duration checkInterval, Clock clock) {
        super(name, checkInterval, clock, true);
        this.file = file;
        this.clock = clock;
    }

    @Override
    Read readIfChanged() throws IOException {
        FileVersion version = FileVersion.ofRegularFile(file); // a pipe, opened, would hold the check until a writer came
        if (version.equals(lastSeen)) {
            return Read.UNCHANGED;
        }
        seen = version.asReadAt(clock.instant());
        byte[] bytes = Files.readAllBytes(file);
        if (!Settling.settled(file, bytes)) {
            return Read.CHANGING; // still being written: the next check reads it again
        }
        return new Read.Content(bytes);
    }

    @Override
    void took() {
        lastSeen = seen;
    }

    @Override
    void forget() {
        lastSeen = FileVersion.NONE;
    }

    @Override
    String location() {
        return file.toString();
    }

    /**
     * A file's trouble in the words of every file reader of the gateway ({@link FileReadProblem}):
     * {@code /etc/bans.txt does not exist: create it, or correct the path}; any other refusal names the
     * file before it ({@code /etc/bans.txt: line 2: …}).
     */
    @Override
    String problem(Throwable failed) {
        return switch (failed) {
            case IOException unreadable -> LogText.escaped(FileReadProblem.of(file, unreadable));
            case RuleText.EmptyListException empty -> LogText.escaped(FileReadProblem.emptied(file, "rule"));
            case IllegalArgumentException refused when notUtf8(refused) instanceof CharacterCodingException notText ->
                    LogText.escaped(FileReadProblem.of(file, notText));
            case IllegalArgumentException refused -> LogText.escaped(location()) + ": " + super.problem(refused);
            default -> super.problem(failed); // not the file's doing: its rules could not be taken (the heap ran out, say)
        };
    }

    /** The decoder's refusal behind a refused line, or null. */
    private static Throwable notUtf8(Throwable refused) {
        Throwable cause = refused;
        while (cause != null && !(cause instanceof CharacterCodingException)) {
            cause = cause.getCause();
        }
        return cause;
    }
}
