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

    /** A remote server's invite of a local user, as {@code federated_user_may_invite} receives it. */
    public static final String FEDERATED_INVITE_EVENT = """
            {"event_id": "$invite:example.org", "sender": "@mallory:example.org", "room_id": "!room:example.org",
             "type": "m.room.member", "state_key": "@alice:example.com", "origin_server_ts": 1700000000000,
             "content": {"membership": "invite"},
             "unsigned": {"invite_room_state": [{"sender": "@mallory:example.org", "type": "m.room.name",
                                                 "state_key": "", "content": {"name": "Free stuff"}}]}}""";
}
