package dev.matrixpolicy.gateway.decisions;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One entry of the decision log, as {@code /actuator/decisions} shows it: a {@link Refusal} with
 * its time and the {@link InvolvedIds IDs involved}.
 */
public record LoggedDecision(Instant time, String category, String callback, Optional<String> entry, Refusal.Mode mode,
                             Refusal.Outcome outcome, String verdict, Optional<String> errcode, Optional<String> reason,
                             int status, List<String> users, List<String> rooms, List<String> servers) {

    static LoggedDecision of(Instant time, Refusal refusal, InvolvedIds ids) {
        return new LoggedDecision(time, refusal.category(), refusal.callback(), refusal.entry(), refusal.mode(),
                refusal.outcome(), refusal.verdict(), refusal.errcode(), refusal.reason(), refusal.status(),
                ids.users(), ids.rooms(), ids.servers());
    }

    /** Whether it matches every filter given; an absent filter matches all. IDs and names match exactly. */
    boolean matches(Filter filter) {
        return filter.user().map(users::contains).orElse(true)
                && filter.room().map(rooms::contains).orElse(true)
                && filter.callback().map(callback::equals).orElse(true)
                && filter.entry().map(wanted -> entry.filter(wanted::equals).isPresent()).orElse(true);
    }

    /** The filters of {@code /actuator/decisions}: a user or room it involves, its callback, its deciding entry. */
    public record Filter(Optional<String> user, Optional<String> room, Optional<String> callback, Optional<String> entry) {
        public static final Filter ALL = new Filter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());

        /** This filter, with the deciding entry {@code entry}. */
        public Filter byEntry(String entry) {
            return new Filter(user, room, callback, Optional.of(entry));
        }
    }
}
