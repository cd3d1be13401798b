package dev.matrixpolicy.gateway.support;

/** Realistic request fragments, in the JSON form the gateway documents. */
public final class Fixtures {
    private Fixtures() {
    }

    public static final String MESSAGE_EVENT = """
            {"event_id": "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "sender": "@alice:example.com",
             "room_id": "!room:example.com", "type": "m.room.message", "origin_server_ts": 1700000000000,
             "content": {"msgtype": "m.text", "body": "hello"}, "unsigned": {"age": 5}}""";

    public static final String STATE_EVENTS = """
            [{"event_id": "$create:example.com", "sender": "@alice:example.com", "room_id": "!room:example.com",
              "type": "m.room.create", "state_key": "", "content": {"room_version": "10"}},
             {"event_id": "$member:example.com", "sender": "@alice:example.com", "room_id": "!room:example.com",
              "type": "m.room.member", "state_key": "@alice:example.com", "content": {"membership": "join"}}]""";
}
