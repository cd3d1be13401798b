package dev.matrixpolicy.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.matrixpolicy.gateway.api.RequestsInProgress.Admission;
import dev.matrixpolicy.gateway.api.RequestsInProgress.Counting;
import dev.matrixpolicy.gateway.api.RequestsInProgress.Eviction;
import dev.matrixpolicy.gateway.api.RequestsInProgress.Stage;
import java.util.HashSet;
import java.util.function.BooleanSupplier;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RequestsInProgressTest {
    /** A request being answered whose body came whole. */
    private static final BooleanSupplier BODY_COME = () -> false;
    private static final long GRACE = RequestsInProgress.BODY_GRACE.toNanos();
    private final AtomicLong clock = new AtomicLong(-1_000);
    private final Set<String> closed = new HashSet<>();
    private final RequestsInProgress<String> requests = new RequestsInProgress<>(2, Counting.EVERY_REQUEST, clock::get, closed::contains);
    private final RequestsInProgress<String> heads = new RequestsInProgress<>(2, Counting.HEADS_AWAITED, clock::get, closed::contains);

    private Admission<String> waitsForHeaders(String connection) {
        Admission<String> admission = requests.admit(connection, BODY_COME);
        requests.handled(connection, Stage.READING_HEADERS);
        clock.addAndGet(10);
        return admission;
    }

    @Test
    void aConnectionCountsOnlyFromItsRequestsFirstBytesToItsAnswer() {
        assertThat(requests.admit("a", BODY_COME)).isEqualTo(new Admission<>(true, null));
        assertThat(requests.inProgress()).isEqualTo(1);
        requests.handled("a", Stage.DONE);
        assertThat(requests.inProgress()).as("idle between requests").isZero();

        for (String connection : new String[] {"a", "b", "c", "d"}) {
            assertThat(requests.admit(connection, BODY_COME).admitted()).isTrue();
            requests.handled(connection, Stage.DONE);
        }
        assertThat(requests.inProgress()).isZero();
    }

    @Test
    void aNewRequestTakesThePlaceOfTheOneWaitingLongestForItsHeaders() {
        waitsForHeaders("first");
        waitsForHeaders("second");
        // more bytes of the first come, still not its whole headers: its wait goes on from when it began
        waitsForHeaders("first");

        assertThat(requests.admit("third", BODY_COME)).isEqualTo(new Admission<>(true, new Eviction<>("first", false)));
        assertThat(requests.inProgress()).isEqualTo(2);
        requests.handled("first", Stage.DONE); // its close, handled later, frees no second place
        assertThat(requests.admit("fourth", BODY_COME)).isEqualTo(new Admission<>(true, new Eviction<>("second", false)));
    }

    @Test
    void aRequestWhoseBytesAreBeingHandledOrThatIsAnsweringIsNeverEvicted() {
        requests.admit("running", BODY_COME); // its thread reads or answers it now
        requests.admit("answering", BODY_COME);
        requests.handled("answering", Stage.ANSWERING);

        assertThat(requests.admit("new", BODY_COME)).isEqualTo(new Admission<>(false, null));
        assertThat(requests.inProgress()).isEqualTo(2);
        requests.handled("running", Stage.DONE);
        assertThat(requests.admit("new", BODY_COME)).isEqualTo(new Admission<>(true, null));
    }

    @Test
    void aRequestWhoseBodyHasNotComeGivesItsPlaceOnlyOnceItsGraceIsOver() {
        requests.admit("body", () -> true); // its head came, its body does not
        waitsForHeaders("head"); // awaited since after the body began
        assertThat(requests.admit("new", BODY_COME)).as("the body within its grace: the head awaited gives its place")
                .isEqualTo(new Admission<>(true, new Eviction<>("head", false)));

        clock.addAndGet(GRACE);
        assertThat(requests.admit("newer", BODY_COME)).as("past its grace: the body's reading ends")
                .isEqualTo(new Admission<>(true, new Eviction<>("body", true)));
    }

    @Test
    void aRequestWhoseHeadCameInPartsAndWhoseBodyDoesNotComeGivesItsPlaceAsWell() {
        waitsForHeaders("parts");
        requests.admit("parts", () -> true); // the rest of its head came; its body does not
        requests.admit("other", BODY_COME);
        clock.addAndGet(GRACE);

        assertThat(requests.admit("new", BODY_COME)).isEqualTo(new Admission<>(true, new Eviction<>("parts", true)));
    }

    @Test
    void aRequestBeingAnsweredWhoseBodyCameNeverGivesItsPlace() {
        requests.admit("answering", BODY_COME);
        requests.admit("other", BODY_COME);
        clock.addAndGet(10 * GRACE);

        assertThat(requests.admit("new", BODY_COME)).isEqualTo(new Admission<>(false, null));
    }

    @Test
    void aRequestWaitingForItsHeadersIsNotEvictedWhileMoreOfThemAreHandled() {
        waitsForHeaders("dripping");
        waitsForHeaders("other");
        requests.admit("dripping", BODY_COME); // its next bytes are being handled

        assertThat(requests.admit("new", BODY_COME)).as("the other, though it waited less").isEqualTo(new Admission<>(true, new Eviction<>("other", false)));
    }

    @Test
    void aConnectionClosedWithItsRequestInProgressIsForgottenOnceItsPlaceIsWanted() {
        waitsForHeaders("gone");
        requests.admit("answering", BODY_COME);
        requests.handled("answering", Stage.ANSWERING);
        closed.add("gone");

        assertThat(requests.admit("new", BODY_COME)).isEqualTo(new Admission<>(true, null));
        assertThat(requests.inProgress()).isEqualTo(2);
    }

    @Test
    void countingHeadsAwaitedARequestWhoseHeadCameWholeNeverCountsNorIsRefused() {
        assertThat(heads.countsEveryRequest()).isFalse();
        assertThat(heads.handled("first", Stage.READING_HEADERS)).isNull();
        clock.addAndGet(10);
        assertThat(heads.handled("second", Stage.READING_HEADERS)).isNull();
        clock.addAndGet(10);
        assertThat(heads.inProgress()).isEqualTo(2);

        assertThat(heads.admit("whole", BODY_COME)).as("not waiting: never asked, but never refused").isEqualTo(new Admission<>(true, null));
        assertThat(heads.inProgress()).isEqualTo(2);
        assertThat(heads.handled("third", Stage.READING_HEADERS)).as("a third head awaited").isEqualTo(new Eviction<>("first", false));
        assertThat(heads.inProgress()).isEqualTo(2);

        heads.admit("second", BODY_COME); // the rest of its head came
        assertThat(heads.handled("second", Stage.DONE)).isNull();
        assertThat(heads.inProgress()).isEqualTo(1);
        heads.admit("third", BODY_COME);
        assertThat(heads.handled("third", Stage.ANSWERING)).as("answered later: no longer awaiting its head").isNull();
        assertThat(heads.inProgress()).isZero();
    }

    @Test
    void countingHeadsAwaitedAHeadStillComingFromItsFirstWaitIsTheOldest() {
        heads.handled("first", Stage.READING_HEADERS);
        clock.addAndGet(10);
        heads.handled("second", Stage.READING_HEADERS);
        clock.addAndGet(10);
        heads.admit("first", BODY_COME); // more of its head, not all
        heads.handled("first", Stage.READING_HEADERS);

        assertThat(heads.handled("third", Stage.READING_HEADERS)).isEqualTo(new Eviction<>("first", false));
    }

    @Test
    void theLimitIsAtLeastOne() {
        assertThatThrownBy(() -> new RequestsInProgress<String>(0, Counting.HEADS_AWAITED, clock::get, closed::contains))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
