package dev.matrixpolicy.gateway.modules.policylist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.policylist.EntityKind;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which callbacks and rooms a source applies to. */
class SlotScopeTest {

    private static PolicyList.Slot slot(Set<CallbackType<?, ?, ?>> callbacks, Set<String> rooms) {
        return new PolicyList.Slot("community", "file", "/x", EnumSet.allOf(EntityKind.class), callbacks, rooms, Optional.empty());
    }

    @Test
    void anUnscopedSourceAppliesEverywhere() {
        PolicyList.Slot everywhere = slot(Set.of(), Set.of());

        assertThat(everywhere.applies(UserMayCreateRoom.TYPE, Optional.empty())).isTrue();
        assertThat(everywhere.applies(UserMayJoinRoom.TYPE, Optional.of("!any:example.com"))).isTrue();
    }

    @Test
    void aSourceScopedToRoomsAppliesOnlyToCallbacksAboutThoseRooms() {
        PolicyList.Slot ours = slot(Set.of(), Set.of("!ours:example.com"));

        assertThat(ours.applies(UserMayJoinRoom.TYPE, Optional.of("!ours:example.com"))).isTrue();
        assertThat(ours.applies(UserMayJoinRoom.TYPE, Optional.of("!theirs:example.com"))).isFalse();
        assertThat(ours.applies(UserMayCreateRoom.TYPE, Optional.empty())).as("no room: not ours to judge").isFalse();
    }

    @Test
    void aSourceScopedToCallbacksAppliesOnlyToThem() {
        PolicyList.Slot invitesOnly = slot(Set.<CallbackType<?, ?, ?>>of(UserMayInvite.TYPE), Set.of());

        assertThat(invitesOnly.applies(UserMayInvite.TYPE, Optional.of("!r:example.com"))).isTrue();
        assertThat(invitesOnly.applies(UserMayJoinRoom.TYPE, Optional.of("!r:example.com"))).isFalse();
    }
}
