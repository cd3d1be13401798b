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

    /** Boot's failure for such a location, for one Boot would pass over ({@link OptionalLocationWithoutFormat}). */
    static IllegalStateException unknownExtension(ConfigDataLocation location) {
        return new IllegalStateException("Unable to load config data from '" + location + "'", new IllegalStateException(
                UNKNOWN_EXTENSION + ". If the location is meant to reference a directory, it must end in '/'"));
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, IllegalStateException cause) {
        Matcher location = UNLOADABLE.matcher(String.valueOf(cause.getMessage()));
        if (!location.matches() || cause.getCause() == null || !String.valueOf(cause.getCause().getMessage()).startsWith(UNKNOWN_EXTENSION)) {
            return null;
        }
        String shown = LogText.escaped(location.group(1));
        return new FailureAnalysis("The configuration location '" + shown + "' names a file whose name does not end in .yml,"
                + " .yaml or .properties, by which the gateway knows how to read it.",
                "Name a file ending in .yml, .yaml or .properties, or give the format in brackets after the location: '"
                        + shown + "[.yml]'. A location meant as a directory ends in '/'.", cause);
    }
}
