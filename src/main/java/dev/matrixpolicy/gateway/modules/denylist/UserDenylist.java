package dev.matrixpolicy.gateway.modules.denylist;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.Rejection;
import dev.matrixpolicy.gateway.callbacks.SpamVerdict;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.FederatedUserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoomAlias;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayPublishRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySend3pidInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySendStateEvent;
import dev.matrixpolicy.gateway.matrix.UserIdMatcher;
import dev.matrixpolicy.gateway.module.ListSource;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.UserListFile;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A {@code user_denylist} instance: rejects what listed users do, in the callbacks it was configured
 * for, and lets everything else fall through with {@code NOT_SPAM}. Each callback checks the user who
 * acts: the event's sender, the inviter (of a user or of an e-mail address or phone number), the joining
 * user, the room creator, the user creating an alias or publishing a room, the user sending state, the
 * remote inviter.
 */
final class UserDenylist implements PolicyModule, Denylist, CheckEventForSpam, UserMayInvite, UserMaySend3pidInvite, UserMayJoinRoom,
        UserMayCreateRoom, UserMayCreateRoomAlias, UserMayPublishRoom, UserMaySendStateEvent, FederatedUserMayInvite {

    /**
     * The callbacks this module can take part in: every spam-checker callback that names the user who acts.
     * The 3PID invite, the alias and the room directory are none of the others' business: Synapse has the
     * identity server send the invitation before it builds (and {@code check_event_for_spam} sees) the
     * invite's event, and neither an alias nor a directory entry is an event.
     */
    static final List<CallbackType<?, ?, ?>> SUPPORTED = List.of(
            CheckEventForSpam.TYPE, UserMayInvite.TYPE, UserMaySend3pidInvite.TYPE, UserMayJoinRoom.TYPE, UserMayCreateRoom.TYPE,
            UserMayCreateRoomAlias.TYPE, UserMayPublishRoom.TYPE, UserMaySendStateEvent.TYPE, FederatedUserMayInvite.TYPE);

    private final Supplier<UserIdMatcher> listed;
    private final Set<CallbackType<?, ?, ?>> enabled;
    private final Rejection rejection;
    private final Optional<UserListFile> file;

    /**
     * @param listed the list in force: fixed, or the latest good version of the list file
     * @param file   the list file, watched until {@link #close()}
     */
    UserDenylist(Supplier<UserIdMatcher> listed, Set<CallbackType<?, ?, ?>> enabled, Rejection rejection, Optional<UserListFile> file) {
        this.listed = listed;
        this.enabled = Set.copyOf(enabled);
        this.rejection = rejection;
        this.file = file;
    }

    @Override
    public boolean isListed(String userId) {
        return listed.get().matches(userId);
    }

    /** The list file, when the instance reads one. */
    Optional<UserListFile> file() {
        return file;
    }

    @Override
    public List<ListSource> listSources() {
        return file.<List<ListSource>>map(List::of).orElse(List.of());
    }

    @Override
    public void close() {
        file.ifPresent(UserListFile::close);
    }

    @Override
    public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
        return enabled.contains(callback) ? PolicyModule.super.implementation(callback) : Optional.empty();
    }

    @Override
    public SpamVerdict checkEventForSpam(CheckEventForSpam.Args args) {
        return verdict(args.event().sender());
    }

    @Override
    public SpamVerdict userMayInvite(UserMayInvite.Args args) {
        return verdict(args.inviter());
    }

    @Override
    public SpamVerdict userMaySend3pidInvite(UserMaySend3pidInvite.Args args) {
        return verdict(args.inviter());
    }

    @Override
    public SpamVerdict userMayJoinRoom(UserMayJoinRoom.Args args) {
        return verdict(args.user());
    }

    @Override
    public SpamVerdict userMayCreateRoom(UserMayCreateRoom.Args args) {
        return verdict(args.userId());
    }

    @Override
    public SpamVerdict userMayCreateRoomAlias(UserMayCreateRoomAlias.Args args) {
        return verdict(args.userId());
    }

    @Override
    public SpamVerdict userMayPublishRoom(UserMayPublishRoom.Args args) {
        return verdict(args.userId());
    }

    @Override
    public SpamVerdict userMaySendStateEvent(UserMaySendStateEvent.Args args) {
        return verdict(args.userId());
    }

    @Override
    public SpamVerdict federatedUserMayInvite(FederatedUserMayInvite.Args args) {
        return verdict(args.event().sender());
    }

    @Override
    public boolean mayBlock() {
        return false; // an in-memory lookup: no deadline needed
    }

    private SpamVerdict verdict(String userId) {
        return isListed(userId) ? rejection : SpamVerdict.NOT_SPAM;
    }
}
