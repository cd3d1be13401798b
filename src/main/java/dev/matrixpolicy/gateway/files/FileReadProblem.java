package dev.matrixpolicy.gateway.files;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Why a file the gateway reads (a module's list, a policy list, a password file) could not be read or used, in
 * the words an admin acts on, never a Java type: every reader of a file says it the same way.
 */
public final class FileReadProblem {
    private FileReadProblem() {
    }

    /** {@code /etc/x does not exist: create it, or correct the path}, and the like. */
    public static String of(Path file, IOException failed) {
        return switch (failed) {
            case NoSuchFileException missing -> file + " does not exist: create it, or correct the path";
            case AccessDeniedException denied -> file + " may not be read by the gateway's user: give it read access";
            case Settling.StillChanging changing -> file + " is still being written (it changed at each of " + Settling.ATTEMPTS
                    + " reads): write the file whole and move it into place, then reload";
            case CharacterCodingException notText -> file + " is not valid UTF-8: save it as UTF-8";
            case IOException directory when Files.isDirectory(file) -> file + " is a directory: name a file";
            case FileVersion.NotARegularFile device -> file + " is not a regular file (a device or a named pipe): name a"
                    + " regular file; a list meant to be empty holds a comment line";
            default -> file + " cannot be read (" + failed.getMessage() + "): check the path and the file's permissions";
        };
    }

    /**
     * A list file emptied where the version in force held entries: truncated, or caught before its
     * writer wrote a byte, so refused; a list meant to be empty says so in a comment.
     *
     * @param entry what the file lists, one of them: {@code user}, {@code entry}
     */
    public static String emptied(Path file, String entry) {
        return file + " is empty; write the file whole and move it into place, and to remove every " + entry
                + " leave a comment line in it";
    }

    /**
     * A list file with nothing in it, not even a comment, at startup: taken as a list of no entries,
     * which is what a file truncated before a restart looks like too, so worth a warning.
     *
     * @param entry what the file lists, one of them: {@code user}, {@code entry}, {@code hash}
     */
    public static String emptyAtStartup(Path file, String entry) {
        return file + " is empty, not even a comment: no " + entry + " of it is in force. If it was emptied by"
                + " accident, restore it; a list meant to be empty says so in a comment line, and this warning goes";
    }
}
