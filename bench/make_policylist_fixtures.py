#!/usr/bin/env python3
"""Writes the policy list update benchmark's fixtures into the given directory: a large list that stays
put, two versions of a 10,000-rule list that replace each other, the gateway configuration and
user_may_invite bodies. The mix is the JMH benchmarks' (src/bench/.../policylist/PolicyLists.java)."""
import base64, hashlib, json, pathlib, random, sys

out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
large = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
update = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
REASONS = ["spam", "crypto spam", "harassment", "ban evasion", "", "hateful conduct", "spam bot", "abuse of the report feature"]
rng = random.Random(20261201)

def homeserver(i): return "hs%d.example.org" % (i * 7919 % 4000)
def sha(entity): return base64.b64encode(hashlib.sha256(entity.encode()).digest()).decode().rstrip("=")

def rule(i, tag):
    """(kind, entity or None, hash or None, recommendation) of rule i of list `tag`."""
    n, r = i // 100, i % 100
    rec = "takedown" if i % 20 == 7 or r == 99 else "ban"
    if r in (88, 89): return "user", None, sha("@hidden%s%d:%s" % (tag, i, homeserver(i))), rec
    if r == 90: return "user", "@*spam%s%d*:*" % (tag, n), None, rec
    if r == 91: return "user", "*:bad-server-%s%d.example" % (tag, n), None, rec
    if r == 92: return "server", "*.bad-%s%d.example" % (tag, n), None, rec
    if 93 <= r <= 96: return "server", "bad-%s%d.example" % (tag, i), None, rec
    if r == 97: return "room", "!room%s%d:%s" % (tag, i, homeserver(i)), None, rec
    if r == 98: return "room", "#spam-room-%s%d:%s" % (tag, i, homeserver(i)), None, rec
    return "user", "@spammer%s%d:%s" % (tag, i, homeserver(i)), None, rec

with open(out / "large.txt", "w") as f:
    for i in range(large):
        kind, entity, digest, rec = rule(i, "")
        f.write("%s %s %s %s\n" % (rec, kind, entity or "sha256:" + digest, REASONS[i % len(REASONS)]))

for version in ("a", "b"):  # every rule differs between the two versions: each update replaces them all
    events = []
    for i in range(update):
        kind, entity, digest, rec = rule(i, "u" + version)
        content = {"recommendation": "m." + rec, "reason": REASONS[i % len(REASONS)]}
        if entity: content["entity"] = entity
        else: content["hashes"] = {"sha256": digest}
        events.append({"type": "m.policy.rule." + kind, "state_key": "rule:%s%d" % (version, i),
                       "sender": "@moderator%d:example.org" % (i % 7), "room_id": "!updates:example.org",
                       "event_id": "$" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(43)),
                       "origin_server_ts": 1700000000000 + i, "content": content})
    (out / ("updates-%s.json" % version)).write_text(json.dumps(events))

config = {"policy-gateway": {"server-name": "example.com", "auth": {"token": "bench-token"}, "modules": [
    {"module": "policy_list", "name": "bans", "config": {
        "callbacks": ["user_may_invite"],
        "sources": [{"name": "updates", "file": str((out / "updates.json").resolve()), "check-interval": "200ms"},
                    {"name": "large", "file": str((out / "large.txt").resolve()), "check-interval": "60s"}]}}]},
    # refusals are logged at INFO: kept out, so the figures are the index's, not the console's
    "logging": {"level": {"dev.matrixpolicy.gateway.decisions": "warn", "dev.matrixpolicy.gateway.modules.policylist": "warn"}}}
(out / "gateway.yml").write_text(json.dumps(config))

def invite(inviter): return {"inviter": inviter, "invitee": "@bob:example.com", "room_id": "!OGEhHVWSdvArJzumhm:matrix.org"}
bodies = {"innocent": invite("@alice:example.com"), "innocent2": invite("@carol:matrix.example.net"),
          "listed": invite("@spammer%d:%s" % (4200, homeserver(4200))), "glob": invite("@freespam17offers:example.net")}
for name, body in bodies.items():
    (out / ("invite-%s.json" % name)).write_text(json.dumps(body))
