/**
 * Reading a backend's reply within a cap, the one rule every HTTP reply the gateway reads goes
 * through: a module's {@code Backend} ({@code max-reply-size}), a policy list's URL and policy room
 * sources ({@code max-size}) and the policy server's key fetches. {@link
 * dev.matrixpolicy.gateway.replies.ReplyCap} reads a body into memory, or hands it over as a stream
 * for a parser, and fails with a {@link dev.matrixpolicy.gateway.replies.ReplyTooLargeException}
 * naming the limit as soon as one byte more than the cap arrives (before reading, when the reply
 * declares a longer {@code Content-Length}). {@link dev.matrixpolicy.gateway.replies.RetryAfter}
 * reads how long a reply's {@code Retry-After} asks to wait, in seconds or as an HTTP date, and {@link
 * dev.matrixpolicy.gateway.replies.FailureCauses} says in one line why no reply came. Sizes and
 * durations in messages are written as configuration writes them ({@link
 * dev.matrixpolicy.gateway.replies.ReplyCap#format(long)}, {@link
 * dev.matrixpolicy.gateway.replies.Durations}): a reply's limits and waits are what they mostly
 * name, and every layer above can reach them here (the modules through the extension point's
 * {@code ConfigValues.format}).
 *
 * <p>What replies and bodies held at once may take of the heap is here too: {@link
 * dev.matrixpolicy.gateway.replies.HeapBudget}, the one counter that the policy server's and the
 * management port's request bodies and every module backend's replies draw on, and {@link
 * dev.matrixpolicy.gateway.replies.JsonTreeCost}, what a JSON text's tree will take, estimated before
 * it is built.
 *
 * <p>Pure Java, at the bottom of the layering: it uses no other package of the gateway and no
 * Spring, so the extension point and the pure cores ({@code policylist}, {@code policyserver}) can
 * all use it.
 */
package dev.matrixpolicy.gateway.replies;
