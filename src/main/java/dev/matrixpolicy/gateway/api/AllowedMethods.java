package dev.matrixpolicy.gateway.api;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The one rule for an {@code Allow} header, on every port and for every answer that carries one (a
 * 405, an {@code OPTIONS}): the methods a path handles, {@code HEAD} with {@code GET} (its answer
 * without the body), and {@code OPTIONS}, which every path answers. {@code TRACE} is never among
 * them: no path answers it.
 */
final class AllowedMethods {
    private static final List<String> ORDER = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE");

    /**
     * What {@code OPTIONS *} answers, on every port: the union of what the gateway's paths take (the
     * policy API's callbacks and discovery, the policy server's check and keys, the actuator's reads
     * and {@code reload}, explain). Tomcat's own answer named {@code PUT}, {@code DELETE} and, with
     * TRACE let through to {@link OptionsAndTrace}, {@code TRACE}, which no path takes.
     */
    static final String ANY_PATH = of("GET", "POST");

    private AllowedMethods() {
    }

    /** The header's value for a path that handles {@code handled}, e.g. {@code "GET, HEAD, OPTIONS"}. */
    static String of(String... handled) {
        return of(Arrays.asList(handled));
    }

    static String of(Collection<String> handled) {
        Set<String> methods = new LinkedHashSet<>();
        for (String method : ORDER) {
            if (handled.contains(method) || method.equals("HEAD") && handled.contains("GET")) {
                methods.add(method);
            }
        }
        handled.stream().filter(method -> !method.equals("TRACE") && !method.equals("OPTIONS")).forEach(methods::add);
        methods.add("OPTIONS");
        return String.join(", ", methods);
    }

    /** An {@code Allow} header as another component spelled it ({@code "GET,HEAD"}), in this rule's spelling. */
    static String respell(String header) {
        return of(Arrays.stream(header.split(",")).map(method -> method.strip().toUpperCase(Locale.ROOT))
                .filter(method -> !method.isEmpty()).collect(Collectors.toCollection(LinkedHashSet::new)));
    }
}
