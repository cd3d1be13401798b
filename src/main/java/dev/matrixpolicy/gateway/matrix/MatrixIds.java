package dev.matrixpolicy.gateway.matrix;

import dev.matrixpolicy.gateway.hashing.Sha256;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Validation of Matrix identifiers (user IDs, room IDs, event IDs, room aliases, server names)
 * as they arrive from Synapse.
 *
 * <p>Each validating method returns its input unchanged when it is valid and throws
 * {@link IllegalArgumentException} with a short message otherwise ({@code "missing"} for null).
 *
 * <p>User ID localparts are checked against the spec's <em>historical</em> grammar (any printable
 * ASCII except {@code ':'}) rather than the stricter {@code [a-z0-9._=/+-]} one: users created on
 * federated servers before the stricter grammar still exist, federation still carries their IDs,
 * and rejecting them here would break callbacks about perfectly real users.
 *
 * <p>Everything is hand-scanned without regexes or substrings, since these run on the request path.
 */
public final class MatrixIds {
    /** Two server names alike in nothing but their grammar: see {@link #unlikeServerNames}. */
    private static final List<String> UNLIKE_SERVER_NAMES = List.of("0", "[::1]:1");

    /** The spec's limit on every identifier, in UTF-8 bytes. */
    public static final int MAX_ID_BYTES = 255;
    /** Synapse's {@code MAX_ALIAS_LENGTH}, which it compares with a Python string's length: code points. */
    public static final int MAX_ALIAS_CHARACTERS = 255;

    private static final int MAX_DNS_NAME_LENGTH = 255;
    private static final int MAX_PORT_DIGITS = 5;
    private static final int MIN_IPV6_LENGTH = 2;
    private static final int MAX_IPV6_LENGTH = 45;
    /** Room version 12 room IDs: '!' + unpadded URL-safe base64 of a 32-byte hash. */
    private static final int V12_ROOM_ID_OPAQUE_LENGTH = 43;

    private static final String USER_ID = "user ID";
    private static final String ROOM_ID = "room ID";
    private static final String EVENT_ID = "event ID";
    private static final String ROOM_ALIAS = "room alias";

    private static final String USER_ID_SHAPE = "expected @localpart:server_name";
    private static final String ROOM_ID_SHAPE =
            "expected !opaque:server_name or ! followed by 43 URL-safe base64 characters";
    private static final String EVENT_ID_SHAPE = "expected $ followed by printable ASCII";
    private static final String LENIENT_EVENT_ID_SHAPE = "expected $ followed by text";
    private static final String ROOM_ALIAS_SHAPE = "expected #localpart:server_name";
    private static final String SERVER_NAME_SHAPE = "expected hostname[:port]";

    private MatrixIds() {
    }

    /** {@code @localpart:server_name}, localpart in the historical grammar. */
    public static String userId(String s) {
        checkId(s, '@', USER_ID, USER_ID_SHAPE);
        int colon = s.indexOf(':');
        if (colon < 0 || !isPrintableAsciiExceptColon(s, 1, colon) || !isServerName(s, colon + 1, s.length(), false)) {
            throw invalid(USER_ID, USER_ID_SHAPE);
        }
        return s;
    }

    /**
     * A user ID as Synapse takes one ({@code UserID.from_string}): {@code @}, then text with a
     * {@code ':'} in it, and nothing else checked: not the localpart, not the server name after the
     * first {@code ':'}, not the length. Synapse checks more ({@code UserID.is_valid}) only on some
     * paths, and asks the callbacks on others before any check:
     * <ul>
     * <li>an appservice registers any localpart it likes ({@code RegistrationHandler.appservice_register}
     * checks only its namespace, and {@code /register} up to 512 characters), so
     * {@code @irc_a:b:example.org}, whose server name Synapse reads as {@code b:example.org}, and
     * IDs of more than 255 bytes are local users, asked about in every callback that names a user;
     * <li>a client's {@code /invite} body or member state key names the invitee that
     * {@code user_may_invite} is asked about, {@code @bob:} or {@code @bob:not a server} included;
     * <li>rooms hold non-compliant IDs that older servers made: an empty or non-ASCII localpart, or
     * control characters, NUL, DEL and C1 included, which canonical JSON escapes, so a hostile
     * server's signed event from {@code @\u0001x:evil.example} reaches {@code check_event_for_spam}.
     * </ul>
     * A 400 would reach the homeserver module as the gateway failing: a 503 for the client, or a yes
     * past every rule where the callback fails open. What is refused is half a surrogate pair, which
     * no such path delivers ({@link #isSynapseText}). What the gateway is given to match against
     * (configuration, lists) is held to {@link #userId}; a server name is read with {@link #domainOf}.
     */
    public static String userIdAsSynapseTakesIt(String s) {
        if (s == null) {
            throw new IllegalArgumentException("missing");
        }
        if (s.indexOf(':') < 1 || s.charAt(0) != '@' || !isSynapseText(s)) {
            throw invalid(USER_ID, USER_ID_SHAPE);
        }
        return s;
    }

