package dev.matrixpolicy.gateway.module;

import dev.matrixpolicy.gateway.files.FileVersion;
import dev.matrixpolicy.gateway.hashing.Sha256;
import dev.matrixpolicy.gateway.matrix.ByteOrderMark;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A secret (a token) kept in a file, a mounted Kubernetes Secret say: read once, surrounding white
 * space ignored. The one reader of such files, for the gateway's own tokens
 * ({@code policy-gateway.auth}, {@code policy-gateway.admin}) and for the modules' (through
 * {@link ConfigValues#secretFile}); each caller says what is wrong in its own error type, with the
 * words found here.
 */
public final class SecretFile {
    private SecretFile() {
    }

    /** Why a file gives no secret. */
    public enum Problem {
        MISSING("does not exist"),
        DENIED("may not be read by the gateway's user (permission denied)"),
        NOT_TEXT("is not UTF-8 text"),
        UNREADABLE("cannot be read"),
        EMPTY("is empty");

        private final String predicate;

        Problem(String predicate) {
            this.predicate = predicate;
        }

        /** What is wrong, said of the file: {@code does not exist}, {@code is empty}. */
        public String predicate() {
            return predicate;
        }
    }

    /** A file that holds no usable secret. */
    public static final class UnreadableSecretException extends RuntimeException {
        private final transient Path file;
        private final Problem problem;

        UnreadableSecretException(Path file, Problem problem, Throwable cause) {
            super(file + " " + problem.predicate() + (problem == Problem.UNREADABLE && cause != null ? ": " + cause.getMessage() : ""),
                    cause);
            this.file = file;
            this.problem = problem;
        }

        public Path file() {
            return file;
        }

        public Problem problem() {
            return problem;
        }

        /** The problem said of the file, without its path: {@code does not exist}, {@code cannot be read: ...}. */
        public String predicate() {
            return getMessage().substring(file.toString().length() + 1);
        }
    }

    /** A fingerprint of a secret (its SHA-256 in hex), to tell whether a file holds another one now without keeping it twice. */
    public static String fingerprint(String secret) {
        return Sha256.hexOf(secret.getBytes(StandardCharsets.UTF_8));
    }

    /** The fingerprint of the file's secret now; empty when it holds none (missing, unreadable, empty). */
    public static Optional<String> fingerprintNow(Path file) {
        try {
            return Optional.of(fingerprint(readNow(file)));
        } catch (UnreadableSecretException unreadable) {
            return Optional.empty();
        }
    }

    /**
     * The secret files a thread reads while a record is open, each with the fingerprint of the secret
     * it held (empty: none, the file missing, unreadable or empty): what a configuration read before it
     * was refused, a token refused for its content included, so that the file's next change asks for
     * the configuration again. Records nest: an outer one is told of the reads of an inner one too.
     */
    public static final class Reads implements AutoCloseable {
        private static final ThreadLocal<Reads> OPEN = new ThreadLocal<>();
        private final Reads outer = OPEN.get();
        private final Map<Path, Optional<String>> read = new LinkedHashMap<>();

        private Reads() {
        }

        /** Records this thread's reads until closed. */
        public static Reads record() {
            Reads reads = new Reads();
            OPEN.set(reads);
            return reads;
        }

        /** The files read so far, in the order first read, each with what it held when last read. */
        public Map<Path, Optional<String>> read() {
            return Collections.unmodifiableMap(new LinkedHashMap<>(read));
        }

        private static void told(Path file, Optional<String> held) {
            for (Reads reads = OPEN.get(); reads != null; reads = reads.outer) {
                reads.read.put(file, held);
            }
        }

        @Override
        public void close() {
            if (outer == null) {
                OPEN.remove();
            } else {
                OPEN.set(outer);
            }
        }
    }

    /**
     * The file's content, stripped.
     *
     * @throws UnreadableSecretException when the file is missing, unreadable, not text or empty
     */
    public static String read(Path file) {
        try {
            String secret = readNow(file);
            Reads.told(file, Optional.of(fingerprint(secret)));
            return secret;
        } catch (UnreadableSecretException unreadable) {
            Reads.told(file, Optional.empty());
            throw unreadable;
        }
    }

    private static String readNow(Path file) {
        String content;
        try {
            FileVersion.ofRegularFile(file); // a named pipe is never opened: that blocks until a writer comes
            content = ByteOrderMark.dropped(Files.readString(file, StandardCharsets.UTF_8)).strip();
        } catch (NoSuchFileException missing) {
            throw new UnreadableSecretException(file, Problem.MISSING, missing);
        } catch (AccessDeniedException denied) {
            throw new UnreadableSecretException(file, Problem.DENIED, denied);
        } catch (CharacterCodingException notText) {
            throw new UnreadableSecretException(file, Problem.NOT_TEXT, notText);
        } catch (IOException unreadable) {
            throw new UnreadableSecretException(file, Problem.UNREADABLE, unreadable);
        }
        if (content.isEmpty()) {
            throw new UnreadableSecretException(file, Problem.EMPTY, null);
        }
        return content;
    }
}
