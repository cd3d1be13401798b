package dev.matrixpolicy.gateway.modules.passwordfile;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.hibernate.validator.constraints.time.DurationMax;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Configuration of the {@code password_file} module. At least one of {@code file} and {@code users}
 * must be given; a user is defined in one of them only.
 *
 * @param file                       a file of {@code localpart:hash} lines, {@code #} comments allowed
 * @param users                      inline users, localpart to hash
 * @param customLoginType            a second login type, checked against the same hashes
 * @param reloadCheckInterval        how often, at most, a login looks whether the file changed; a year at
 *                                   most (it is kept in nanoseconds, which hold 292 years)
 * @param maxConcurrentVerifications how many of this instance's hash verifications may run at once;
 *                                   defaults to the number of processors, which those of every instance
 *                                   together never exceed
 */
public record PasswordFileConfig(
        Path file,
        @DefaultValue Map<String, String> users,
        CustomLoginType customLoginType,
        @DefaultValue("10s") @NotNull @DurationMax(days = 366, message = "must be at most 366 days") Duration reloadCheckInterval,
        @Positive Integer maxConcurrentVerifications) {

    /**
     * With the inline users' localparts but not their hashes, so that logging a configuration never
     * hands out what an offline guessing attack needs.
     */
    @Override
    public String toString() {
        return "PasswordFileConfig[file=" + file + ", users=" + (users == null ? null : users.keySet() + " (hashes redacted)")
                + ", customLoginType=" + customLoginType + ", reloadCheckInterval=" + reloadCheckInterval
                + ", maxConcurrentVerifications=" + maxConcurrentVerifications + "]";
    }

    /**
     * A login type of your own, Synapse's {@code ("my.login_type", ("my_field",))}. Checked in
     * {@code create}, together with the rules annotations cannot express (it must not take over
     * {@code m.login.password}).
     *
     * @param type  the login type identifier
     * @param field the login field that carries the password
     */
    public record CustomLoginType(String type, String field) {
    }
}
