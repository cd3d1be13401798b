package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.matrix.LogText;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.boot.context.config.ConfigDataLocation;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * A configuration location whose file name has no extension Spring Boot reads by ({@code
 * file:/etc/gateway/config}, {@code gateway.conf}), which Boot refuses with a 40-line stack trace
 * saying only that the extension is not known: one screen instead, naming the location and the two
 * ways to read it.
 */
final class ConfigLocationFailureAnalyzer extends AbstractFailureAnalyzer<IllegalStateException> {
    /** Boot's words for the location ({@code StandardConfigDataLocationResolver}). */
    private static final Pattern UNLOADABLE = Pattern.compile("Unable to load config data from '(.*)'", Pattern.DOTALL);
    private static final String UNKNOWN_EXTENSION = "File extension is not known to any PropertySourceLoader";

    /** A location Boot would pass over ({@link OptionalLocationWithoutFormat}), refused as Boot refuses it without {@code optional:}. */
    static final class WithoutFormat extends IllegalStateException {
        private final String location;

        WithoutFormat(ConfigDataLocation location) {
            super(problem(location.toString()) + " " + fix(location.toString()));
            this.location = location.toString();
        }
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, IllegalStateException cause) {
        String location;
        WithoutFormat ours = findCause(rootFailure, WithoutFormat.class);
        if (ours != null) {
            location = ours.location;
        } else {
            Matcher boots = UNLOADABLE.matcher(String.valueOf(cause.getMessage()));
            if (!boots.matches() || cause.getCause() == null || !String.valueOf(cause.getCause().getMessage()).startsWith(UNKNOWN_EXTENSION)) {
                return null;
            }
            location = boots.group(1);
        }
        return new FailureAnalysis(problem(location), fix(location), cause);
    }

    private static String problem(String location) {
        return "The configuration location '" + LogText.escaped(location) + "' names a file whose name does not end in .yml,"
                + " .yaml or .properties, by which the gateway knows how to read it.";
    }

    private static String fix(String location) {
        return "Name a file ending in .yml, .yaml or .properties, or give the format in brackets after the location: '"
                + LogText.escaped(location) + "[.yml]'. A location meant as a directory ends in '/'.";
    }
}
