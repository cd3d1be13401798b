"""Protections (issue 16) on a real Synapse 1.67 through our module: the ``content_rules`` module
(mentions, links, media hashes, and a shadow-mode entry) and the ``rate_limits`` module with its
buckets in a real ``redis-server``.

One Synapse (our module only), one gateway and one Redis serve the whole module; the gateway has
none of the session gateway's modules, so the session's tests are not affected by these limits.
Room owners (``@owner-*``) are exempt from the rate limit: Synapse asks ``check_event_for_spam``
about each state event of a new room."""

from __future__ import annotations

import contextlib
import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

import gateway_process
from conftest import TOKEN, shim_module
from harness import redis as redis_servers
from harness import synapse as homeservers
from harness.client import Homeserver, MatrixError, User
from harness.redis import Redis
from harness.report import Report
from harness.steps import SHIM, refused, seen, unique

SERVER_NAME = "protections.test"
BURST = 5  # the events limit: 5 at once, then one every 12 s
KEY_PREFIX = "e2e:"
MENTION_ERRCODE = "M_TOO_LARGE"  # neither the default M_FORBIDDEN nor the rate limit's, and one Synapse knows
BAD_MEDIA = b"\x89PNG\r\n\x1a\n listed media, refused by its hash"


def _config(redis: Redis, hashes_file: Path) -> str:
    return f"""
policy-gateway:
  server-name: "{SERVER_NAME}"
  auth:
    token-file: TOKEN_FILE
  state:
    redis:
      url: {redis.url}
      key-prefix: "{KEY_PREFIX}"
  modules:
    - module: rate_limits
      name: floods
      config:
        events:
          per-sender: {{capacity: {BURST}, period: 1m}}
        exempt: ["@owner-*"]
    - module: content_rules
      name: content
      config:
        rules:
          - name: mass-mentions
            errcode: {MENTION_ERRCODE}
            error: Too many mentions
            mentions: {{max-users: 2}}
          - name: scam-links
            links: {{denied-domains: [spam.example]}}
          - name: known-bad-media
            media: {{hashes-file: {hashes_file}}}
    - module: content_rules
      name: content-trial
      mode: shadow
      config:
        rules:
          - name: crypto-words
            keywords: [airdrop]
logging:
  level:
    dev.matrixpolicy.gateway.decisions: INFO
"""


@dataclass
class Protected:
    hs: Homeserver
    gateway: gateway_process.Gateway
    redis: Redis

    def room_with(self, *members: User) -> str:
        """A public room of an exempt owner's, joined by ``members``."""
        room = self.hs.register(unique("owner-")).create_room(preset="public_chat")
        for member in members:
            member.join(room)
        return room

    def metric(self, name: str, **labels: str) -> float:
        return self.gateway.metric(name, **labels)


def _stop(starting: "Future[gateway_process.Gateway]", report: Report) -> None:
    if starting.exception() is None:
        gateway = starting.result()
        report.read_gateway_metrics(gateway.management_url)
        gateway.stop()


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory, report: Report) -> Iterator[Protected]:
    workdir = tmp_path_factory.mktemp("protections")
    hashes_file = workdir / "media-hashes.txt"
    hashes_file.write_text(f"# refused media\n{hashlib.sha256(BAD_MEDIA).hexdigest()}  known bad image\n")
    ports = (gateway_process.free_port(), gateway_process.free_port())
    with contextlib.ExitStack() as running:
        redis = running.enter_context(redis_servers.running(workdir / "redis"))
        background = running.enter_context(ThreadPoolExecutor(1))
        # The gateway starts while Synapse writes its configuration; Synapse starts once the gateway
        # answers, so that our module registers what the gateway has modules for.
        starting = background.submit(gateway_process.start, _config(redis, hashes_file), workdir / "gateway", TOKEN,
                                     ports=ports)
        running.callback(_stop, starting, report)
        synapse = homeservers.Synapse(homeservers.install(), "R", workdir / "synapse",
                                      [shim_module(f"http://127.0.0.1:{ports[0]}")], server_name=SERVER_NAME)
        gateway = starting.result()
        running.callback(synapse.stop)
        synapse.start()
        yield Protected(Homeserver(synapse.url, synapse.server_name), gateway, redis)


def test_a_message_over_the_mention_limit_is_refused_with_the_rules_errcode(protected: Protected, report: Report):
    hs = protected.hs
    sender, b, c, d = (hs.register(unique(prefix)) for prefix in ("mentioner-", "b-", "c-", "d-"))
    room = protected.room_with(sender)

    sender.say(room, f"hello {b.user_id} and {c.user_id}")
    error = refused(sender.say, room, f"hello {b.user_id}, {c.user_id} and {d.user_id}")
    assert (error.status, error.errcode) == (403, MENTION_ERRCODE), error.body
    assert error.body["error"] == "Too many mentions", "the rule's own message reaches the client"
    error = refused(sender.send, room, {"msgtype": "m.text", "body": "hello all",
                                        "m.mentions": {"user_ids": [b.user_id, c.user_id, d.user_id]}})
    assert (error.status, error.errcode) == (403, MENTION_ERRCODE), error.body
    assert protected.metric("policy_module_content_rules_matches_total", module="content", rule="mass-mentions") == 2
    report.check("check_event_for_spam", SHIM, "mentions 3 users in the text, then in m.mentions (2 allowed)",
                 seen(error))


