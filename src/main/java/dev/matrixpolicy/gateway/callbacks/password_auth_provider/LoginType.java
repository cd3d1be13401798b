package dev.matrixpolicy.gateway.callbacks.password_auth_provider;

import java.util.List;
import java.util.Objects;

/**
 * A login type and the fields a client must send with it: the key of Synapse's {@code auth_checkers}
 * dict, e.g. {@code ("m.login.password", ("password",))}.
 *
 * @param type   the login type identifier
 * @param fields the field names, in order
 */
public record LoginType(String type, List<String> fields) {
    public LoginType {
        Objects.requireNonNull(type, "type");
        fields = List.copyOf(fields);
        if (type.isBlank()) {
            throw new IllegalArgumentException("a login type must not be blank");
        }
    }

    public static LoginType of(String type, String... fields) {
        return new LoginType(type, List.of(fields));
    }
}
