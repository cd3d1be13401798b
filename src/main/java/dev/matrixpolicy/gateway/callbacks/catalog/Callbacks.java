package dev.matrixpolicy.gateway.callbacks.catalog;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.account_data.OnAccountDataUpdated;
import dev.matrixpolicy.gateway.callbacks.account_validity.IsUserExpired;
import dev.matrixpolicy.gateway.callbacks.account_validity.OnUserLogin;
import dev.matrixpolicy.gateway.callbacks.account_validity.OnUserRegistration;
import dev.matrixpolicy.gateway.callbacks.add_extra_fields_to_unsigned_client_event.AddFieldToUnsigned;
import dev.matrixpolicy.gateway.callbacks.background_update_controller.DefaultBatchSize;
import dev.matrixpolicy.gateway.callbacks.background_update_controller.MinBatchSize;
import dev.matrixpolicy.gateway.callbacks.background_update_controller.OnUpdate;
import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaConfigForUser;
import dev.matrixpolicy.gateway.callbacks.media_repository.GetMediaUploadLimitsForUser;
import dev.matrixpolicy.gateway.callbacks.media_repository.IsUserAllowedToUploadMediaOfSize;
import dev.matrixpolicy.gateway.callbacks.media_repository.OnMediaUploadLimitExceeded;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.Check3pidAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.CheckAuth;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.GetDisplaynameForRegistration;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.GetUsernameForRegistration;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.Is3pidAllowed;
import dev.matrixpolicy.gateway.callbacks.password_auth_provider.OnLoggedOut;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetInterestedUsers;
import dev.matrixpolicy.gateway.callbacks.presence_router.GetUsersForStates;
import dev.matrixpolicy.gateway.callbacks.ratelimit.GetRatelimitOverrideForUser;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckEventForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckLoginForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckMediaFileForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckRegistrationForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.CheckUsernameForSpam;
import dev.matrixpolicy.gateway.callbacks.spam_checker.FederatedUserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.ShouldDropFederatedEvent;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayCreateRoomAlias;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayJoinRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMayPublishRoom;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySend3pidInvite;
import dev.matrixpolicy.gateway.callbacks.spam_checker.UserMaySendStateEvent;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckCanDeactivateUser;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckCanShutdownRoom;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckEventAllowed;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckThreepidCanBeInvited;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.CheckVisibilityCanBeModified;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnAddUserThirdPartyIdentifier;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnCreateRoom;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnNewEvent;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnProfileUpdate;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnRemoveUserThirdPartyIdentifier;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnThreepidBind;
import dev.matrixpolicy.gateway.callbacks.third_party_rules.OnUserDeactivationStatusChanged;
import java.util.List;
import java.util.Optional;

/** Every Synapse callback the gateway answers, in the order of the Synapse docs. */
public final class Callbacks {

    /** All callbacks, {@link CheckAuth} included (its chains are per login type). */
    public static final List<CallbackType<?, ?, ?>> ALL = List.of(
            CheckEventForSpam.TYPE, UserMayJoinRoom.TYPE, UserMayInvite.TYPE, UserMaySend3pidInvite.TYPE,
            UserMayCreateRoom.TYPE, UserMayCreateRoomAlias.TYPE, UserMayPublishRoom.TYPE,
            CheckUsernameForSpam.TYPE, CheckRegistrationForSpam.TYPE, CheckMediaFileForSpam.TYPE,
            ShouldDropFederatedEvent.TYPE, CheckLoginForSpam.TYPE, UserMaySendStateEvent.TYPE, FederatedUserMayInvite.TYPE,
            CheckEventAllowed.TYPE, OnCreateRoom.TYPE, CheckThreepidCanBeInvited.TYPE,
            CheckVisibilityCanBeModified.TYPE, OnNewEvent.TYPE, CheckCanShutdownRoom.TYPE,
            CheckCanDeactivateUser.TYPE, OnProfileUpdate.TYPE, OnUserDeactivationStatusChanged.TYPE,
            OnThreepidBind.TYPE, OnAddUserThirdPartyIdentifier.TYPE, OnRemoveUserThirdPartyIdentifier.TYPE,
            CheckAuth.TYPE, Check3pidAuth.TYPE, OnLoggedOut.TYPE, GetUsernameForRegistration.TYPE,
            GetDisplaynameForRegistration.TYPE, Is3pidAllowed.TYPE,
            IsUserExpired.TYPE, OnUserRegistration.TYPE, OnUserLogin.TYPE,
            GetUsersForStates.TYPE, GetInterestedUsers.TYPE,
            OnAccountDataUpdated.TYPE,
            OnUpdate.TYPE, DefaultBatchSize.TYPE, MinBatchSize.TYPE,
            AddFieldToUnsigned.TYPE,
            GetMediaConfigForUser.TYPE, IsUserAllowedToUploadMediaOfSize.TYPE, GetMediaUploadLimitsForUser.TYPE,
            OnMediaUploadLimitExceeded.TYPE,
            GetRatelimitOverrideForUser.TYPE);

    private Callbacks() {
    }

    /** Finds a callback by its Synapse name, e.g. {@code user_may_invite}. Names are unique across categories. */
    public static Optional<CallbackType<?, ?, ?>> byName(String name) {
        return ALL.stream().filter(type -> type.name().equals(name)).findFirst();
    }
}
