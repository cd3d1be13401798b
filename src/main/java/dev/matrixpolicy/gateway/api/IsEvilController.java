package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.BadArgumentException;
import dev.matrixpolicy.gateway.matrix.MatrixIds;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.modules.denylist.Denylist;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /v1/modules/{name}/is_evil?user=@someone:example.com}: whether a {@code user_denylist}
 * instance lists a user, the REST form of the web resource in the Synapse docs' spam-checker example.
 * Under {@code /v1/}, so the bearer token guards it like every other policy endpoint. It asks the
 * instance through {@link Denylist}, the module's one public type.
 */
@RestController
final class IsEvilController {
    private final Generations generations;

    IsEvilController(Generations generations) {
        this.generations = generations;
    }

    /** @param evil whether the user is on the list */
    record IsEvil(boolean evil) {
    }

    @GetMapping(path = "/v1/modules/{name}/is_evil", produces = MediaType.APPLICATION_JSON_VALUE)
    IsEvil isEvil(@PathVariable String name, HttpServletRequest request) {
        // read raw: a String parameter would get a repeated one's values joined by commas, which can make a valid user ID of two
        String[] users = request.getParameterValues("user");
        Denylist denylist = generations.current().modules().stream()
                .filter(instance -> instance.type().equals(Denylist.MODULE_TYPE) && instance.name().equals(name))
                .map(instance -> (Denylist) instance.module())
                .findFirst()
                .orElseThrow(() -> MatrixApiException.unrecognized("No " + Denylist.MODULE_TYPE + " module named '" + name + "'"));
        if (users != null && users.length > 1) {
            throw new BadArgumentException(BadArgumentException.Kind.INVALID, "user", "'user' is given more than once: ask about one user");
        }
        if (users == null || users.length == 0 || users[0].isEmpty()) {
            throw new BadArgumentException(BadArgumentException.Kind.MISSING, "user", "missing required query parameter 'user'");
        }
        String user = users[0];
        try {
            MatrixIds.userIdAsSynapseTakesIt(user);
        } catch (IllegalArgumentException invalid) {
            throw new BadArgumentException(BadArgumentException.Kind.INVALID, "user", "'user' is " + invalid.getMessage());
        }
        return new IsEvil(denylist.isListed(user));
    }
}
