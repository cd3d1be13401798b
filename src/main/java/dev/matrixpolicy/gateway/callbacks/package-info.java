/**
 * The callback vocabulary: what every Synapse callback is made of, and nothing that answers one.
 * {@link dev.matrixpolicy.gateway.callbacks.CallbackType} describes one callback; besides it live the
 * {@link dev.matrixpolicy.gateway.callbacks.Category categories}, the argument reader
 * {@link dev.matrixpolicy.gateway.callbacks.JsonArgs}, the {@link dev.matrixpolicy.gateway.callbacks.ResultTypes result types}
 * and results ({@link dev.matrixpolicy.gateway.callbacks.SpamVerdict},
 * {@link dev.matrixpolicy.gateway.callbacks.Rejection}, ...), the {@link dev.matrixpolicy.gateway.callbacks.Rules chain rules}
 * by their Synapse names and the {@link dev.matrixpolicy.gateway.callbacks.Outcomes outcome labels}.
 *
 * <p>The callbacks themselves are in the sub-packages, one per Synapse category
 * ({@code callbacks.spam_checker}, {@code callbacks.third_party_rules}, ...): one small interface per
 * callback, carrying its {@code TYPE}, the {@code CallbackType} that names the callback as Synapse does,
 * says how its JSON arguments are read, what its result type is and which chain rule combines the
 * answers of several modules. {@code callbacks.catalog} lists them all.
 *
 * <p>The layering, held by {@code PackageRulesTest}: this package uses none of its sub-packages; a
 * category uses only this package, {@code chain} and {@code matrix}; only the catalog knows every
 * category. Nothing under {@code callbacks} knows Spring, the modules, how chains are assembled
 * ({@code dispatch}) or the web.
 */
package dev.matrixpolicy.gateway.callbacks;
