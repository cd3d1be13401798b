package dev.matrixpolicy.gateway.callbacks;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The answer of {@code get_interested_users}: a set of user IDs, or
 * {@code PRESENCE_ALL_USERS} ({@code "ALL"} on the wire).
 */
public sealed interface InterestedUsers permits InterestedUsers.Users, InterestedUsers.AllUsers {

    InterestedUsers ALL_USERS = AllUsers.INSTANCE;
    InterestedUsers NONE = new Users(Set.of());

    record Users(Set<String> userIds) implements InterestedUsers {
        public Users {
            userIds = Collections.unmodifiableSet(new LinkedHashSet<>(userIds));
        }

        /** Concatenation of the sets of two modules, as Synapse does. */
        public Users union(Users other) {
            Set<String> union = new LinkedHashSet<>(userIds);
            union.addAll(other.userIds);
            return new Users(union);
        }
    }

    enum AllUsers implements InterestedUsers { INSTANCE }
}
