"""The config block in homeserver.yaml: defaults, per-callback settings and clear errors."""

import pytest

from matrix_policy_gateway_shim.callbacks import CATEGORIES
from matrix_policy_gateway_shim.config import parse

BASE = {"base_url": "http://127.0.0.1:8090/"}


def config(**settings):
    return parse(dict(BASE, **settings))


def test_defaults():
    parsed = config()
    assert parsed.base_url == "http://127.0.0.1:8090"
    assert parsed.token is None
    assert parsed.categories == frozenset(CATEGORIES) and len(CATEGORIES) == 10
    assert parsed.timeout("user_may_invite") == 10.0
    assert not parsed.fails_open("user_may_invite")  # fail-closed, as the gateway
    assert (parsed.discovery_timeout, parsed.if_unreachable, parsed.retry_interval) == (5.0, "register_all", 30.0)
    assert parsed.idle_connection_timeout == 60.0  # well below the gateway's 180 s keep-alive
    # Password logins through the gateway work even when Synapse starts before it.
    assert parsed.fallback_auth_checkers == (("m.login.password", ("password",)),)


def test_the_token_file_is_read_once_and_trimmed(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("  s3cret\n")
    assert config(token_file=str(token_file)).token == "s3cret"


def test_a_token_file_of_several_lines_sends_its_first_token(tmp_path):
    # a rotation through a file the gateway shares: the new token first, the old one still accepted
    token_file = tmp_path / "token"
    token_file.write_text("\n  new-token \nold-token\n")
    assert config(token_file=str(token_file)).token == "new-token"


@pytest.mark.parametrize("settings, message", [
    ({"base_url": "127.0.0.1:8090"}, "'base_url' must be the gateway's http:// or https:// URL"),
    ({"base_url": "http://g\u00e4teway:8090"}, "'base_url' must be the gateway's http:// or https:// URL"),
    ({"base_url": "http://127.0.0.1:notaport"}, "'base_url' must be the gateway's http:// or https:// URL"),
    ({"base_url": "http://127.0.0.1:99999"}, "'base_url' must be the gateway's http:// or https:// URL"),
    ({"base_url": "http://127.0.0.1:0"}, "'base_url' must be the gateway's http:// or https:// URL"),
    # a bracketed host that is no IPv6 address: Python's URL parser raises where the port is not read yet
    ({"base_url": "http://[::1:8090"}, "'base_url' must be the gateway's http:// or https:// URL"),
    ({"base_url": "http://[gateway]:8090"}, "'base_url' must be the gateway's http:// or https:// URL"),
    ({"base_url": "http://user:pw@127.0.0.1:8090"}, "'base_url' must not hold a user name or password"),
    ({"base_url": "http://:8090"}, "it names no host"),
    ({"base_url": "http://127.0.0.1:8090/?a=b"}, "without a query or fragment"),
    ({"token": 12345}, "'token' must be a string: quote it"),
    ({"token_file": 987}, "'token_file' must be the path of a file"),
    ({"token_file": ["/x"]}, "'token_file' must be the path of a file"),
    ({"timeout": float("nan")}, "'timeout' must be from 1ms to a day (1440m)"),
    ({"timeout": float("inf")}, "'timeout' must be from 1ms to a day (1440m)"),
    # past ~9.2e9 s Python's sockets and timers raise OverflowError, not a config error
    ({"startup": {"discovery_timeout": "10000000000s"}}, "'startup.discovery_timeout' must be from 1ms to a day"),
    ({"timeout": {"user_may_invite": "1441m"}}, "'timeout.user_may_invite' must be from 1ms to a day"),
    # YAML reads a whole number of any length, too large for a float
    ({"timeout": 10 ** 400}, "'timeout' must be from 1ms to a day"),
    ({"startup": {"retry_interval": 1e-300}}, "'startup.retry_interval' must be from 1ms to a day"),
    ({"token": "a", "token_file": "/x"}, "'token' set token or token_file, not both"),
    ({"token_file": "/nonexistent/token"}, "'token_file' cannot read /nonexistent/token"),
    ({"token": "  "}, "'token' must not be empty"),
    ({"categories": ["spam_checker", "spam_filter"]}, "'categories' unknown spam_filter"),
    ({"timeout": "soon"}, "'timeout' must be a duration such as 500ms, 5s or 1m"),
    ({"timeout": {"user_may_fly": "1s"}}, "'timeout.user_may_fly' is not a callback name"),
    ({"timeout": 0}, "'timeout' must be from 1ms to a day"),
    ({"on_failure": "fail-sometimes"}, "'on_failure' must be fail-open or fail-closed"),
    ({"on_failure": {"on_new_event": "fail-open"}}, "'on_failure.on_new_event' does not apply: on_new_event is a notification"),
    ({"on_failure": {"get_interested_users": "fail-closed"}}, "does not apply: get_interested_users answers as if no module decided"),
    ({"on_failure": {"get_ratelimit_override_for_user": "fail-closed"}},
     "does not apply: get_ratelimit_override_for_user answers as if no module decided"),
    ({"startup": {"if_unreachable": "panic"}}, "'startup.if_unreachable' must be register_all or retry"),
    ({"startup": {"auth_checkers": [{"fields": ["password"]}]}}, "'startup.auth_checkers[0]' needs a login_type"),
    # a login type is a Matrix namespaced identifier, 1 to 255 characters: Synapse offers it to every client
    ({"startup": {"auth_checkers": [{"login_type": "", "fields": ["password"]}]}},
     "'startup.auth_checkers[0].login_type' '' is 0 characters long: a login type or field name has 1 to 255"),
    ({"startup": {"auth_checkers": [{"login_type": "org.example." + "x" * 288}]}},
     "'startup.auth_checkers[0].login_type' 'org.example.xxx"),
    ({"startup": {"auth_checkers": [{"login_type": "org.example." + "x" * 288}]}},
     "... (300 characters) is 300 characters long: a login type or field name has 1 to 255, as a Matrix namespaced "
     "identifier such as m.login.password"),
    ({"startup": {"auth_checkers": [{"login_type": "org.example.sso", "fields": ["token", ""]}]}},
     "'startup.auth_checkers[0].fields[1]' '' is 0 characters long"),
    ({"startup": {"discovery_timeout": "5s", "retry": "1m"}}, "'startup.retry' is not a setting of this module"),
    ({"startup": []}, "'startup' must be a map"),
    ({"startup": False}, "'startup' must be a map"),
    ({"idle_timeout": "30s"}, "'idle_timeout' is not a setting of this module"),
    ({"max_pending_notifications": 0}, "'max_pending_notifications' must be a whole number of at least 1"),
])
def test_a_bad_setting_is_named_in_the_error(settings, message):
    with pytest.raises(ValueError) as error:
        config(**settings)
    assert message in str(error.value)
    assert str(error.value).startswith("matrix_policy_gateway_shim: ")


@pytest.mark.parametrize("block", [["base_url", "http://127.0.0.1:8090"], "http://127.0.0.1:8090", 8090])
def test_a_config_block_that_is_not_a_map_is_named_in_the_error(block):
    with pytest.raises(ValueError, match="^matrix_policy_gateway_shim: 'config' must be a map of settings"):
        parse(block)


def test_a_token_file_that_is_not_utf_8_is_named_in_the_error(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_bytes(b"s3cr\xff")
    with pytest.raises(ValueError, match="'token_file' .* is not UTF-8 text"):
        config(token=None, token_file=str(token_file))


def test_a_token_of_any_unicode_is_kept_for_the_gateway_to_judge():
    assert config(token="s3cr3t\u20actoken").token == "s3cr3t\u20actoken"


def test_the_media_repository_and_ratelimit_categories_can_be_chosen():
    parsed = config(categories=["media_repository", "ratelimit"],
                    on_failure={"is_user_allowed_to_upload_media_of_size": "fail-open"})
    assert parsed.categories == frozenset({"media_repository", "ratelimit"})
    assert parsed.fails_open("is_user_allowed_to_upload_media_of_size")


def test_timeouts_and_policies_per_callback():
    parsed = config(timeout={"default": "2s", "check_event_for_spam": "750ms", "on_update": "1m"},
                    on_failure={"default": "fail-open", "user_may_invite": "fail-closed"})
    assert (parsed.timeout("check_event_for_spam"), parsed.timeout("on_update"), parsed.timeout("on_new_event")) == (
        0.75, 60.0, 2.0)
    assert parsed.fails_open("user_may_join_room") and not parsed.fails_open("user_may_invite")


def test_a_per_callback_map_without_default_keeps_the_built_in_default():
    parsed = config(timeout={"check_event_for_spam": 1}, on_failure={"is_user_expired": "fail-open"})
    assert parsed.timeout("user_may_invite") == 10.0 and parsed.timeout("check_event_for_spam") == 1.0
    assert parsed.fails_open("is_user_expired") and not parsed.fails_open("user_may_invite")


def test_startup_settings():
    parsed = config(startup={"discovery_timeout": "2s", "if_unreachable": "retry", "retry_interval": "1m",
                             "auth_checkers": [{"login_type": "m.login.password", "fields": ["password"]},
                                               {"login_type": "org.example.sso"}]})
    assert (parsed.discovery_timeout, parsed.if_unreachable, parsed.retry_interval) == (2.0, "retry", 60.0)
    assert parsed.fallback_auth_checkers == (("m.login.password", ("password",)), ("org.example.sso", ()))


def test_durations_from_a_millisecond_to_a_day_are_accepted():
    parsed = config(timeout="1ms", idle_connection_timeout="1440m", startup={"retry_interval": 86400})
    assert (parsed.timeout("user_may_invite"), parsed.idle_connection_timeout, parsed.retry_interval) == (
        0.001, 86400.0, 86400.0)
