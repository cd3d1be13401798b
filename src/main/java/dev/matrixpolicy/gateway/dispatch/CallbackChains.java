package dev.matrixpolicy.gateway.dispatch;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException;
import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Category;
import dev.matrixpolicy.gateway.callbacks.JsonArgs;
import dev.matrixpolicy.gateway.callbacks.ResultType;
import dev.matrixpolicy.gateway.callbacks.background_update_controller.OnUpdate;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.LoginType;
import dev.matrixpolicy.gateway.chain.Chain;
import dev.matrixpolicy.gateway.chain.ChainRunner;
import dev.matrixpolicy.gateway.chain.ChainRunner.CompiledChain;
import dev.matrixpolicy.gateway.chain.Decision;
import dev.matrixpolicy.gateway.chain.Link;
import dev.matrixpolicy.gateway.chain.Trace;
import dev.matrixpolicy.gateway.module.ModuleInstance;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every callback's chain, assembled from one generation's module instances in list order, which is
 * the only order there is. Most callbacks have one chain; auth checkers have one per
 * login type; the background update controller belongs to one module only.
 */
public final class CallbackChains {
    private final Map<String, CallbackEndpoint<?, ?>> endpoints = new LinkedHashMap<>();
    private final Map<LoginType, List<String>> authCheckers;

    public CallbackChains(List<ModuleInstance> modules, ChainRunner runner) {
        Optional<ModuleInstance> backgroundOwner = backgroundUpdateOwner(modules);
        for (CallbackType<?, ?, ?> type : Callbacks.ALL) {
            if (type != CheckAuth.TYPE) {
                List<ModuleInstance> members = type.category() == Category.BACKGROUND_UPDATE_CONTROLLER
                        ? backgroundOwner.stream().toList() : modules;
                add(ChainEndpoint.assemble(type, members, runner));
            }
        }
        AuthCheckerEndpoint auth = AuthCheckerEndpoint.assemble(modules, runner);
        authCheckers = auth.loginTypes();
        add(auth);
    }

    public Optional<CallbackEndpoint<?, ?>> endpoint(Category category, String name) {
        return endpoint(category.wireName() + "/" + name);
    }

    /** The chain of one callback type, typed: every generation has one for each type but {@code check_auth}. */
    @SuppressWarnings("unchecked") // the endpoint at a type's path was assembled for that type
    public <A, R> CallbackEndpoint<A, R> endpoint(CallbackType<?, A, R> type) {
        return (CallbackEndpoint<A, R>) endpoint(type.category(), type.name())
                .orElseThrow(() -> new IllegalArgumentException("No chain for " + type.name()));
    }

    /** @param path the category's wire name and the callback's, e.g. {@code spam_checker/user_may_invite} */
    public Optional<CallbackEndpoint<?, ?>> endpoint(String path) {
        return Optional.ofNullable(endpoints.get(path));
    }

    /** Every endpoint, in the order of the Synapse docs. */
    public List<CallbackEndpoint<?, ?>> endpoints() {
        return List.copyOf(endpoints.values());
    }

    /** The login types with their fields and the modules that check them, in order. */
    public Map<LoginType, List<String>> authCheckers() {
        return authCheckers;
    }

    private void add(CallbackEndpoint<?, ?> endpoint) {
        endpoints.put(endpoint.path(), endpoint);
    }

    /**
     * "Only the first module (in order of appearance in Synapse's configuration file) calling
     * register_background_update_controller_callbacks can register": the owner of the category is
     * the first module implementing any of its callbacks, and it must implement {@code on_update}.
     */
    private static Optional<ModuleInstance> backgroundUpdateOwner(List<ModuleInstance> modules) {
        for (ModuleInstance instance : modules) {
            List<CallbackType<?, ?, ?>> implemented = Callbacks.ALL.stream()
                    .filter(type -> type.category() == Category.BACKGROUND_UPDATE_CONTROLLER)
                    .filter(type -> instance.module().implementation(type).isPresent())
                    .toList();
            if (!implemented.isEmpty()) {
                if (!implemented.contains(OnUpdate.TYPE)) {
                    throw new ChainConfigurationException(instance, "implements " + implemented
                            + " without background_update_controller/on_update, which Synapse requires");
                }
                return Optional.of(instance);
            }
        }
        return Optional.empty();
    }

    private static <C> Link<C> link(ModuleInstance instance, C implementation) {
        return new Link<>(instance.name(), implementation, instance.onFailure(),
                instance.module().mayBlock() ? instance.timeout() : null, instance.mode(), instance.overruns());
    }

