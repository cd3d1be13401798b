package dev.matrixpolicy.gateway.support;

import static dev.matrixpolicy.gateway.support.Fixtures.FEDERATED_INVITE_EVENT;
import static dev.matrixpolicy.gateway.support.Fixtures.MESSAGE_EVENT;
import static dev.matrixpolicy.gateway.support.Fixtures.STATE_EVENTS;

import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * One valid request for every callback, with the answer the e2e profile's chain
 * pass -> decide -> never gives: (path, body, status, expected JSON).
 */
public final class CallbackRequests {
    private static final String NOTHING = "{\"result\": null}";

    private CallbackRequests() {
    }

    public static Stream<Arguments> everyCallback() {
        String refused = "{\"errcode\": \"M_FORBIDDEN\", \"error\": \"Refused by decide\"}";
        return Stream.of(
                // spam checker: NOT_SPAM falls through, "decide" rejects, "never" is not asked
                call("spam_checker/check_event_for_spam", "{\"event\": " + MESSAGE_EVENT + "}", 403, refused),
                call("spam_checker/user_may_join_room",
                        "{\"user\": \"@alice:example.com\", \"room\": \"!room:example.com\", \"is_invited\": false}",
                        200, "{\"result\": \"NOT_SPAM\"}"),
                call("spam_checker/user_may_invite",
                        "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.org\", \"room_id\": \"!room:example.com\"}",
                        403, "{\"errcode\": \"M_LIMIT_EXCEEDED\", \"error\": \"Refused by decide\"}"),
                call("spam_checker/user_may_send_3pid_invite",
                        "{\"inviter\": \"@alice:example.com\", \"medium\": \"email\", \"address\": \"bob@example.org\", \"room_id\": \"!room:example.com\"}",
                        403, refused),
                call("spam_checker/user_may_create_room", "{\"user_id\": \"@alice:example.com\"}", 403, refused),
                call("spam_checker/user_may_create_room_alias",
                        "{\"user_id\": \"@alice:example.com\", \"room_alias\": \"#lobby:example.com\"}", 403, refused),
                call("spam_checker/user_may_publish_room",
                        "{\"user_id\": \"@alice:example.com\", \"room_id\": \"!room:example.com\"}", 403, refused),
                call("spam_checker/check_username_for_spam",
                        "{\"user_profile\": {\"user_id\": \"@spammy:example.org\", \"display_name\": \"Buy now\", \"avatar_url\": null}}",
                        200, "{\"result\": true}"),
                call("spam_checker/check_registration_for_spam",
                        "{\"email_threepid\": null, \"username\": \"carol\", \"request_info\": [[\"Element/1.0\", \"192.0.2.1\"]], \"auth_provider_id\": null}",
                        200, "{\"result\": \"SHADOW_BAN\"}"),
                call("spam_checker/check_media_file_for_spam",
                        "{\"file_info\": {\"server_name\": null, \"file_id\": \"abcdef\", \"url_cache\": false, \"thumbnail\": null},"
                                + " \"file\": {\"sha256\": \"" + "a".repeat(64) + "\", \"size\": 1024, \"media_type\": \"image/png\"}}",
                        403, refused),
                call("spam_checker/should_drop_federated_event", "{\"event\": " + MESSAGE_EVENT + "}", 200, "{\"result\": true}"),
                call("spam_checker/check_login_for_spam",
                        "{\"user_id\": \"@alice:example.com\", \"device_id\": null, \"initial_display_name\": \"Phone\","
                                + " \"request_info\": [[null, \"192.0.2.1\"]], \"auth_provider_id\": null}", 403, refused),
                call("spam_checker/user_may_send_state_event",
                        "{\"user_id\": \"@alice:example.com\", \"room_id\": \"!room:example.com\", \"event_type\": \"m.room.topic\","
                                + " \"state_key\": \"\", \"content\": {\"topic\": \"Buy now\"}}", 403, refused),
                call("spam_checker/federated_user_may_invite", "{\"event\": " + FEDERATED_INVITE_EVENT + "}", 403, refused),
                // third-party rules
                call("third_party_rules/check_event_allowed",
                        "{\"event\": " + MESSAGE_EVENT + ", \"state_events\": " + STATE_EVENTS + "}",
                        200, "{\"result\": {\"allowed\": false, \"replacement\": null}}"),
                call("third_party_rules/on_create_room",
                        "{\"requester\": {\"user_id\": \"@alice:example.com\", \"device_id\": \"PHONE\"},"
                                + " \"request_content\": {\"preset\": \"private_chat\"}, \"is_requester_admin\": false}", 403, refused),
                call("third_party_rules/check_threepid_can_be_invited",
                        "{\"medium\": \"email\", \"address\": \"bob@example.org\", \"state_events\": " + STATE_EVENTS + "}",
                        200, "{\"result\": false}"),
                call("third_party_rules/check_visibility_can_be_modified",
                        "{\"room_id\": \"!room:example.com\", \"state_events\": " + STATE_EVENTS + ", \"new_visibility\": \"public\"}",
                        200, "{\"result\": false}"),
                call("third_party_rules/on_new_event", "{\"event\": " + MESSAGE_EVENT + ", \"state_events\": " + STATE_EVENTS + "}",
                        200, NOTHING),
                call("third_party_rules/check_can_shutdown_room",
                        "{\"user_id\": \"@admin:example.com\", \"room_id\": \"!room:example.com\"}", 200, "{\"result\": false}"),
                call("third_party_rules/check_can_deactivate_user",
                        "{\"user_id\": \"@alice:example.com\", \"by_admin\": true}", 200, "{\"result\": false}"),
                call("third_party_rules/on_profile_update",
                        "{\"user_id\": \"@alice:example.com\", \"new_profile\": {\"display_name\": \"Alice\", \"avatar_url\": null},"
                                + " \"by_admin\": false, \"deactivation\": false}", 200, NOTHING),
                call("third_party_rules/on_user_deactivation_status_changed",
                        "{\"user_id\": \"@alice:example.com\", \"deactivated\": true, \"by_admin\": false}", 200, NOTHING),
                call("third_party_rules/on_threepid_bind",
                        "{\"user_id\": \"@alice:example.com\", \"medium\": \"email\", \"address\": \"alice@example.com\"}", 200, NOTHING),
                call("third_party_rules/on_add_user_third_party_identifier",
                        "{\"user_id\": \"@alice:example.com\", \"medium\": \"email\", \"address\": \"alice@example.com\"}", 200, NOTHING),
                call("third_party_rules/on_remove_user_third_party_identifier",
                        "{\"user_id\": \"@alice:example.com\", \"medium\": \"msisdn\", \"address\": \"33123456789\"}", 200, NOTHING),
                // password auth provider
                call("password_auth_provider/check_auth",
                        "{\"user\": \"bob\", \"login_type\": \"m.login.password\", \"login_dict\": {\"password\": \"builder\"}}",
                        200, "{\"result\": \"@bob:example.com\"}"),
                call("password_auth_provider/check_3pid_auth",
                        "{\"medium\": \"email\", \"address\": \"carol@example.com\", \"password\": \"secret\"}",
                        200, "{\"result\": \"@carol:example.com\"}"),
                call("password_auth_provider/on_logged_out",
                        "{\"user_id\": \"@alice:example.com\", \"device_id\": \"PHONE\", \"access_token\": \"syt_abc\"}", 200, NOTHING),
                call("password_auth_provider/get_username_for_registration",
                        "{\"uia_results\": {\"m.login.dummy\": true}, \"params\": {\"username\": \"c\"}}", 200, "{\"result\": \"carol\"}"),
                call("password_auth_provider/get_displayname_for_registration",
                        "{\"uia_results\": {\"m.login.dummy\": true}, \"params\": {}}", 200, "{\"result\": \"Carol\"}"),
                call("password_auth_provider/is_3pid_allowed",
                        "{\"medium\": \"email\", \"address\": \"carol@example.com\", \"registration\": true}", 200, "{\"result\": false}"),
                // account validity
                call("account_validity/is_user_expired", "{\"user\": \"@alice:example.com\"}", 200, "{\"result\": true}"),
                call("account_validity/on_user_registration", "{\"user\": \"@carol:example.com\"}", 200, NOTHING),
                call("account_validity/on_user_login",
                        "{\"user_id\": \"@alice:example.com\", \"auth_provider_type\": \"m.login.password\", \"auth_provider_id\": null}",
                        200, NOTHING),
                // presence router: maps merge and sets concatenate; ALL short-circuits
                call("presence_router/get_users_for_states",
                        "{\"state_updates\": [{\"user_id\": \"@bob:example.com\", \"state\": \"online\", \"last_active_ts\": 1}, "
                                + "{\"user_id\": \"@charlie:example.com\", \"state\": \"offline\"}]}",
                        200, """
                        {"result": {"@alice:example.com": [{"user_id": "@bob:example.com", "state": "online"},
                                                           {"user_id": "@charlie:example.com", "state": "unavailable"}],
                                    "@dave:example.com": [{"user_id": "@bob:example.com", "state": "online"}]}}"""),
                call("presence_router/get_interested_users", "{\"user_id\": \"@alice:example.com\"}", 200, "{\"result\": \"ALL\"}"),
                // account data
                call("account_data/on_account_data_updated",
                        "{\"user_id\": \"@alice:example.com\", \"room_id\": null, \"account_data_type\": \"m.push_rules\", \"content\": {}}",
                        200, NOTHING),
                // background update controller: "pass" registered first, so it alone controls updates
                call("background_update_controller/on_update",
                        "{\"update_name\": \"event_search\", \"database_name\": \"main\", \"one_shot\": false}", 200, "{\"result\": 250}"),
                call("background_update_controller/default_batch_size",
                        "{\"update_name\": \"event_search\", \"database_name\": \"main\"}", 200, "{\"result\": 100}"),
                call("background_update_controller/min_batch_size",
                        "{\"update_name\": \"event_search\", \"database_name\": \"main\"}", 200, "{\"result\": 5}"),
                // extra unsigned fields: merged, the last module wins per field
                call("add_extra_fields_to_unsigned_client_event/add_field_to_unsigned", "{\"event\": " + MESSAGE_EVENT + "}",
                        200, "{\"result\": {\"org.example.a\": 1, \"org.example.shared\": \"never\", \"org.example.b\": true}}"),
                // media repository: "pass" answers an empty media config, which falls through as in Synapse
                call("media_repository/get_media_config_for_user", "{\"user_id\": \"@alice:example.com\"}",
                        200, "{\"result\": {\"m.upload.size\": 10485760}}"),
                call("media_repository/is_user_allowed_to_upload_media_of_size",
                        "{\"user_id\": \"@alice:example.com\", \"size\": 52428800}", 200, "{\"result\": false}"),
                call("media_repository/get_media_upload_limits_for_user", "{\"user_id\": \"@alice:example.com\"}",
                        200, "{\"result\": [{\"max_bytes\": 1073741824, \"time_period_ms\": 86400000},"
                                + " {\"max_bytes\": 104857600, \"time_period_ms\": 3600000}]}"),
                call("media_repository/on_media_upload_limit_exceeded",
                        "{\"user_id\": \"@alice:example.com\", \"limit\": {\"max_bytes\": 104857600, \"time_period_ms\": 3600000},"
                                + " \"sent_bytes\": 104000000, \"attempted_bytes\": 1048576}", 200, NOTHING),
                // ratelimit
                call("ratelimit/get_ratelimit_override_for_user",
                        "{\"user_id\": \"@alice:example.com\", \"limiter_name\": \"rc_invites.per_user\"}",
                        200, "{\"result\": {\"per_second\": 0.5, \"burst_count\": 20}}"));
    }

    private static Arguments call(String path, String body, int status, String expected) {
        return Arguments.of(path, body, status, expected);
    }
}
