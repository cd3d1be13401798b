package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.chain.FailurePolicy;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
        private static final String TOKEN_FILE = "policy-gateway.auth.token-file";

        public Auth {
            if (token != null && !token.isBlank() && tokenFile != null) {
                throw new InvalidSettingException("token-file", "set token or token-file, not both");
            }
        }

        /**
         * The token callers must present: the token file's content when there is one, else
         * {@code token}; empty when neither holds one. Read by the API once, at startup. A token
         * file that does not exist, cannot be read or is empty stops startup with one message.
         */
        public Optional<String> sharedToken() {
            if (tokenFile == null) {
                return Optional.ofNullable(token).map(String::strip).filter(value -> !value.isEmpty());
            }
            String content;
            try {
                content = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            } catch (NoSuchFileException missing) {
                throw refused("the token file does not exist", "Create " + tokenFile
                        + " holding the shared token (the one the homeserver's module sends), or correct " + TOKEN_FILE + ".", missing);
            } catch (AccessDeniedException denied) {
                throw refused("the gateway may not read the token file (permission denied)",
                        "Let the gateway's user read " + tokenFile + ", or correct " + TOKEN_FILE + ".", denied);
            } catch (CharacterCodingException notText) {
                throw refused("the token file is not UTF-8 text", "Write the shared token into " + tokenFile + " as text.", notText);
            } catch (IOException unreadable) {
                throw refused("the token file cannot be read: " + unreadable.getMessage(),
                        "Point " + TOKEN_FILE + " at the file that holds the shared token.", unreadable);
            }
            if (content.isEmpty()) {
                throw refused("the token file is empty", "Write the shared token into " + tokenFile
                        + ", or point " + TOKEN_FILE + " at the file that holds it.", null);
            }
            return Optional.of(content);
        }

        private InvalidConfigurationException refused(String problem, String fix, Exception cause) {
            return new InvalidConfigurationException("Invalid configuration",
                    new BadSetting(TOKEN_FILE, tokenFile, null, problem, fix), cause);
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
