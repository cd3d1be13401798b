/**
 * The catalog: every callback the gateway answers, in the order of the Synapse docs, found by name.
 * The one place that knows every {@code callbacks.<category>}: the chain assembly ({@code dispatch})
 * walks it, and modules that choose their callbacks from configuration (such as {@code static} and
 * {@code http}) look names up in it.
 */
package dev.matrixpolicy.gateway.callbacks.catalog;
