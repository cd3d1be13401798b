package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.CallbackChains;
import dev.matrixpolicy.gateway.callbacks.CallbackEndpoint;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Lets a homeserver shim register only the callbacks that have modules, so the homeserver pays
 * nothing for the rest.
 */
@RestController
final class DiscoveryController {
    private final CallbackChains chains;

    DiscoveryController(CallbackChains chains) {
        this.chains = chains;
    }

    record CallbackInfo(String category, String callback) {
    }

    record Callbacks(List<CallbackInfo> callbacks) {
    }

    record AuthChecker(String loginType, List<String> fields) {
    }

    record AuthCheckers(List<AuthChecker> authCheckers) {
    }

    /** Every callback whose chain has at least one module. */
    @GetMapping("/v1/callbacks")
    Callbacks callbacks() {
        return new Callbacks(chains.endpoints().stream()
                .filter(CallbackEndpoint::hasModules)
                .map(endpoint -> new CallbackInfo(endpoint.category().wireName(), endpoint.name()))
                .toList());
    }

    /** The login types that have auth checkers, with the fields a client must send. */
    @GetMapping("/v1/password_auth_provider/auth_checkers")
    AuthCheckers authCheckers() {
        return new AuthCheckers(chains.authCheckers().keySet().stream()
                .map(type -> new AuthChecker(type.type(), type.fields()))
                .toList());
    }
}
