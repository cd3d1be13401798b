package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Everything under {@code policy-gateway}, bound and validated once at startup. An unknown key
 * stops startup ({@link UnknownKeyCheck}, added by {@link GatewayConfiguration}): a misspelt key
 * would otherwise leave its setting at the default without a word.
 *
 * @param serverName  the homeserver this gateway serves, as in Synapse's {@code server_name}
 * @param auth        how callers authenticate
 * @param admin       how admins authenticate on the management port
 * @param decisionLog the in-memory log of recent refusals and failures
 * @param defaults    failure handling for modules that do not set their own
 * @param maxBodySize the largest request body accepted; larger ones get 413 M_TOO_LARGE
 * @param modules     the module list, in chain order, like Synapse's {@code modules:}
 * @param reload      how changed configuration files are noticed; read at startup only
 */
@Validated
@ConfigurationProperties("policy-gateway")
public record PolicyGatewayProperties(
        @NotBlank String serverName,
        @Valid @DefaultValue Auth auth,
        @Valid @DefaultValue Admin admin,
        @Valid @DefaultValue DecisionLog decisionLog,
        @Valid @DefaultValue Defaults defaults,
        @DefaultValue("1MB") DataSize maxBodySize,
        @DefaultValue List<@Valid ModuleEntry> modules,
        @Valid @DefaultValue Reload reload) {

    public PolicyGatewayProperties {
        if (serverName != null && !serverName.isBlank() && !MatrixIds.isServerName(serverName)) {
            throw new InvalidSettingException("server-name", "not a valid Matrix server name (hostname[:port])");
        }
        if (maxBodySize.toBytes() <= 0) {
            throw new InvalidSettingException("max-body-size", "must be positive");
        }
        modules = List.copyOf(modules);
    }

    /**
     * The shared bearer token, compared in constant time. Without a token the gateway answers
     * loopback callers only.
     *
     * @param token     the token itself
     * @param tokenFile a file holding the token (a mounted Kubernetes Secret, say); surrounding
     *                  white space is ignored
     */
    public record Auth(String token, Path tokenFile) {
        static final String PREFIX = "policy-gateway.auth";

        public Auth {
            TokenSetting.requireAtMostOne(token, tokenFile);
        }

        /**
         * The token callers must present: the token file's content when there is one, else
         * {@code token}; empty when neither holds one. Read by the API once, at startup. A token
         * file that does not exist, cannot be read or is empty stops startup with one message.
         */
        public Optional<String> sharedToken() {
            return TokenSetting.read(PREFIX, token, tokenFile, "the shared token (the one the homeserver's module sends)");
        }
    }

    /**
     * The token of the management port's admin endpoints ({@code reload}, {@code explain},
     * {@code decisions}) and the console; distinct from the homeserver's. Without one they answer
     * loopback callers only.
     *
     * @param token     the token itself
     * @param tokenFile a file holding the token; surrounding white space is ignored
     */
    public record Admin(String token, Path tokenFile) {
        static final String PREFIX = "policy-gateway.admin";

        public Admin {
            TokenSetting.requireAtMostOne(token, tokenFile);
        }
    }

    /**
     * The admin token, read once at startup like {@link Auth#sharedToken()}. One equal to the
     * homeserver's token stops startup: whoever holds the homeserver's token would be an admin.
     */
    public Optional<String> adminToken() {
        Optional<String> adminToken = TokenSetting.read(Admin.PREFIX, admin.token(), admin.tokenFile(), "the admin token");
        if (adminToken.isPresent() && adminToken.equals(auth.sharedToken())) {
            String key = Admin.PREFIX + (admin.tokenFile() == null ? ".token" : ".token-file");
            throw new InvalidConfigurationException("Invalid configuration", new BadSetting(key, null, null,
                    "the admin token equals the homeserver's token (" + Auth.PREFIX + ".token or token-file)",
                    "Give " + Admin.PREFIX + " a token of its own: whoever holds the homeserver's token must not be an admin."),
                    null);
        }
        return adminToken;
    }

    /**
     * The decision log: the most recent refusals and failures, kept in memory for
     * {@code /actuator/decisions} and the console.
     *
     * @param capacity how many it keeps; the oldest make way for new ones
     */
    public record DecisionLog(@DefaultValue("2000") int capacity) {
        static final int MAX_CAPACITY = 1_000_000;

        public DecisionLog {
            if (capacity < 1 || capacity > MAX_CAPACITY) {
                throw new InvalidSettingException("capacity", "must be between 1 and " + MAX_CAPACITY);
            }
        }
    }

    /**
     * @param onFailure what a chain does when a module throws or times out; Synapse fails the
     *                  operation, so the default is {@code fail-closed}
     * @param timeout   how long a module that may block can take per call
     */
    public record Defaults(@DefaultValue("fail-closed") @NotNull FailurePolicy onFailure,
                           @DefaultValue("5s") @NotNull Duration timeout) {
        public Defaults {
            if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
                throw new InvalidSettingException("timeout", "must be positive");
            }
        }
    }

    /**
     * The configuration files the settings were read from, and the token file, are checked every
     * {@code check-interval} by their content (following symbolic links, so a Kubernetes ConfigMap
     * update, which swaps a link, is seen) and applied when they change. {@code POST /actuator/reload}
     * applies them at once, whatever these say.
     *
     * @param watch         whether the files are checked at all
     * @param checkInterval how often
     */
    public record Reload(@DefaultValue("true") boolean watch, @DefaultValue("1s") @NotNull Duration checkInterval) {
        public Reload {
            if (checkInterval != null && (checkInterval.isNegative() || checkInterval.isZero())) {
                throw new InvalidSettingException("check-interval", "must be positive");
            }
        }
    }

    /**
     * One {@code modules} entry.
     *
     * @param module    the module type name
     * @param name      the instance name; defaults to {@code <type>-<position>}
     * @param onFailure overrides {@link Defaults#onFailure()} for this instance
     * @param timeout   overrides {@link Defaults#timeout()} for this instance
     * @param mode      {@code enforce} (default), or {@code shadow}: the instance is asked and its
     *                  answers recorded, but they never count
     * @param config    the module type's own configuration, as plain values. Only its presence
     *                  counts here (its keys are known); it is bound again, to the module type's
     *                  record and with its own unknown-key check, where the instance is built.
     */
    public record ModuleEntry(@NotBlank String module, String name, FailurePolicy onFailure, Duration timeout,
                              @DefaultValue("enforce") Link.Mode mode, Map<String, Object> config) {
    }
}