    /** Classic {@code !opaque:server_name}, or the room-version-12 {@code !} + 43 base64url characters. */
    public static String roomId(String s) {
        checkId(s, '!', ROOM_ID, ROOM_ID_SHAPE);
        int colon = s.indexOf(':');
        boolean valid = colon < 0
                ? isV12RoomId(s)
                : isPrintableAsciiExceptColon(s, 1, colon) && isServerName(s, colon + 1, s.length(), false);
        if (!valid) {
            throw invalid(ROOM_ID, ROOM_ID_SHAPE);
        }
        return s;
    }

    /**
     * A room ID as Synapse takes one ({@code RoomID.is_valid}) and asks about it: the room-version-12
     * form, or {@code !}, an opaque part without {@code ':'} that may be empty or hold any whole
     * character, control characters included, and a valid server name. Before room version 12 the
     * creating server chose the opaque part, and Synapse checks nothing of it, so a hostile server can
     * make {@code !salle-\u00e9:evil.example} or {@code !\u0001:evil.example}, and a local user's
     * {@code /join/%21%01:evil.example} asks {@code user_may_join_room} about the latter (Synapse
     * percent-decodes the path and {@code RoomID.is_valid} passes it); refusing it here would answer
     * 400 about every join, invite and event in that room, which a homeserver module failing open
     * takes as a yes, past every rule, a ban of that very server included. Half a surrogate pair is
     * refused ({@link #isSynapseText}). What the gateway is configured with keeps {@link #roomId}.
     */
    public static String roomIdAsSynapseTakesIt(String s) {
        checkId(s, '!', ROOM_ID, ROOM_ID_SHAPE);
        int colon = s.indexOf(':');
        boolean valid = colon < 0 ? isV12RoomId(s) : isAsSynapseTakesIt(s, colon);
        if (!valid) {
            throw invalid(ROOM_ID, ROOM_ID_SHAPE);
        }
        return s;
    }

    /** {@code $} + non-empty printable ASCII: covers v1/v2 {@code $id:server}, v3 base64 and v4+ base64url. */
    public static String eventId(String s) {
        checkId(s, '$', EVENT_ID, EVENT_ID_SHAPE);
        if (!isPrintableAscii(s, 1, s.length())) {
            throw invalid(EVENT_ID, EVENT_ID_SHAPE);
        }
        return s;
    }

    /**
     * An event ID as Synapse hands one on: {@code $} and any whole characters, control characters
     * included. In room versions 1 and 2 the sending server names its events ({@code $opaque:server_name})
     * and nobody checks the opaque part ({@code _check_size_limits} counts its length, the signature
     * check reads its server name), so a hostile server's {@code $\u00e9:evil.example} or
     * {@code $\u0001:evil.example} sits in such a room, and {@code check_event_for_spam} is asked about
     * it; refusing it here would answer 400 about that event. Half a surrogate pair is refused
     * ({@link #isSynapseText}). What the gateway checks of its own (the policy server's events)
     * keeps {@link #eventId}.
     */
    public static String eventIdAsSynapseTakesIt(String s) {
        checkId(s, '$', EVENT_ID, LENIENT_EVENT_ID_SHAPE);
        if (!isSynapseText(s)) {
            throw invalid(EVENT_ID, LENIENT_EVENT_ID_SHAPE);
        }
        return s;
    }

