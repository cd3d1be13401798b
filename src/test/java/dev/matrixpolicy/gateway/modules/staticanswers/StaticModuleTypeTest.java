package dev.matrixpolicy.gateway.modules.staticanswers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What the {@code static} module's page promises about the answers it takes. */
class StaticModuleTypeTest {

    /**
     * Notifications are covered by the table's "every notification callback", the spam checks by
     * "every {@code user_may_*}"; {@code check_auth} cannot be static.
     */
    @Test
    void pageNamesTheResultTypeOfEveryCallbackThatTakesAnAnswer() throws IOException {
        String page = Files.readString(Path.of("docs/modules/static.md"));

        assertThat(Callbacks.ALL.stream()
                .filter(callback -> callback.resultType() != ResultTypes.NOTHING && callback != CheckAuth.TYPE)
                .map(CallbackType::name)
                .filter(name -> !page.contains("`" + name + "`") && !(name.startsWith("user_may_") && page.contains("`user_may_*`"))))
                .isEmpty();
    }
}
