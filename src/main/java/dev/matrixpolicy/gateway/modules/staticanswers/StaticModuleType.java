package dev.matrixpolicy.gateway.modules.staticanswers;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * {@code static}: fixed answers from configuration, for blanket rules ("no room creation") and for
 * building any chain in tests. A callback not listed is not implemented, so the instance is not in
 * that callback's chain.
 */
@Component
class StaticModuleType extends ModuleType<StaticConfig> {

    StaticModuleType() {
        super("static", StaticConfig.class);
    }

    @Override
    public PolicyModule create(StaticConfig config, ModuleContext context) {
        Optional<String> error = Optional.ofNullable(config.error()).filter(message -> !message.isBlank());
        Map<CallbackType<?, ?, ?>, Object> answers = new LinkedHashMap<>();
        config.results().forEach((callback, value) -> {
            String field = "results." + callback;
            CallbackType<?, ?, ?> type = ConfigValues.callback(field, callback, Callbacks.ALL, "a Synapse callback; known callbacks:");
            if (type == CheckAuth.TYPE) {
                throw new ModuleConfigurationException(field, "auth checkers need a login type and fields; "
                        + "a fixed answer cannot authenticate anyone");
            }
            try {
                answers.put(type, type.resultType().fromConfig(value, error));
            } catch (IllegalArgumentException wrongType) {
                throw new ModuleConfigurationException(field, wrongType.getMessage(), wrongType);
            }
        });
        return new StaticModule(answers);
    }

    private record StaticModule(Map<CallbackType<?, ?, ?>, Object> answers) implements PolicyModule {

        @Override
        public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
            return answers.containsKey(callback) ? Optional.of(constant(callback, answers.get(callback))) : Optional.empty();
        }

        @SuppressWarnings("unchecked") // the answer was read by this callback's own result type
        private static <M, A, R> M constant(CallbackType<M, A, R> callback, Object answer) {
            R fixed = (R) answer;
            return callback.fromFunction(args -> fixed);
        }

        @Override
        public boolean mayBlock() {
            return false;
        }
    }
}
