"""Protections (issue 16) on a real Synapse 1.67 through our module: the ``content_rules`` module
(mentions, links, media hashes, words in polls and edits, and a shadow-mode entry) and the ``rate_limits`` module with its
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
from typing import Iterator, Optional

import pytest

import gateway_process
from conftest import TOKEN, shim_module
from harness import redis as redis_servers
from harness import synapse as homeservers
from harness.client import Homeserver, MatrixError, User
from harness.redis import Redis
from harness.report import Report
from harness.steps import SHIM, eventually, refused, seen, unique

BURST = 5  # the events limit: 5 at once, then one every 12 s
KEY_PREFIX = "e2e:"
MENTION_ERRCODE = "M_TOO_LARGE"  # neither the default M_FORBIDDEN nor the rate limit's, and one Synapse knows
BAD_MEDIA = b"\x89PNG\r\n\x1a\n listed media, refused by its hash"
SCAM_WORD = "giveaway"


def _config(server_name: str, redis: Redis, hashes_file: Path) -> str:
    return f"""
policy-gateway:
  server-name: "{server_name}"
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
            links: {{denied-domains: [spam.example, grabify.link]}}
          - name: known-bad-media
            media: {{hashes-file: {hashes_file}}}
          - name: scam-words
            keywords: [{SCAM_WORD}]
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
    peer: Homeserver  # a Synapse without modules that federates with ``hs``
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


def _started(synapse: homeservers.Synapse) -> homeservers.Synapse:
    synapse.start()
    return synapse


def _stop_started(starting: "Future[homeservers.Synapse]") -> None:
    if starting.exception() is None:
        starting.result().stop()


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory, report: Report) -> Iterator[Protected]:
    workdir = tmp_path_factory.mktemp("protections")
    hashes_file = workdir / "media-hashes.txt"
    hashes_file.write_text(f"# refused media\n{hashlib.sha256(BAD_MEDIA).hexdigest()}  known bad image\n")
    ports = (gateway_process.free_port(), gateway_process.free_port())
    installation = homeservers.install()
    with contextlib.ExitStack() as running:
        redis = running.enter_context(redis_servers.running(workdir / "redis"))
        background = running.enter_context(ThreadPoolExecutor(2))
        # Server names that federation can reach (127.0.0.1 and the federation port), so the peer can join.
        synapse = homeservers.Synapse(installation, "R", workdir / "synapse",
                                      [shim_module(f"http://127.0.0.1:{ports[0]}")])
        # The gateway and the peer start while Synapse R waits; R starts once the gateway answers,
        # so that our module registers what the gateway has modules for.
        starting = background.submit(gateway_process.start, _config(synapse.server_name, redis, hashes_file),
                                     workdir / "gateway", TOKEN, ports=ports)
        running.callback(_stop, starting, report)
        peer_starting = background.submit(lambda: _started(homeservers.Synapse(installation, "P", workdir / "peer", [])))
        running.callback(_stop_started, peer_starting)
        gateway = starting.result()
        running.callback(synapse.stop)
        synapse.start()
        peer = peer_starting.result()
        yield Protected(Homeserver(synapse.url, synapse.server_name), Homeserver(peer.url, peer.server_name),
                        gateway, redis)


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
                     "formatted_body": '<a href="https://spam.example/">click here</a>'},
                    {"msgtype": "m.text", "body": "free nitro at Grabify.link/3xYz"}):
        error = refused(sender.send, room, content)
        assert (error.status, error.errcode) == (403, "M_FORBIDDEN"), error.body
    report.check("check_event_for_spam", SHIM,
                 "links to www.spam.example, to spam.example in an href only, and to grabify.link without a scheme",
                 seen(error))


def test_an_upload_whose_hash_is_listed_is_refused(protected: Protected, report: Report):
    uploader = protected.hs.register(unique("uploader-"))
    error = refused(uploader.upload, BAD_MEDIA, "image/png")
    assert (error.status, error.errcode) == (400, "M_UNKNOWN"), error.body  # Synapse 1.67's "Bad content"
    assert uploader.upload(b"\x89PNG\r\n\x1a\n another image", "image/png").startswith("mxc://")
    assert protected.metric("policy_module_content_rules_matches_total", rule="known-bad-media") == 1
    report.check("check_media_file_for_spam", SHIM, "uploads a file whose SHA-256 is in the hashes file", seen(error))


