#!/usr/bin/env python3
"""Writes bench/protections.sh's gateway configurations and requests into a directory.

Usage: make_protections_fixtures.py <directory> <redis port> <senders>

- gateway-plain.yml: one `static` module answering NOT_SPAM: the gateway's own cost (HTTP, JSON, chain);
- gateway-memory.yml: `rate_limits` (events per sender) then `content_rules` (1,000 keywords,
  100 regexes, a link rule and a mention rule: the rules of ContentRulesBenchmark), state in memory;
- gateway-redis.yml: the same, state in the Redis on 127.0.0.1:<redis port>;
- events.tsv: one check_event_for_spam request a line ("path TAB Authorization TAB body", as
  bench/lua/signed.lua reads them): the same ~2 KiB message from <senders> different senders, which
  no rule refuses, so that every rule runs on every request.
"""
import json, pathlib, sys

out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
redis_port, senders = int(sys.argv[2]), int(sys.argv[3])

# The rules of src/bench/.../contentrules/ContentRulesBenchmark.java, so the two measure the same work.
def base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        n, r = divmod(n, 36)
        s = digits[r] + s
        if n == 0:
            return s


keywords = ["spamword" + base36(i * 7919) for i in range(1000)]
regexes = []
for i in range(50):
    regexes.append("promo%dcode\\s*\\d{3,}" % i)
    regexes.append("https?://short%d\\.example/\\w{4,}" % i)
denied = ["spam%d.example" % i for i in range(100)]
content_rules = {"module": "content_rules", "name": "content", "config": {
    "callbacks": ["check_event_for_spam"],
    "rules": [
        {"name": "words", "keywords": keywords, "regexes": regexes},
        {"name": "links", "links": {"denied-domains": denied, "max-count": 10}},
        {"name": "mentions", "mentions": {"max-users": 20, "room": False}},
    ]}}
# Per sender, over many senders: each sender sends a few requests a second at saturation, far below
# 100 a second (1,000 per 10 s), so nothing is refused; the report checks that from the metrics.
rate_limits = {"module": "rate_limits", "name": "floods", "on-failure": "fail-open",
               "config": {"events": {"per-sender": {"capacity": 1000, "period": "10s"}}}}


def gateway(modules, state=None):
    config = {"policy-gateway": {"server-name": "example.com", "auth": {"token": "bench-token"}, "modules": modules},
              "logging": {"level": {"dev.matrixpolicy.gateway.decisions": "warn"}}}
    if state:
        config["policy-gateway"]["state"] = state
    return json.dumps(config)  # JSON is valid YAML


(out / "gateway-plain.yml").write_text(gateway(
    [{"module": "static", "name": "plain", "config": {"results": {"check_event_for_spam": "NOT_SPAM"}}}]))
(out / "gateway-memory.yml").write_text(gateway([rate_limits, content_rules]))
(out / "gateway-redis.yml").write_text(gateway([rate_limits, content_rules],
                                               {"redis": {"url": "redis://127.0.0.1:%d" % redis_port}}))

# The message of ContentRulesBenchmark (ascii): two links, a user ID in the text, a formatted body
# with an href, and one m.mentions user.
paragraph = ("Hi @alice:example.org, the meeting notes are at https://docs.example.com/notes/2026 and the "
             "recording is on https://video.example.net/watch?v=abc123. Please review before Friday. ")
body = ""
while len(body) < 1400:
    body += paragraph
formatted = "<p>" + body[:560].replace("https://docs.example.com/notes/2026",
                                       '<a href="https://docs.example.com/notes/2026">notes</a>') + "</p>"
with open(out / "events.tsv", "w") as requests:
    for n in range(senders):
        event = {"event_id": "$bench%06d-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg" % n,
                 "sender": "@user%d:example.com" % n, "room_id": "!OGEhHVWSdvArJzumhm:matrix.org",
                 "type": "m.room.message", "origin_server_ts": 1700000000000 + n,
                 "unsigned": {"age": 1234, "transaction_id": "m1700000000000.%d" % n},
                 "content": {"msgtype": "m.text", "body": body, "format": "org.matrix.custom.html",
                             "formatted_body": formatted, "m.mentions": {"user_ids": ["@alice:example.org"]}}}
        line = json.dumps({"event": event})
        requests.write("/v1/spam_checker/check_event_for_spam\tBearer bench-token\t%s\n" % line)
print("event body: %d bytes, %d senders" % (len(line), senders))
