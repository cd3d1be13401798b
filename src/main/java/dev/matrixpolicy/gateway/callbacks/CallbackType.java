package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.chain.ChainRule;
import java.lang.invoke.LambdaConversionException;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Everything the gateway knows about one Synapse callback, in one place.
 *
 * @param category        the Synapse category
 * @param name            the Synapse callback name, e.g. {@code user_may_invite}
 * @param moduleInterface the Java interface a module implements to take part in this callback's chain;
 *                        it has exactly one abstract method, taking the arguments
 * @param call            how to ask one module, e.g. {@code UserMayInvite::userMayInvite}
 * @param reader          reads and validates the callback's JSON arguments
 * @param resultType      the callback's result type
 * @param rule            the chain rule from the Synapse docs
 */
public record CallbackType<M, A, R>(Category category, String name, Class<M> moduleInterface,
                                    BiFunction<M, A, R> call, Function<JsonArgs, A> reader,
                                    ResultType<R> resultType, ChainRule<A, R> rule) {

    /**
     * Per callback interface, a factory from a {@code Function} to an implementation of the
     * interface. Spun on first use, once per interface, by the same factory javac uses for a lambda.
     */
    private static final ClassValue<MethodHandle> FROM_FUNCTION = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> moduleInterface) {
            return fromFunctionFactory(moduleInterface);
        }
    };

    public CallbackType {
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(moduleInterface, "moduleInterface");
        Objects.requireNonNull(call, "call");
        Objects.requireNonNull(reader, "reader");
        Objects.requireNonNull(resultType, "resultType");
        Objects.requireNonNull(rule, "rule");
    }

    /**
     * The callback's interface implemented by a plain function, for modules that decide at startup
     * which callbacks they implement (like {@code static} and {@code http}). What comes back is what
     * {@code answer::apply} written for this interface would give: a class with one field, the
     * function, whose method calls it directly, so a call costs no reflection. The class is made once
     * per interface, on first use.
     */
    public M fromFunction(Function<A, R> answer) {
        Objects.requireNonNull(answer, "answer");
        try {
            return moduleInterface.cast((Object) FROM_FUNCTION.get(moduleInterface).invokeExact(answer));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    /**
     * The callback's arguments as its reader reads them: a JSON Schema of the request body, and an
     * example body the reader accepts. Built anew on each call; for the API reference.
     */
    public JsonArgs.Description arguments() {
        return JsonArgs.describe(reader);
    }

    /** {@code category/name}, as in the URL path. */
    public String path() {
        return category.wireName() + "/" + name;
    }

    @Override
    public String toString() {
        return path();
    }

    /** {@code (Function) -> moduleInterface}, typed {@code (Function) -> Object} for {@code invokeExact}. */
    private static MethodHandle fromFunctionFactory(Class<?> moduleInterface) {
        List<Method> abstractMethods = Arrays.stream(moduleInterface.getMethods())
                .filter(method -> Modifier.isAbstract(method.getModifiers()))
                .toList();
        if (!moduleInterface.isInterface() || abstractMethods.size() != 1 || abstractMethods.getFirst().getParameterCount() != 1) {
            throw new IllegalArgumentException(moduleInterface + " is not an interface with one abstract method of one argument");
        }
        Method method = abstractMethods.getFirst();
        MethodType signature = MethodType.methodType(method.getReturnType(), method.getParameterTypes());
        try {
            MethodHandle apply = MethodHandles.publicLookup()
                    .findVirtual(Function.class, "apply", MethodType.methodType(Object.class, Object.class));
            return LambdaMetafactory.metafactory(MethodHandles.lookup(), method.getName(),
                            MethodType.methodType(moduleInterface, Function.class), signature, apply, signature)
                    .getTarget()
                    .asType(MethodType.methodType(Object.class, Function.class));
        } catch (NoSuchMethodException | IllegalAccessException | LambdaConversionException e) {
            throw new IllegalArgumentException("cannot implement " + moduleInterface + " by a function", e);
        }
    }
}
