/**
 * State that limits keep between calls, shared by every replica when it lives in Redis: token buckets
 * ({@link dev.matrixpolicy.gateway.state.SharedState#take}) and sliding windows of distinct members
 * ({@link dev.matrixpolicy.gateway.state.SharedState#countDistinct}). A pure core: it depends on no
 * other gateway package but {@code outage} (its log lines of an outage) and on no Spring; {@code config} builds the one instance of the process, and
 * module types get it through their constructor.
 *
 * <p>{@link dev.matrixpolicy.gateway.state.MemoryState} keeps it in this process, bounded and expiring;
 * {@link dev.matrixpolicy.gateway.state.RedisState} keeps it in Redis or Valkey, updated atomically on
 * the server by Lua scripts, so that N replicas enforce one limit. Either throws
 * {@link dev.matrixpolicy.gateway.state.StateUnavailableException} when it cannot answer, and the
 * entry's {@code on-failure} decides.
 */
package dev.matrixpolicy.gateway.state;