def _poll(question: str, *answers: str) -> dict:
    """A poll start as Element sends it (MSC3381, unstable names), without its plain-text fallback:
    what a spammer's client sends, so that only the question and answers carry the words."""
    return {"org.matrix.msc3381.poll.start": {
        "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
        "question": {"org.matrix.msc1767.text": question},
        "answers": [{"id": str(n), "org.matrix.msc1767.text": answer} for n, answer in enumerate(answers)]}}


def test_a_polls_answers_and_an_edits_new_content_are_read(protected: Protected, report: Report):
    hs = protected.hs
    sender = hs.register(unique("poller-"))
    room = protected.room_with(sender)
    poll = "org.matrix.msc3381.poll.start"

    sender.send(room, _poll("Lunch?", "pizza", "salad"), poll)
    error = refused(sender.send, room, _poll("Lunch?", "pizza", f"claim the crypto {SCAM_WORD}"), poll)
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN"), error.body
    stable = {"m.poll": {"kind": "m.disclosed", "max_selections": 1,
                         "question": {"m.text": [{"body": f"Join our {SCAM_WORD}?"}]},
                         "answers": [{"m.id": "y", "m.text": [{"body": "yes"}]}]}}
    refused(sender.send, room, stable, "m.poll.start")
    original = sender.say(room, "lunch at noon")
    edit = {"msgtype": "m.text", "body": "* lunch at noon",
            "m.new_content": {"msgtype": "m.text", "body": f"lunch at noon, and a {SCAM_WORD} at https://x.example"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": original}}
    error = refused(sender.send, room, edit)
    assert (error.status, error.errcode) == (403, "M_FORBIDDEN"), error.body
    assert protected.metric("policy_module_content_rules_matches_total", module="content", rule="scam-words") == 3
    report.check("check_event_for_spam", SHIM, "a poll's answer (MSC3381), a poll's question (m.poll), an edit's "
                 "m.new_content: each with a listed word its fallback lacks", seen(error))


def _display_name(owner: User, room: str, user_id: str) -> Optional[str]:
    """The display name of ``user_id``'s membership in ``room`` as its owner's server holds it."""
    try:
        return owner.state(room, "m.room.member", user_id).get("displayname")
    except MatrixError as error:
        if error.status == 404:
            return None
        raise


def test_a_remote_join_whose_display_name_holds_a_listed_word_reaches_no_local_member(protected: Protected,
                                                                                       report: Report):
    """Synapse 1.67 asks ``check_event_for_spam`` about the membership events federation brings
    (not about its own users' ones): refused, the join is pruned of its display name and soft-failed."""
    owner = protected.hs.register(unique("owner-"))
    room = owner.create_room(preset="public_chat")
    matches = {"module": "content", "rule": "scam-words"}
    before = protected.metric("policy_module_content_rules_matches_total", **matches)
    joins = []
    for name in ("Alice from the peer", f"Free {SCAM_WORD} bot"):
        remote = protected.peer.register(unique("remote-"))
        remote.call("PUT", f"/_matrix/client/v3/profile/{remote.user_id}/displayname", {"displayname": name})
        remote.call("POST", f"/_matrix/client/v3/join/{room}?server_name={protected.hs.server_name}", {})
        joins.append(remote.user_id)
    welcome, spammer = joins

    # The peer, in the room once the first has joined, sends the second join in a transaction.
    eventually(lambda: _display_name(owner, room, welcome) == "Alice from the peer", "the remote member's name")
    eventually(lambda: protected.metric("policy_module_content_rules_matches_total", **matches) > before,
               "the second join refused")
    assert _display_name(owner, room, spammer) is None
    report.check("check_event_for_spam", SHIM, f"a user of another server joins with the display name "
                 f"'Free {SCAM_WORD} bot' (over federation)", "spam: the join is pruned of its name, soft-failed")


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
