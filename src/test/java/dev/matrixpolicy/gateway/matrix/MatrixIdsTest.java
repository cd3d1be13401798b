package dev.matrixpolicy.gateway.matrix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MatrixIdsTest {

    private static final String V12_OPAQUE = "aB3_-xYz0123456789abcdefghijklmnopqrstuvwxy"; // 43 chars

    /** {@code prefix + padding + suffix} padded with 'a' to exactly {@code bytes} UTF-8 bytes. */
    private static String ofBytes(String prefix, String suffix, int bytes) {
        return prefix + "a".repeat(bytes - prefix.length() - suffix.length()) + suffix;
    }

    // --- user IDs ---

    @ParameterizedTest
    @ValueSource(strings = {
            "@alice:example.org",
            "@alice:example.org:8448",
            "@bob.smith_1=2/3+4-5:matrix.org",
            "@Alice!Legacy#\"~:example.org",  // historical grammar: any printable ASCII but ':'
            "@a:1.2.3.4",
            "@a:[::1]:8008",
            "@a:localhost",
    })
    void acceptsValidUserIdsIncludingHistoricalLocalparts(String id) {
        assertThat(MatrixIds.userId(id)).isSameAs(id);
    }

    @Test
    void rejectsUserIdWithoutServerName() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> MatrixIds.userId("@alice"))
                .withMessage("not a valid Matrix user ID: expected @localpart:server_name");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "@",
            "@:example.org",        // empty localpart
            "@alice:",              // empty server name
            "alice:example.org",    // no sigil
            "!alice:example.org",   // wrong sigil
            "@ali ce:example.org",  // space
            "@alicé:example.org",   // non-ASCII
            "@ali\tce:example.org", // control
            "@alice:exa_mple.org",  // bad server name
            "@alice:example.org:",  // empty port
            "@alice:example.org:123456",
    })
    void rejectsMalformedUserIds(String id) {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.userId(id));
    }

    /** Synapse's {@code UserID.is_valid}: IDs with such localparts exist in rooms, and Synapse hands them on. */
    @ParameterizedTest
    @ValueSource(strings = {
            "@:example.org",
            "@alic\u00e9:example.org",
            "@ali ce:example.org",
            "@\u65e5\u672c:example.org:8448",
            "@\ud83d\ude00:[::1]",
            "@alice:example.org",
    })
    void takesTheUserIdsSynapseTakesNonCompliantLocalpartsIncluded(String id) {
        assertThat(MatrixIds.userIdAsSynapseTakesIt(id)).isSameAs(id);
    }

    /**
     * {@code UserID.from_string} checks no server name: an appservice registers {@code @irc_a:b:example.org}
     * (any localpart in its namespace), and a client's invite body names {@code @bob:} to
     * {@code user_may_invite}, before Synapse checks anything.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "@irc_a:b:example.org",   // an appservice's localpart with a ':'
            "@irc_:example.org:8448:example.org",
            "@alice:",                // a client's invitee: empty server name
            "@alice:exa_mple.org",    // and a server name that is none
            "@x:evil.example\u0000",
            "@x:evil.example:123456",
            "@:",
    })
    void takesTheUserIdsSynapseHandsOnBeforeItChecksTheirServerName(String id) {
        assertThat(MatrixIds.userIdAsSynapseTakesIt(id)).isSameAs(id);
        assertThatIllegalArgumentException().as("configuration keeps the grammar").isThrownBy(() -> MatrixIds.userId(id));
    }

    @Test
    void readsTheServerNameOfAUserIdAsSynapseDoes() {
        assertThat(MatrixIds.domainOf("@irc_a:b:example.org")).isEqualTo("b:example.org");
        assertThat(MatrixIds.domainOf("@alice:example.org:8448")).isEqualTo("example.org:8448");
        assertThat(MatrixIds.domainOf("@alice:")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "@",
            "@alice",               // no ':': UserID.from_string refuses it
            "alice:example.org",    // no sigil
            ":alice",
            "@ali\ud800ce:example.org", // half a surrogate pair: Synapse can neither sign nor store it
            "@\udc00:example.org",
    })
    void stillRefusesWhatSynapseRefuses(String id) {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.userIdAsSynapseTakesIt(id))
                .withMessage("not a valid Matrix user ID: expected @localpart:server_name");
    }

    /**
     * Synapse checks nothing of a localpart or an opaque part: a hostile server's signed events carry
     * control characters there (canonical JSON escapes them), a local client's path or body names
     * them, and the callbacks are asked about them. A 400 would be a yes from a module failing open.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\u0000", "\u0001", "\t", "\n", "\u001b[31m", "\u007f", "\u0085", "\u009b", "\u2028", "\u202e"})
    void takesTheControlCharactersSynapseHandsOnInEveryKindOfId(String control) {
        for (String id : new String[] {"@x" + control + ":evil.example", "@" + control + ":evil.example"}) {
            assertThat(MatrixIds.userIdAsSynapseTakesIt(id)).isSameAs(id);
            assertThatIllegalArgumentException().as("configuration keeps the printable grammar").isThrownBy(() -> MatrixIds.userId(id));
        }
        String room = "!r" + control + ":evil.example";
        assertThat(MatrixIds.roomIdAsSynapseTakesIt(room)).isSameAs(room);
        String event = "$e" + control + ":evil.example";
        assertThat(MatrixIds.eventIdAsSynapseTakesIt(event)).isSameAs(event);
        String alias = "#a" + control + ":example.org";
        assertThat(MatrixIds.roomAliasAsSynapseTakesIt(alias)).isSameAs(alias);
        assertThat(MatrixIds.serverNameOf(room)).isEqualTo("evil.example");
    }

    @Test
    void aControlCharacterInTheServerNameIsStillRefused() {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomIdAsSynapseTakesIt("!x:evil\u0001.example"));
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomAliasAsSynapseTakesIt("#x:evil.example\n"));
    }

    /** Synapse reads a port as a number: evil.example:008448 is port 8448, a server that federates, and its IDs reach the callbacks. */
    @Test
    void takesTheIdsOfAServerWhosePortIsPaddedWithZerosAsSynapseDoes() {
        String server = "evil.example:0000008448";

        assertThat(MatrixIds.userIdAsSynapseTakesIt("@x:" + server)).isEqualTo("@x:" + server);
        assertThat(MatrixIds.roomIdAsSynapseTakesIt("!x:" + server)).isEqualTo("!x:" + server);
        assertThat(MatrixIds.roomAliasAsSynapseTakesIt("#x:" + server)).isEqualTo("#x:" + server);
        assertThat(MatrixIds.serverNameOf("@x:[::1]:000000")).isEqualTo("[::1]:000000");
        assertThat(MatrixIds.serverNameOf("@x:" + server)).isEqualTo(server);
        assertThat(MatrixIds.isServerName(server)).as("configuration keeps the spec's five digits").isFalse();
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.userId("@x:" + server));
        for (String port : new String[] {"123456", "0123456", "+8448", "", "8448 "}) {
            assertThatIllegalArgumentException().as(port).isThrownBy(() -> MatrixIds.roomIdAsSynapseTakesIt("!x:evil.example:" + port));
        }
    }

    /** An appservice registers localparts of up to 512 characters, and Synapse asks about its users. */
    @Test
    void takesTheUserIdsOfMoreThan255BytesThatAnAppserviceRegisters() {
        String id = "@" + "\u00e9".repeat(512) + ":example.org";

        assertThat(MatrixIds.userIdAsSynapseTakesIt(id)).isSameAs(id);
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.userId(id))
                .withMessage("not a valid Matrix user ID: longer than 255 bytes");
    }

    // --- room IDs ---

    @ParameterizedTest
    @ValueSource(strings = {
            "!OGEhHVWSdvArJzumhm:matrix.org",
            "!abc:example.org:8448",
            "!a:[2001:db8::1]",
    })
    void acceptsClassicRoomIds(String id) {
        assertThat(MatrixIds.roomId(id)).isSameAs(id);
    }

    @Test
    void acceptsRoomVersion12RoomIdWithoutServerName() {
        String id = "!" + V12_OPAQUE;
        assertThat(MatrixIds.roomId(id)).isSameAs(id);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "!",
            "!:example.org",                                   // empty opaque part
            "!abc:",                                           // empty server name
            "!abc",                                            // neither form
            "!aB3_-xYz0123456789abcdefghijklmnopqrstuvwx",     // 42 base64url chars
            "!aB3_-xYz0123456789abcdefghijklmnopqrstuvwxyz",   // 44 base64url chars
            "!aB3+/xYz0123456789abcdefghijklmnopqrstuvwxy",    // standard, not URL-safe, base64
            "!aB3_-xYz0123456789abcdefghijklmnopqrstuvwx=",    // padded
            "#abc:example.org",
            "!a b:example.org",
    })
    void rejectsMalformedRoomIds(String id) {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomId(id));
    }

    /** Synapse's {@code RoomID.is_valid}: before room version 12 a hostile server picks the opaque part, and Synapse hands it on. */
    @ParameterizedTest
    @ValueSource(strings = {
            "!:evil.example",
            "!salle-\u00e9:evil.example",
            "!a b:evil.example:8448",
            "!\ud83d\ude00:[::1]",
    })
    void takesTheRoomIdsSynapseTakesNonAsciiOpaquePartsIncluded(String id) {
        assertThat(MatrixIds.roomIdAsSynapseTakesIt(id)).isSameAs(id);
        assertThatIllegalArgumentException().as("configuration keeps the printable grammar").isThrownBy(() -> MatrixIds.roomId(id));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "!",
            "!abc",                  // neither form
            "!abc:",                 // empty server name
            "!abc:exa_mple.org",     // bad server name
            "#abc:example.org",
            "!a\ud800b:example.org", // half a surrogate pair
            "!aB3+/xYz0123456789abcdefghijklmnopqrstuvwxy", // standard, not URL-safe, base64
    })
    void stillRefusesTheRoomIdsSynapseRefuses(String id) {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomIdAsSynapseTakesIt(id))
                .withMessage("not a valid Matrix room ID: expected !opaque:server_name or ! followed by 43 URL-safe base64 characters");
    }

    @Test
    void takesTheRoomVersion12FormAsSynapseTakesIt() {
        String id = "!" + V12_OPAQUE;
        assertThat(MatrixIds.roomIdAsSynapseTakesIt(id)).isSameAs(id);
    }

    // --- event IDs ---

    @ParameterizedTest
    @ValueSource(strings = {
            "$abc123:example.org",                           // v1/v2
            "$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk=", // v3 standard base64
            "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg",  // v4+ URL-safe base64
    })
    void acceptsEventIdsOfEveryRoomVersion(String id) {
        assertThat(MatrixIds.eventId(id)).isSameAs(id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"$", "abc", "!abc", "$a b", "$abç", "$a\u007f"})
    void rejectsMalformedEventIds(String id) {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.eventId(id));
    }

    /** Room versions 1 and 2: the sending server names its events, and Synapse hands the names on unchecked. */
    @ParameterizedTest
    @ValueSource(strings = {"$\u00e9:evil.example", "$a b:evil.example", "$\ud83d\ude00", "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"})
    void takesTheEventIdsSynapseHandsOnNonAsciiOnesIncluded(String id) {
        assertThat(MatrixIds.eventIdAsSynapseTakesIt(id)).isSameAs(id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"$", "abc", "!abc", "$a\ud800", "$\udc00a:evil.example"})
    void stillRefusesEventIdsWithHalfACharacter(String id) {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.eventIdAsSynapseTakesIt(id));
    }

    // --- room aliases ---

    @ParameterizedTest
    @ValueSource(strings = {
            "#room:example.org",
            "#Café Ünïcode 🎉:example.org",
            "#a!b@c$d:example.org:8448",
    })
    void acceptsRoomAliasesWithAnyNonControlLocalpart(String alias) {
        assertThat(MatrixIds.roomAlias(alias)).isSameAs(alias);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "#",
            "#:example.org",         // empty localpart
            "#room",                 // no server name
            "#room:",
            "@room:example.org",
            "#ro\nom:example.org",   // control
            "#ro\u0085om:example.org", // C1 control
            "#ro\uD800om:example.org", // unpaired surrogate
    })
    void rejectsMalformedRoomAliases(String alias) {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomAlias(alias));
    }

    /** Synapse's {@code RoomAlias.is_valid} and {@code MAX_ALIAS_LENGTH}: what it asks {@code user_may_create_room_alias} about. */
    @ParameterizedTest
    @ValueSource(strings = {
            "#:example.org",
            "#room:example.org",
            "#Caf\u00e9 \u00dcn\u00efcode \ud83c\udf89:example.org:8448",
    })
    void takesTheAliasesSynapseTakesAnEmptyLocalpartIncluded(String alias) {
        assertThat(MatrixIds.roomAliasAsSynapseTakesIt(alias)).isSameAs(alias);
    }

    @ParameterizedTest
    @ValueSource(strings = {"#", "#room", "#room:", "room:example.org", "@room:example.org",
            "#ro\uD800om:example.org", "#room:exa_mple.org"})
    void stillRefusesTheAliasesSynapseRefuses(String alias) {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomAliasAsSynapseTakesIt(alias))
                .withMessage("not a valid Matrix room alias: expected #localpart:server_name");
    }

    @Test
    void countsAnAliasInCharactersAsSynapseDoesNotInBytes() {
        String cjk = "#" + "\u65e5".repeat(200) + ":example.org"; // 213 characters, 613 bytes
        assertThat(MatrixIds.roomAliasAsSynapseTakesIt(cjk)).isSameAs(cjk);
        String astral = "#" + "\ud83c\udf89".repeat(243) + ":a.b"; // 248 code points in 491 chars
        assertThat(MatrixIds.roomAliasAsSynapseTakesIt(astral)).isSameAs(astral);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> MatrixIds.roomAliasAsSynapseTakesIt("#" + "a".repeat(243) + ":example.org"))
                .withMessage("not a valid Matrix room alias: longer than 255 characters");
    }

    // --- server names ---

    @ParameterizedTest
    @ValueSource(strings = {
            "matrix.org", "matrix.org:8448", "localhost", "my-server.example.com:1",
            "1.2.3.4", "1.2.3.4:1234", "[1234:5678::abcd]", "[::1]", "[::ffff:1.2.3.4]:8448",
    })
    void acceptsServerNamesFromTheSpecGrammar(String name) {
        assertThat(MatrixIds.isServerName(name)).isTrue();
        assertThat(MatrixIds.serverName(name)).isSameAs(name);
    }

    @Test
    void acceptsIpv6LiteralServerNameWithPort() {
        assertThat(MatrixIds.serverName("[2001:db8::1]:8448")).isEqualTo("[2001:db8::1]:8448");
    }

    @Test
    void acceptsDnsNameOf255Characters() {
        assertThat(MatrixIds.isServerName("a".repeat(255))).isTrue();
        assertThat(MatrixIds.isServerName("a".repeat(256))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", ":8448", "example.org:", "example.org:123456", "example.org:80a", "example.org:80:80",
            "exa_mple.org", "exa mple.org", "exämple.org",
            "[]", "[1]", "[::1", "::1", "[::g]", "[::1]8448", "[::1]:", "[::1]]",
            "[1111111111222222222233333333334444444444555555]", // 46 chars inside the brackets
    })
    void rejectsMalformedServerNames(String name) {
        assertThat(MatrixIds.isServerName(name)).isFalse();
        assertThatIllegalArgumentException()
                .isThrownBy(() -> MatrixIds.serverName(name))
                .withMessage("not a valid Matrix server name: expected hostname[:port]");
    }

    @Test
    void isServerNameIsFalseForNull() {
        assertThat(MatrixIds.isServerName(null)).isFalse();
    }

    // --- serverNameOf ---

    @Test
    void serverNameOfReturnsEverythingAfterTheFirstColon() {
        assertThat(MatrixIds.serverNameOf("@alice:example.org")).isEqualTo("example.org");
        assertThat(MatrixIds.serverNameOf("#room:example.org:8448")).isEqualTo("example.org:8448");
        assertThat(MatrixIds.serverNameOf("!abc:[::1]:8008")).isEqualTo("[::1]:8008");
    }

    @Test
    void serverNameOfRejectsIdsWithoutServerName() {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.serverNameOf("!" + V12_OPAQUE));
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.serverNameOf("@alice:"));
    }

    // --- limits and null ---

    @Test
    void acceptsIdsOfExactly255Bytes() {
        String user = ofBytes("@", ":example.org", 255);
        String room = ofBytes("!", ":example.org", 255);
        String event = ofBytes("$", "", 255);
        String alias = "#" + "é".repeat(120) + ":example.org"; // 1 + 240 + 12 = 253 bytes
        assertThat(MatrixIds.userId(user)).isSameAs(user);
        assertThat(MatrixIds.roomId(room)).isSameAs(room);
        assertThat(MatrixIds.eventId(event)).isSameAs(event);
        assertThat(MatrixIds.roomAlias(alias)).isSameAs(alias);
    }

    @Test
    void rejectsIdsLongerThan255Bytes() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> MatrixIds.userId(ofBytes("@", ":example.org", 256)))
                .withMessage("not a valid Matrix user ID: longer than 255 bytes");
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomId(ofBytes("!", ":example.org", 256)));
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.eventId(ofBytes("$", "", 256)));
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomAlias(ofBytes("#", ":example.org", 256)));
    }

    @Test
    void countsTheBytesOfTextsLongEnoughToExceedTheLimitInThreeByteCharacters() {
        assertThat(MatrixIds.fitsAnId("€".repeat(85))).isTrue(); // 85 characters, 255 bytes
        assertThat(MatrixIds.fitsAnId("$" + "€".repeat(85))).isFalse(); // 86 characters, 256 bytes
        assertThat(MatrixIds.fitsAnId("😀".repeat(63))).isTrue(); // 126 characters, 252 bytes
        assertThat(MatrixIds.fitsAnId("😀".repeat(64))).isFalse(); // 128 characters, 256 bytes
    }

    @Test
    void anIdIsKeptAsItIsUpTo255BytesAndLongerOnesByADigestOfTheirOwn() {
        String longest = ofBytes("@", ":example.org", 255);
        String longer = ofBytes("@", ":example.org", 256);

        assertThat(MatrixIds.keptForm(longest)).isSameAs(longest);
        assertThat(MatrixIds.keptForm(longer)).startsWith("sha256:").hasSize(71);
        assertThat(MatrixIds.keptForm(longer)).isEqualTo(MatrixIds.keptForm(new String(longer)))
                .isNotEqualTo(MatrixIds.keptForm(longer.replace(":example.org", ":example.net")));
    }

    @Test
    void rejectsAliasUnder255CharactersButOver255BytesInUtf8() {
        String alias = "#" + "é".repeat(125) + ":example.org"; // 138 chars, 263 bytes
        assertThat(alias.length()).isLessThan(255);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> MatrixIds.roomAlias(alias))
                .withMessage("not a valid Matrix room alias: longer than 255 bytes");
    }

    @Test
    void rejectsNullAsMissing() {
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.userId(null)).withMessage("missing");
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomId(null)).withMessage("missing");
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.eventId(null)).withMessage("missing");
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.roomAlias(null)).withMessage("missing");
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.serverName(null)).withMessage("missing");
        assertThatIllegalArgumentException().isThrownBy(() -> MatrixIds.serverNameOf(null)).withMessage("missing");
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "0.0.0.0", "999.1.22.333", "[::1]", "[2001:db8::1]"})
    void anIpAddressWrittenAsOneIsAnIpLiteral(String host) {
        assertThat(MatrixIds.isIpLiteral(host)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "example.com", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1234.1.1.1", "1.2.3.4a", "", "a1.2.3.4"})
    void aNameOrAnythingElseIsNoIpLiteral(String host) {
        assertThat(MatrixIds.isIpLiteral(host)).isFalse();
    }
}
