package dev.matrixpolicy.gateway.callbacks.third_party_rules;

import dev.matrixpolicy.gateway.callbacks.JsonArgs;

/**
 * The arguments of the 3PID association notifications ({@code on_threepid_bind},
 * {@code on_add_user_third_party_identifier}, {@code on_remove_user_third_party_identifier}).
 *
 * @param userId  the local user
 * @param medium  {@code email} or {@code msisdn}
 * @param address the 3PID address
 */
public record ThirdPartyIdentifierChange(String userId, String medium, String address) {
    static ThirdPartyIdentifierChange read(JsonArgs json) {
        return new ThirdPartyIdentifierChange(json.userId("user_id"), json.string("medium"), json.string("address"));
    }
}