def test_a_link_to_a_denied_domain_or_its_subdomain_is_refused(protected: Protected, report: Report):
    hs = protected.hs
    sender = hs.register(unique("linker-"))
    room = protected.room_with(sender)

    sender.say(room, "see https://notspam.example/offer")
    for content in ({"msgtype": "m.text", "body": "win at https://www.spam.example/win"},
                    {"msgtype": "m.text", "body": "click here", "format": "org.matrix.custom.html",
                     "formatted_body": '<a href="https://spam.example/">click here</a>'}):
        error = refused(sender.send, room, content)
        assert (error.status, error.errcode) == (403, "M_FORBIDDEN"), error.body
    report.check("check_event_for_spam", SHIM, "links to www.spam.example, and to spam.example in an href only",
                 seen(error))


def test_an_upload_whose_hash_is_listed_is_refused(protected: Protected, report: Report):
    uploader = protected.hs.register(unique("uploader-"))
    error = refused(uploader.upload, BAD_MEDIA, "image/png")
    assert (error.status, error.errcode) == (400, "M_UNKNOWN"), error.body  # Synapse 1.67's "Bad content"
    assert uploader.upload(b"\x89PNG\r\n\x1a\n another image", "image/png").startswith("mxc://")
    assert protected.metric("policy_module_content_rules_matches_total", rule="known-bad-media") == 1
    report.check("check_media_file_for_spam", SHIM, "uploads a file whose SHA-256 is in the hashes file", seen(error))


def test_a_shadow_entry_refuses_nothing_but_counts_what_it_would_have_refused(protected: Protected, report: Report):
    hs = protected.hs
    sender = hs.register(unique("trial-"))
    room = protected.room_with(sender)
    matches = {"module": "content-trial", "rule": "crypto-words"}
    shadow = {"module": "content-trial", "callback": "check_event_for_spam", "outcome": "deny"}
    before = (protected.metric("policy_module_content_rules_matches_total", **matches),
              protected.metric("policy_shadow_answers_total", **shadow))

    event_id = sender.say(room, "free airdrop for everyone")
    assert sender.event(room, event_id)["content"]["body"] == "free airdrop for everyone"
    after = (protected.metric("policy_module_content_rules_matches_total", **matches),
             protected.metric("policy_shadow_answers_total", **shadow))
    assert [a - b for a, b in zip(after, before)] == [1, 1]
    report.check("check_event_for_spam", SHIM, "a keyword of a mode: shadow content_rules entry",
                 "200, and the entry's match and shadow deny counted")


def test_a_flood_is_throttled_after_its_burst_in_a_bucket_kept_in_redis(protected: Protected, report: Report):
    hs = protected.hs
    flooder = hs.register(unique("flooder-"))
    room = protected.room_with(flooder)

    sent, error = 0, None
    while error is None and sent <= BURST:
        try:
            flooder.say(room, f"flood {sent}")
            sent += 1
        except MatrixError as refusal:
            error = refusal
    assert sent == BURST and error is not None
    assert (error.status, error.errcode) == (403, "M_LIMIT_EXCEEDED"), error.body
    assert error.body["error"] == "Too many requests: try again later"  # the limit's message, over Synapse's
    retry_after = error.body.get("retry_after_ms")
    assert isinstance(retry_after, int) and 0 < retry_after <= 12_000, error.body
    report.check("check_event_for_spam", SHIM, f"one user sends {BURST + 1} messages at once ({BURST} allowed)",
                 f"{seen(error)}, retry_after_ms {retry_after}")

    key = f"{KEY_PREFIX}rate_limits:floods:events:sender:{flooder.user_id}"
    bucket = protected.redis.hash(key)
    assert set(bucket) == {"tokens", "updated"} and float(bucket["tokens"]) < 1, bucket
    assert 0 < int(protected.redis.command("PTTL", key)[0]) <= 60_000
    assert protected.metric("policy_module_rate_limits_refusals_total", module="floods", limit="events",
                            bucket="sender") == 1

    protected.redis.command("DEL", key)  # the bucket is Redis's: gone, it is full again
    flooder.say(room, "after the bucket was deleted from Redis")
    report.check("check_event_for_spam", SHIM, "the flooder, once its bucket was deleted from Redis", "200")
