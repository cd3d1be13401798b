package dev.matrixpolicy.gateway.policyserver;

/** The room version has no redaction rules here (see {@link Redaction#KNOWN_ROOM_VERSIONS}). */
public final class UnknownRoomVersionException extends IllegalArgumentException {
    public UnknownRoomVersionException(String roomVersion) {
        super("Unknown room version \"" + roomVersion + "\": known are " + Redaction.KNOWN_ROOM_VERSIONS);
    }
}