    /** {@code #localpart:server_name}, localpart any non-empty run of non-control characters without ':'. */
    public static String roomAlias(String s) {
        checkId(s, '#', ROOM_ALIAS, ROOM_ALIAS_SHAPE);
        int colon = s.indexOf(':');
        if (colon < 0 || !isTextWithoutControls(s, 1, colon) || !isServerName(s, colon + 1, s.length(), false)) {
            throw invalid(ROOM_ALIAS, ROOM_ALIAS_SHAPE);
        }
        return s;
    }

    /**
     * A room alias as Synapse asks about one ({@code user_may_create_room_alias}, directly or for a new
     * room's {@code room_alias_name}): {@code #}, a localpart without {@code ':'} that may be empty or
     * hold any whole character, a valid server name. Control characters are taken: Synapse refuses
     * white space in an alias only after it has asked ({@code DirectoryHandler._create_association}),
     * and the others not at all, and {@code PUT /directory/room/%23%01:example.org} reaches the
     * question percent-decoded; half a surrogate pair is refused ({@link #isSynapseText}). Synapse
     * checks nothing more before it asks ({@code RoomAlias.is_valid}, and at most {@code MAX_ALIAS_LENGTH} = 255
     * characters, counted as code points rather than bytes), so refusing more here would make the
     * gateway answer 400 about an alias Synapse creates: {@code #:example.org} and long aliases in
     * non-Latin scripts among them. A policy list's room rule may name any such alias too (its length
     * counted by {@link #fitsAnAlias}): a ban of an alias Synapse creates must hold.
     */
    public static String roomAliasAsSynapseTakesIt(String s) {
        if (s == null) {
            throw new IllegalArgumentException("missing");
        }
        if (!fitsAnAlias(s)) {
            throw new IllegalArgumentException("not a valid Matrix " + ROOM_ALIAS + ": longer than "
                    + MAX_ALIAS_CHARACTERS + " characters");
        }
        int colon = s.indexOf(':');
        if (!s.startsWith("#") || !isAsSynapseTakesIt(s, colon)) {
            throw invalid(ROOM_ALIAS, ROOM_ALIAS_SHAPE);
        }
        return s;
    }

    /** {@code hostname [":" port]}; false for null. */
    public static boolean isServerName(String s) {
        return s != null && isServerName(s, 0, s.length(), false);
    }

    /** Returns {@code s} if it is a valid server name, else throws. */
    public static String serverName(String s) {
        if (s == null) {
            throw new IllegalArgumentException("missing");
        }
        if (!isServerName(s, 0, s.length(), false)) {
            throw invalid("server name", SERVER_NAME_SHAPE);
        }
        return s;
    }