    /** A callback with a single chain. */
    private record ChainEndpoint<M, A, R>(CallbackType<M, A, R> type, CompiledChain<A, R> chain)
            implements CallbackEndpoint<A, R> {

        static <M, A, R> ChainEndpoint<M, A, R> assemble(CallbackType<M, A, R> type, List<ModuleInstance> modules,
                                                         ChainRunner runner) {
            List<Link<M>> links = new ArrayList<>();
            for (ModuleInstance instance : modules) {
                instance.module().implementation(type).ifPresent(implementation -> links.add(link(instance, implementation)));
            }
            return new ChainEndpoint<>(type, runner.compile(new Chain<>(type.name(), links), type.call(), type.rule(),
                    type.resultType()::outcome));
        }

        @Override
        public Category category() {
            return type.category();
        }

        @Override
        public String name() {
            return type.name();
        }

        @Override
        public A read(JsonArgs json) {
            return type.reader().apply(json);
        }

        @Override
        public Decision<R> decide(A args) {
            return chain.decide(args);
        }

        @Override
        public Trace<R> explain(A args) {
            return chain.explain(args);
        }

        @Override
        public ResultType<R> resultType() {
            return type.resultType();
        }

        @Override
        public Map<String, List<String>> chains() {
            return Map.of("", chain.modules());
        }

        @Override
        public boolean hasModules() {
            return chain.asksAnyModule();
        }
    }

    /** {@code check_auth}: one chain per login type, chosen by the request's {@code login_type}. */
    private record AuthCheckerEndpoint(Map<String, LoginType> types, Map<String, CompiledChain<CheckAuth.Args, Optional<String>>> chainsByType)
            implements CallbackEndpoint<CheckAuth.Args, Optional<String>> {

        static AuthCheckerEndpoint assemble(List<ModuleInstance> modules, ChainRunner runner) {
            Map<String, LoginType> types = new LinkedHashMap<>();
            Map<String, List<Link<CheckAuth>>> links = new LinkedHashMap<>();
            Map<String, ModuleInstance> firstChecker = new LinkedHashMap<>();
            for (ModuleInstance instance : modules) {
                instance.module().authCheckers().forEach((loginType, checker) -> {
                    LoginType known = types.putIfAbsent(loginType.type(), loginType);
                    if (known != null && !known.fields().equals(loginType.fields())) {
                        throw new ChainConfigurationException(instance, "checks login type '" + loginType.type()
                                + "' with fields " + loginType.fields() + ", but " + firstChecker.get(loginType.type()).describe()
                                + " checks it with fields " + known.fields()
                                + "; Synapse refuses to start when modules disagree on a login type's fields");
                    }
                    firstChecker.putIfAbsent(loginType.type(), instance);
                    links.computeIfAbsent(loginType.type(), type -> new ArrayList<>()).add(link(instance, checker));
                });
            }
            Map<String, CompiledChain<CheckAuth.Args, Optional<String>>> chains = new LinkedHashMap<>();
            links.forEach((type, chainLinks) -> chains.put(type,
                    runner.compile(new Chain<>(CheckAuth.TYPE.name(), chainLinks), CheckAuth.TYPE.call(),
                            CheckAuth.TYPE.rule(), CheckAuth.TYPE.resultType()::outcome)));
            return new AuthCheckerEndpoint(Collections.unmodifiableMap(types), Collections.unmodifiableMap(chains));
        }

        Map<LoginType, List<String>> loginTypes() {
            Map<LoginType, List<String>> described = new LinkedHashMap<>();
            types.forEach((name, type) -> described.put(type, chainsByType.get(name).modules()));
            return Collections.unmodifiableMap(described);
        }

        @Override
        public Category category() {
            return CheckAuth.TYPE.category();
        }

        @Override
        public String name() {
            return CheckAuth.TYPE.name();
        }

        /** Besides the arguments, checks that the login carries every field its login type declares. */
        @Override
        public CheckAuth.Args read(JsonArgs json) {
            CheckAuth.Args args = CheckAuth.TYPE.reader().apply(json);
            LoginType type = types.get(args.loginType());
            if (type != null) {
                for (String field : type.fields()) {
                    if (!args.loginDict().has(field)) {
                        throw new BadArgumentException(BadArgumentException.Kind.MISSING, "login_dict." + field,
                                "login type '" + type.type() + "' needs field 'login_dict." + field + "'");
                    }
                }
            }
            return args;
        }

        /** A login type nobody checks fails authentication, as when every checker answers None. */
        private static final Decision<Optional<String>> NOBODY_CHECKS = new Decision<>(Optional.empty(), Optional.empty());

        @Override
        public Decision<Optional<String>> decide(CheckAuth.Args args) {
            CompiledChain<CheckAuth.Args, Optional<String>> chain = chainsByType.get(args.loginType());
            return chain == null ? NOBODY_CHECKS : chain.decide(args);
        }

        /** The chain of the login type; nobody asked when nobody checks it. */
        @Override
        public Trace<Optional<String>> explain(CheckAuth.Args args) {
            CompiledChain<CheckAuth.Args, Optional<String>> chain = chainsByType.get(args.loginType());
            return chain == null ? Trace.unasked(NOBODY_CHECKS) : chain.explain(args);
        }

        @Override
        public ResultType<Optional<String>> resultType() {
            return CheckAuth.TYPE.resultType();
        }

        @Override
        public Map<String, List<String>> chains() {
            Map<String, List<String>> modulesByType = new LinkedHashMap<>();
            chainsByType.forEach((type, chain) -> modulesByType.put(type, chain.modules()));
            return modulesByType;
        }
    }
}
