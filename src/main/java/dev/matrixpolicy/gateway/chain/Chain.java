package dev.matrixpolicy.gateway.chain;

import java.util.List;
import java.util.Objects;

/**
 * The module instances that implement one callback, in configuration order. Immutable.
 *
 * @param callback the Synapse callback name, e.g. {@code user_may_invite}
 * @param links    the links in the order they are asked
 * @param <C>      the callback interface
 */
public record Chain<C>(String callback, List<Link<C>> links) {
    public Chain {
        Objects.requireNonNull(callback, "callback");
        links = List.copyOf(links);
        long distinct = links.stream().map(Link::module).distinct().count();
        if (distinct != links.size()) {
            throw new IllegalArgumentException("chain " + callback + " names a module instance twice: "
                    + links.stream().map(Link::module).toList());
        }
    }

    public static <C> Chain<C> empty(String callback) {
        return new Chain<>(callback, List.of());
    }

    public boolean isEmpty() {
        return links.isEmpty();
    }

    public List<String> modules() {
        return links.stream().map(Link::module).toList();
    }
}
