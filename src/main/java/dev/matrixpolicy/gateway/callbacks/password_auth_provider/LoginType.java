package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A login type and the fields a client must send with it: the key of Synapse's {@code auth_checkers}
 * dict, e.g. {@code ("m.login.password", ("password",))}.
 *
 * @param type   the login type identifier
 * @param fields the field names, in order
 */
public record LoginType(String type, List<String> fields) {
    /**
     * The most characters of a login type or of a field's name: the Matrix spec's bound on a namespaced
     * identifier (MSC2758's common grammar, 1 to 255 characters), which a login type such as
     * {@code m.login.password} is. Synapse checks neither, and offers every login type to every client
     * ({@code GET /login}, each re-authentication's flows); our Synapse module refuses a discovery naming a
     * longer one, so a gateway configured with it would have none of its login types registered.
     */
    public static final int LONGEST_NAME = 255;

    public LoginType {
        Objects.requireNonNull(type, "type");
        fields = List.copyOf(fields);
        problemWith(type).ifPresent(problem -> {
            throw new IllegalArgumentException("a login type " + problem);
        });
        fields.forEach(field -> problemWith(field).ifPresent(problem -> {
            throw new IllegalArgumentException("a login field " + problem);
        }));
    }

    public static LoginType of(String type, String... fields) {
        return new LoginType(type, List.of(fields));
    }

    /**
     * What is wrong with a login type or a field's name, worded to follow the configuration key that
     * holds it; empty if nothing.
     */
    public static Optional<String> problemWith(String name) {
        if (name == null || name.isBlank()) {
            return Optional.of("must not be blank");
        }
        int characters = name.codePointCount(0, name.length());
        if (characters > LONGEST_NAME) {
            return Optional.of("is " + characters + " characters long, more than the " + LONGEST_NAME
                    + " of a Matrix namespaced identifier such as m.login.password: shorten it");
        }
        return Optional.empty();
    }
}
