#!/usr/bin/env python3
"""Writes the benchmark's gateway configuration and request bodies into the given directory."""
import json, sys, pathlib

out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
globs = []
i = 0
while len(globs) < 10000:  # the same shapes as the JMH denylist (src/bench/.../Globs.java)
    globs.append(["*:spam%d.example" % i, "@airdrop%d-*:*" % i, "@*crypto%d?bot*" % i][i % 3]); i += 1

spam = ["check_event_for_spam", "user_may_invite", "user_may_join_room", "user_may_create_room", "check_login_for_spam"]
def static(name, results): return {"module": "static", "name": name, "config": {"results": results}}
config = {"policy-gateway": {"server-name": "example.com", "auth": {"token": "bench-token"}, "modules": [
    {"module": "user_denylist", "name": "denylist", "config": {"users": globs, "callbacks": ["check_event_for_spam"]}},
    static("invites", {c: "NOT_SPAM" for c in spam} | {"check_event_allowed": True}),
    static("second", {"check_event_for_spam": "NOT_SPAM"}),
    static("third", {"check_event_for_spam": "NOT_SPAM"}),
    static("fourth", {"check_event_for_spam": "NOT_SPAM"}),
]}, "logging": {"level": {"dev.matrixpolicy.gateway.decisions": "warn"}}}
# JSON is valid YAML, and Spring Boot reads .yml files with a YAML parser.
(out / "gateway.yml").write_text(json.dumps(config))

event = {"event_id": "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "sender": "@alice:example.com",
         "room_id": "!OGEhHVWSdvArJzumhm:matrix.org", "type": "m.room.message", "origin_server_ts": 1700000000000,
         "unsigned": {"age": 1234, "transaction_id": "m1700000000000.42"},
         "content": {"msgtype": "m.text", "body": "lorem ipsum dolor sit amet " * 40,
                     "format": "org.matrix.custom.html", "formatted_body": "<p>" + "lorem ipsum " * 30 + "</p>",
                     "m.mentions": {"user_ids": ["@bob:example.com"]}}}
state = [{"event_id": "$state%d:example.com" % n, "sender": "@alice:example.com", "room_id": "!OGEhHVWSdvArJzumhm:matrix.org",
          "type": "m.room.member", "state_key": "@member%d:example.com" % n, "content": {"membership": "join", "displayname": "Member %d" % n}}
         for n in range(49)]
state.insert(0, {"event_id": "$create:example.com", "sender": "@alice:example.com", "room_id": "!OGEhHVWSdvArJzumhm:matrix.org",
                 "type": "m.room.create", "state_key": "", "content": {"room_version": "10"}})
bodies = {
    "invite": {"inviter": "@alice:example.com", "invitee": "@bob:example.org", "room_id": "!OGEhHVWSdvArJzumhm:matrix.org"},
    "event": {"event": event},
    "event_allowed": {"event": event, "state_events": state},
    "join": {"user": "@alice:example.com", "room": "!OGEhHVWSdvArJzumhm:matrix.org", "is_invited": False},
    "create_room": {"user_id": "@alice:example.com"},
    "login": {"user_id": "@alice:example.com", "device_id": "PHONE", "initial_display_name": "Phone",
              "request_info": [["Element/1.0", "192.0.2.1"]], "auth_provider_id": None},
}
for name, body in bodies.items():
    (out / (name + ".json")).write_text(json.dumps(body))
print("event body: %d bytes" % len(json.dumps(bodies["event"])))
