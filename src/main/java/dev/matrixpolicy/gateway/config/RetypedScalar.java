package dev.matrixpolicy.gateway.config;

import java.util.Optional;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.PropertySourceOrigin;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.core.io.Resource;

/**
 * Where a YAML value was written that YAML reads as other than the text written: {@code no} and
 * {@code on} as false and true, {@code 010} as the number 8, {@code 1e3} as 1000.0. Spring Boot keeps
 * the value YAML read, which a boolean or number setting takes as meant, but a text setting would
 * take as other text ({@code keywords: [no, on]} as "false" and "true"). {@link YamlFileLoader}
 * gives such a value this origin, and {@link ValuesReadAsWritten} refuses it where text is bound.
 * Still a {@link TextResourceOrigin}, so that messages name its file and line as any other's.
 */
final class RetypedScalar extends TextResourceOrigin {
    private final String written;
    private final String readAs;

    /**
     * @param written the text written, {@code no}
     * @param readAs  what YAML reads it as, in words: {@code true or false}, {@code a number}
     */
    RetypedScalar(Resource resource, Location location, String written, String readAs) {
        super(resource, location);
        this.written = written;
        this.readAs = readAs;
    }

    /** The text written. */
    String written() {
        return written;
    }

    /** What YAML reads it as, in words. */
    String readAs() {
        return readAs;
    }

    /** The retyped scalar behind {@code origin}, which a property source may have wrapped in its own. */
    static Optional<RetypedScalar> of(Origin origin) {
        for (Origin at = origin; at != null; at = at instanceof PropertySourceOrigin wrapper ? wrapper.getOrigin() : at.getParent()) {
            if (at instanceof RetypedScalar retyped) {
                return Optional.of(retyped);
            }
        }
        return Optional.empty();
    }
}
