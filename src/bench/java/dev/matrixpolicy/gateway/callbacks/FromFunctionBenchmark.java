package dev.matrixpolicy.gateway.callbacks;

import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandleProxies;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One call of a {@code static} module's answer, asked the way the chain asks (through the
 * callback's {@code call}), with the answer's function turned into the callback's interface three ways:
 * by {@link CallbackType#fromFunction} (LambdaMetafactory at run time), by {@code answer::apply}
 * written in the source (how every TYPE did it before), and by {@link MethodHandleProxies}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FromFunctionBenchmark {
    private static final SpamVerdict FIXED = Rejection.of("M_FORBIDDEN");

    final UserMayInvite.Args args = new UserMayInvite.Args("@alice:example.com", "@bob:example.com", "!room:example.com");
    final Function<UserMayInvite.Args, SpamVerdict> answer = asked -> FIXED;
    UserMayInvite derived;
    UserMayInvite written;
    UserMayInvite proxy;

    @Setup
    public void implement() throws ReflectiveOperationException {
        derived = UserMayInvite.TYPE.fromFunction(answer);
        written = answer::apply;
        MethodHandle apply = MethodHandles.publicLookup()
                .findVirtual(Function.class, "apply", MethodType.methodType(Object.class, Object.class))
                .bindTo(answer);
        proxy = MethodHandleProxies.asInterfaceInstance(UserMayInvite.class, apply);
    }

    @Benchmark
    public SpamVerdict fromFunction() {
        return UserMayInvite.TYPE.call().apply(derived, args);
    }

    @Benchmark
    public SpamVerdict writtenLambda() {
        return UserMayInvite.TYPE.call().apply(written, args);
    }

    @Benchmark
    public SpamVerdict methodHandleProxy() {
        return UserMayInvite.TYPE.call().apply(proxy, args);
    }
}
