package dev.matrixpolicy.gateway.modules.passwordfile;

import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.modules.passwordfile.CredentialStore.UnusableCredentialsException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.function.LongSupplier;
import org.springframework.stereotype.Component;

/**
 * {@code password_file}: the Synapse docs' password auth provider example, made safe: passwords are
 * bcrypt or argon2id hashes from a file that reloads when it changes, or from the configuration, and
 * unknown users cost as much time as known ones.
 */
@Component
class PasswordFileModuleType extends ModuleType<PasswordFileConfig> {
    static final String NAME = "password_file";

    /** What this process can afford to verify. */
    private final PasswordHash.Limits limits;
    /**
     * The heap, in KiB, that argon2id hashing running at once may hold: one budget for every instance
     * this type builds, since they share one heap. Two entries, or an instance and the one a reload
     * builds to replace it while the old one finishes its logins, would otherwise hold half the heap
     * each, all of it together.
     */
    private final Argon2Budget argon2Memory;
    /**
     * The processors the verifications of every instance this type builds run on together, whatever each
     * instance's {@code max-concurrent-verifications} allows: a verification holds its carrier thread
     * until it ends (a virtual thread is never preempted), and requests run on two carriers per processor,
     * so two entries, or an instance and the one a reload builds to replace it, would otherwise take every
     * carrier from the other requests in a login storm.
     */
    private final Semaphore processors = new Semaphore(Runtime.getRuntime().availableProcessors(), true);

    PasswordFileModuleType() {
        this(PasswordHash.Limits.ofThisProcess());
    }

    PasswordFileModuleType(PasswordHash.Limits limits) {
        super(NAME, PasswordFileConfig.class);
        this.limits = limits;
        this.argon2Memory = new Argon2Budget(limits.argon2MemoryKib());
    }

    @Override
    public PolicyModule create(PasswordFileConfig config, ModuleContext context) {
        return create(config, context, PasswordVerifier.SPRING_SECURITY, System::nanoTime, Clock.systemUTC());
    }

    PasswordFile create(PasswordFileConfig config, ModuleContext context, PasswordVerifier verifier,
                        LongSupplier nanoTime, Clock clock) {
        if (config.file() == null && config.users().isEmpty()) {
            throw new ModuleConfigurationException("file", "set file, users, or both: there are no credentials to check");
        }
        if (config.reloadCheckInterval().isNegative() || config.reloadCheckInterval().isZero()) {
            throw new ModuleConfigurationException("reload-check-interval", "must be positive");
        }
        Optional<LoginType> custom = Optional.ofNullable(config.customLoginType()).map(PasswordFileModuleType::loginType);
        if (custom.filter(type -> type.type().equals(PasswordFile.PASSWORD.type())).isPresent()) {
            throw new ModuleConfigurationException("custom-login-type.type", "m.login.password is always checked, with field "
                    + "'password'; choose a login type of your own");
        }
        CredentialStore credentials;
        try {
            // the store of the instance a reload replaces, whose users log in until this one serves
            Optional<CredentialStore> before = context.predecessor().filter(PasswordFile.class::isInstance)
                    .map(module -> ((PasswordFile) module).credentials());
            credentials = new CredentialStore(context.instanceName(), Optional.ofNullable(config.file()), config.users(),
                    limits, argon2Memory, config.reloadCheckInterval(), nanoTime, clock, context.meterRegistry(), context::bindMeters, before);
        } catch (UnusableCredentialsException unusable) {
            // an inline user's value is a hash, or a password written where its hash belongs
            throw new ModuleConfigurationException(unusable.field(), unusable.getMessage(), null, !unusable.field().equals("file"));
        }
        int concurrency = config.maxConcurrentVerifications() != null
                ? config.maxConcurrentVerifications() : Runtime.getRuntime().availableProcessors();
        return new PasswordFile(credentials, context.serverName(), custom, verifier, concurrency, processors, argon2Memory);
    }

    private static LoginType loginType(PasswordFileConfig.CustomLoginType custom) {
        return LoginType.of(ConfigValues.loginName("custom-login-type.type", custom.type()),
                ConfigValues.loginName("custom-login-type.field", custom.field()));
    }
}
