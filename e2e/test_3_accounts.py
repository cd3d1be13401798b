"""Logins, registration checks and account validity through our module on Synapse A."""

from __future__ import annotations

from conftest import FILED_PASSWORD
from harness.steps import SHIM, refused, seen, unique


def test_the_gateways_password_file_logs_users_in(world, report):
    hs = world.hs_a
    hs.register("filed", password="a different local password")  # the account; the file holds the password
    user = hs.login_user("filed", FILED_PASSWORD)
    assert user.user_id == f"@filed:{hs.server_name}"
    assert user.whoami()["user_id"] == user.user_id
    report.check("check_auth", SHIM, "logs in with the password from the gateway's file", "200, logged in")
    error = refused(hs.login_user, "filed", "wrong password")
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN")


def test_third_party_logins_are_answered_by_the_policy(world, report):
    hs = world.hs_a
    owner = hs.register(unique("owner-"))
    address = f"{owner.localpart}@example.org"
    world.services.threepid_logins[("email", address, "3pid secret")] = owner.user_id
    user = hs.login({"type": "m.id.thirdparty", "medium": "email", "address": address}, "3pid secret")
    assert user.user_id == owner.user_id
    report.check("check_3pid_auth", SHIM, "logs in with an email address and password", "200, as its owner")


def test_phone_numbers_the_directory_refuses_cannot_register(world, report):
    hs = world.hs_a

    def request_token(number):
        return hs.request("POST", "/_matrix/client/v3/register/msisdn/requestToken", {
            "client_secret": unique("secret"), "country": "GB", "phone_number": number, "send_attempt": 1})

    error = refused(request_token, "7700900000")  # the directory refuses numbers ending in 0000
    assert (error.status, error.errcode) == (403, "M_THREEPID_DENIED")
    report.check("is_3pid_allowed", SHIM, "asks to register a refused phone number", seen(error))
    error = refused(request_token, "7700900123")  # allowed: on to the identity server
    assert error.errcode != "M_THREEPID_DENIED"


def test_expired_accounts_are_refused_on_every_request(world, report):
    hs = world.hs_a
    expired = hs.register(unique("expired-"))
    error = refused(expired.whoami)
    assert (error.status, error.errcode) == (403, "ORG_MATRIX_EXPIRED_ACCOUNT")  # Synapse's own code
    report.check("is_user_expired", SHIM, "an expired account makes a request", seen(error))
    assert hs.register(unique("fresh-")).whoami()
