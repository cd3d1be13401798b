/**
 * The chain engine: an immutable, ordered list of (module, callback) links and the few
 * combination rules Synapse documents for walking it.
 *
 * <p>Pure Java on purpose: nothing here knows about Spring, HTTP or any particular
 * callback. A rule is written once and every callback names the rule it follows.
 */
package dev.matrixpolicy.gateway.chain;