    /**
     * The server name of a user ID, room alias or classic room ID: everything after the first ':'.
     * Throws if there is no ':' or what follows is not a server name as Synapse reads one (a port
     * padded with zeros included: the IDs asked about are taken as Synapse takes them).
     */
    public static String serverNameOf(String id) {
        if (id == null) {
            throw new IllegalArgumentException("missing");
        }
        int colon = id.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("no server name in Matrix ID: expected a ':'");
        }
        if (!isServerName(id, colon + 1, id.length(), true)) {
            throw invalid("server name", SERVER_NAME_SHAPE);
        }
        return id.substring(colon + 1);
    }

    /**
     * What follows the first {@code ':'} of an ID, as Synapse reads its server name ({@code
     * get_domain_from_id}), checked for nothing: for a user ID as Synapse takes it, which may have
     * none ({@code b:example.org} of an appservice's {@code @irc_a:b:example.org}). Throws if there
     * is no {@code ':'}.
     */
    public static String domainOf(String id) {
        int colon = id.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("no server name in Matrix ID: expected a ':'");
        }
        return id.substring(colon + 1);
    }

    // --- shared checks ---

    private static void checkId(String s, char sigil, String kind, String shape) {
        if (s == null) {
            throw new IllegalArgumentException("missing");
        }
        if (exceedsMaxBytes(s)) {
            throw new IllegalArgumentException("not a valid Matrix " + kind + ": longer than " + MAX_ID_BYTES + " bytes");
        }
        if (s.length() < 2 || s.charAt(0) != sigil) {
            throw invalid(kind, shape);
        }
    }

    private static IllegalArgumentException invalid(String kind, String shape) {
        return new IllegalArgumentException("not a valid Matrix " + kind + ": " + shape);
    }

    /**
     * Whether a text is no longer than Synapse lets a room alias be: {@code MAX_ALIAS_LENGTH} = 255
     * characters, counted as code points rather than bytes (100 CJK characters are 300 bytes).
     */
    public static boolean fitsAnAlias(String s) {
        return s.length() <= MAX_ALIAS_CHARACTERS || s.codePointCount(0, s.length()) <= MAX_ALIAS_CHARACTERS;
    }

    /** Whether a text is no longer than any Matrix ID may be: 255 bytes of UTF-8. */
    public static boolean fitsAnId(String s) {
        return !exceedsMaxBytes(s);
    }

    /**
     * What stands for an ID in a key of state kept beyond the request (a rate limit's bucket, a repeat
     * count): the ID itself when it {@link #fitsAnId fits an ID}, else {@code sha256:} and the SHA-256
     * of its UTF-8 in hex, which no ID is (an ID starts with its sigil). Synapse hands on IDs of any
     * length: it checks a remote server's event for spam before it checks the sender's length
     * ({@code _check_sigs_and_hash}, then {@code _check_size_limits}), so a hostile server's
     * megabyte senders would each be kept whole, in memory (where they push the other keys out) or
     * in Redis. So each is still counted on its own, under 71 characters.
     */
    public static String keptForm(String id) {
        return fitsAnId(id) ? id : "sha256:" + Sha256.hexOf(id.getBytes(StandardCharsets.UTF_8));
    }

    /** Whether the UTF-8 length exceeds the limit, counted without encoding (a lone surrogate counts 3 bytes). */
    private static boolean exceedsMaxBytes(String s) {
        int n = s.length();
        if (n > MAX_ID_BYTES) {
            return true; // every char is at least one byte
        }
        if (n <= MAX_ID_BYTES / 3) {
            return false; // and at most three: most IDs are decided here, uncounted
        }
        int bytes = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes > MAX_ID_BYTES;
    }

    /**
     * Whether a host (of a server name, or a {@code Host} header without its port) is an IP address
     * literal: a bracketed IPv6 one, or four dot-separated runs of one to three digits (the spec's
     * IPv4 literal), rather than a name that DNS resolves. A loop, not a regular expression: it is
     * asked on every request a loopback caller sends without a token.
     */
    public static boolean isIpLiteral(String host) {
        if (host.startsWith("[")) {
            return true;
        }
        int dots = 0;
        int digits = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                if (digits == 0 || ++dots > 3) {
                    return false;
                }
                digits = 0;
            } else if (c >= '0' && c <= '9' && digits < 3) {
                digits++;
            } else {
                return false;
            }
        }
        return dots == 3 && digits > 0;
    }

    /**
     * Whether {@code s} is non-empty and all printable ASCII (U+0021 to U+007E): the characters a user
     * ID, a room ID, an event ID and a server name are made of.
     */
    public static boolean isPrintableAscii(String s) {
        return isPrintableAscii(s, 0, s.length());
    }

    private static boolean isPrintableAscii(String s, int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPrintableAsciiExceptColon(String s, int from, int to) {
        // Callers pass 'to' = index of the first ':', so the range holds no ':'.
        return isPrintableAscii(s, from, to);
    }

    /** Room version 12's {@code !} and 43 URL-safe base64 characters: the room's create event's hash. */
    public static boolean isV12RoomId(String s) {
        return s.length() == 1 + V12_ROOM_ID_OPAQUE_LENGTH && isUrlSafeBase64(s, 1, s.length());
    }

    /**
     * Whether an ID with its first {@code ':'} at {@code colon} (-1 for none) is one Synapse takes: a
     * localpart of whole characters, empty or not, and a server name as Synapse reads one.
     */
    private static boolean isAsSynapseTakesIt(String s, int colon) {
        return colon > 0 && isSynapseText(s) && isServerName(s, colon + 1, s.length(), true);
    }

    /**
     * Whether {@code s} holds no half of a surrogate pair: the one thing the lenient readers refuse
     * that Synapse's grammar would let through, because Synapse cannot carry it to a callback about
     * a real room or user. A JSON escape ({@code "\ud800"}) makes one in Python, but a federation
     * request that holds it fails its own authentication ({@code Authenticator.authenticate_request}
     * verifies the body's signature over canonical JSON, whose UTF-8 encoding raises on it), an event
     * that holds it fails {@code _check_sigs_on_pdu} and {@code check_event_content_hash} the same
     * way, a path is percent-decoded with invalid UTF-8 replaced ({@code urllib.parse.unquote}), and
     * a client's body naming such a user or alias is looked up in the database (Postgres and SQLite
     * drivers alike refuse to encode it) before {@code user_may_invite} or
     * {@code user_may_create_room_alias} is asked. Nor could Synapse go on to store or sign what it
     * asked about, so a 400 here lets nothing past.
     */
    private static boolean isSynapseText(String s) {
        return EventJson.hasUtf8Form(s);
    }

    private static boolean isUrlSafeBase64(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(isAsciiAlphanumeric(c) || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code s} is non-empty text without control characters or halves of a surrogate pair:
     * what a localpart or opaque part the gateway is given to match against (a policy list's rule, its
     * own configuration) may hold; stricter than what Synapse hands on ({@link #userIdAsSynapseTakesIt}).
     */
    public static boolean isTextWithoutControls(String s) {
        return isTextWithoutControls(s, 0, s.length());
    }

    private static boolean isTextWithoutControls(String s, int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int i = from; i < to; ) {
            int cp = s.codePointAt(i);
            // codePointAt yields a lone surrogate for unpaired halves: not encodable, reject.
            if (Character.isISOControl(cp) || (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE)) {
                return false;
            }
            i += Character.charCount(cp);
        }
        return true;
    }

    // --- server names: hostname [ ":" port ] ---

    /**
     * @param paddedPorts whether a port may have more than five digits when the extra ones are leading
     *                    zeros: the spec's grammar has at most five, but Synapse reads a port as a number
     *                    ({@code evil.example:008448} is port 8448, and such a server federates), so the
     *                    IDs of such a server are taken, where IDs are taken as Synapse takes them
     */
    private static boolean isServerName(String s, int from, int to, boolean paddedPorts) {
        if (from >= to) {
            return false;
        }
        int hostEnd;
        if (s.charAt(from) == '[') {
            int close = s.indexOf(']', from + 1);
            if (close < 0 || close >= to || !isIpv6Literal(s, from + 1, close)) {
                return false;
            }
            hostEnd = close + 1;
        } else {
            int colon = s.indexOf(':', from);
            hostEnd = colon < 0 || colon >= to ? to : colon;
            // An IPv4 literal (four dot-separated 1-3 digit numbers) only uses DNS-name characters,
            // so this one scan accepts both alternatives of the grammar.
            if (!isDnsName(s, from, hostEnd)) {
                return false;
            }
        }
        if (hostEnd == to) {
            return true;
        }
        return s.charAt(hostEnd) == ':' && isPort(s, paddedPorts ? firstSignificant(s, hostEnd + 1, to) : hostEnd + 1, to);
    }

    private static boolean isIpv6Literal(String s, int from, int to) {
        int len = to - from;
        if (len < MIN_IPV6_LENGTH || len > MAX_IPV6_LENGTH) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(isHexDigit(c) || c == ':' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDnsName(String s, int from, int to) {
        int len = to - from;
        if (len < 1 || len > MAX_DNS_NAME_LENGTH) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(isAsciiAlphanumeric(c) || c == '.' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPort(String s, int from, int to) {
        int len = to - from;
        if (len < 1 || len > MAX_PORT_DIGITS) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (!isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** The index of the first character from {@code from} that is not a leading zero, keeping the last one. */
    private static int firstSignificant(String s, int from, int to) {
        int at = from;
        while (at < to - 1 && s.charAt(at) == '0') {
            at++;
        }
        return at;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isHexDigit(char c) {
        return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static boolean isAsciiAlphanumeric(char c) {
        return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /**
     * Two IDs of one kind ({@code @} users, {@code !} room IDs, {@code #} aliases) alike in nothing but
     * their grammar: a pattern or rule that names both names every such ID ({@code *}, {@code @*:*}).
     */
    public static List<String> unlikeIds(char sigil) {
        return List.of(sigil + "0:0", sigil + "q_-=.+/:[::1]:1");
    }

    /** Two server names alike in nothing but their grammar: a rule that names both names every server. */
    public static List<String> unlikeServerNames() {
        return UNLIKE_SERVER_NAMES;
    }
}
