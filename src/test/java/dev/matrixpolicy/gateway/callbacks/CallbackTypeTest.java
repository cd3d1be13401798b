package dev.matrixpolicy.gateway.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnNewEvent;
import dev.matrixpolicy.gateway.chain.RunAll;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A plain function implements any callback's interface, as modules that pick callbacks at startup need. */
class CallbackTypeTest {

    @Test
    void everyCallbackCanBeImplementedByAFunctionThatIsCalledWithTheArguments() {
        for (CallbackType<?, ?, ?> type : Callbacks.ALL) {
            assertThat(callsTheFunction(type)).as(type.path()).isTrue();
        }
    }

    @Test
    void theFunctionsAnswerIsTheCallbacksAnswer() {
        Rejection rejection = Rejection.of("M_FORBIDDEN");
        UserMayInvite.Args args = new UserMayInvite.Args("@a:example.com", "@b:example.com", "!room:example.com");
        List<UserMayInvite.Args> seen = new ArrayList<>();

        UserMayInvite module = UserMayInvite.TYPE.fromFunction(asked -> {
            seen.add(asked);
            return rejection;
        });

        assertThat(module.userMayInvite(args)).isSameAs(rejection);
        assertThat(seen).containsExactly(args);
    }

    @Test
    void aNotificationCallsTheFunctionAndDropsItsAnswer() {
        List<OnNewEvent.Args> seen = new ArrayList<>();

        OnNewEvent module = OnNewEvent.TYPE.fromFunction(asked -> {
            seen.add(asked);
            return RunAll.DELIVERED;
        });
        module.onNewEvent(null);

        assertThat(seen).hasSize(1);
    }

    @Test
    void anInterfaceWhoseMethodTakesNoArgumentsCannotBeImplementedByAFunction() {
        CallbackType<Runnable, Object, Optional<String>> notACallback = new CallbackType<>(Category.SPAM_CHECKER,
                "not_a_callback", Runnable.class, (module, args) -> Optional.empty(), json -> json,
                ResultTypes.OPTIONAL_STRING, Rules.noneFallsThrough());

        assertThatThrownBy(() -> notACallback.fromFunction(args -> Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.Runnable");
    }

    private static <M, A, R> boolean callsTheFunction(CallbackType<M, A, R> type) {
        List<A> seen = new ArrayList<>();
        M module = type.fromFunction(args -> {
            seen.add(args);
            return null;
        });
        type.call().apply(module, null);
        return type.moduleInterface().isInstance(module) && seen.size() == 1;
    }
}
