package dev.matrixpolicy.gateway.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.GatewayProcess;
import dev.matrixpolicy.gateway.support.KeepAliveConnection;
import dev.matrixpolicy.gateway.support.KeepAliveConnection.Exchange;
import dev.matrixpolicy.gateway.support.KeepAliveConnection.Exchange.Answered;
import dev.matrixpolicy.gateway.support.KeepAliveConnection.Exchange.ClosedBeforeSending;
import dev.matrixpolicy.gateway.support.KeepAliveConnection.Exchange.Unanswered;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling update as the homeserver sees it: SIGTERM to the packaged jar while the homeserver
 * holds keep-alive connections to it. Synapse's HTTP client and synapse-http-antispam do not retry
 * a POST, so every request sent on an open connection must get a complete answer; the gateway may
 * close a connection only after an answer that says {@code Connection: close}.
 *
 * <p>The Kubernetes Service stops sending new connections to a terminating pod (the preStop sleep
 * waits for that), so after the signal the clients here only use the connections they hold.
 */
class ConnectionDrainIT {
    private static final String TOKEN = "drain-test-token";
    private static final byte[] INVITE = KeepAliveConnection.post("/v1/spam_checker/user_may_invite", TOKEN,
            "{\"inviter\": \"@alice:example.com\", \"invitee\": \"@bob:example.org\", \"room_id\": \"!room:example.com\"}");
    private static final Answered KEPT_OPEN = new Answered(200, false);
    private static final Answered CLOSING = new Answered(200, true);
    /** Well below the drain's limit (spring.lifecycle.timeout-per-shutdown-phase, 20 s): the drain ends when the last connection closes. */
    private static final Duration EXIT_AFTER_LAST_CONNECTION = Duration.ofSeconds(15);

    @TempDir
    Path pod;

    @Test
    void requestsOnConnectionsIdleAcrossTheSignalAreAnsweredWithConnectionClose() {
        try (GatewayProcess gateway = GatewayProcess.start(pod, TOKEN)) {
            KeepAliveConnection probe = KeepAliveConnection.open(gateway.apiPort());
            List<KeepAliveConnection> idle = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                idle.add(KeepAliveConnection.open(gateway.apiPort()));
            }
            assertThat(probe.exchange(INVITE)).isEqualTo(KEPT_OPEN);
            assertThat(idle).allSatisfy(connection -> assertThat(connection.exchange(INVITE)).isEqualTo(KEPT_OPEN));

            gateway.terminate();
            assertThat(untilAnAnswerClosesTheConnection(probe))
                    .as("the probe's connection, asked until the gateway drains it:\n%s", gateway.log())
                    .isEqualTo(CLOSING);

            List<Exchange> afterTheSignal = idle.stream().map(connection -> connection.exchange(INVITE)).toList();
            assertThat(afterTheSignal).as("requests on connections idle across the signal:\n%s", gateway.log())
                    .containsOnly(CLOSING);
            assertThat(idle).allMatch(connection -> connection.awaitClosedByServer(Duration.ofSeconds(10)),
                    "closed by the gateway after its answer");
            assertThat(gateway.awaitExit(EXIT_AFTER_LAST_CONNECTION)).as("exit status, once no connection is left")
                    .contains(143);
        }
    }

    @Test
    void aSteadyLoadOnAKeepAlivePoolGetsEveryRequestAnsweredAcrossTheSignal() throws InterruptedException {
        int connections = 16;
        int workers = 4;
        try (GatewayProcess gateway = GatewayProcess.start(pod, TOKEN);
             ExecutorService load = Executors.newFixedThreadPool(workers)) {
            BlockingDeque<KeepAliveConnection> pool = new LinkedBlockingDeque<>();
            for (int i = 0; i < connections; i++) {
                pool.add(KeepAliveConnection.open(gateway.apiPort()));
            }
            Queue<Exchange> beforeTheSignal = new ConcurrentLinkedQueue<>();
            Queue<Exchange> afterTheSignal = new ConcurrentLinkedQueue<>();
            AtomicBoolean signalled = new AtomicBoolean();
            for (int i = 0; i < workers; i++) {
                load.execute(() -> {
                    // Like Synapse's pool: take the longest-idle connection, put it back after a kept-alive answer.
                    for (KeepAliveConnection connection; (connection = pool.pollFirst()) != null; ) {
                        Queue<Exchange> tally = signalled.get() ? afterTheSignal : beforeTheSignal;
                        Exchange exchange = connection.exchange(INVITE);
                        tally.add(exchange);
                        if (exchange.equals(KEPT_OPEN)) {
                            pool.addLast(connection);
                        } else {
                            connection.close();
                        }
                    }
                });
            }
            awaitUntil(() -> beforeTheSignal.size() >= 1000, Duration.ofSeconds(60), "a steady load before the signal");

            gateway.terminate();
            signalled.set(true);
            load.shutdown();
            assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).as("every connection of the pool closed").isTrue();

            Map<Exchange, Long> after = afterTheSignal.stream()
                    .collect(Collectors.groupingBy(exchange -> exchange, Collectors.counting()));
            assertThat(beforeTheSignal).as("the %d requests before the signal", beforeTheSignal.size()).containsOnly(KEPT_OPEN);
            // A client that finds a connection closed loses nothing, but the drain does better: it closes
            // a connection only by answering on it, so every connection of the pool ends on such an answer.
            assertThat(afterTheSignal).as("after the signal: %s\n%s", after, gateway.log())
                    .noneMatch(Unanswered.class::isInstance)
                    .noneMatch(ClosedBeforeSending.class::isInstance)
                    .filteredOn(CLOSING::equals).hasSize(connections);
            assertThat(gateway.awaitExit(EXIT_AFTER_LAST_CONNECTION)).as("exit status, once no connection is left")
                    .contains(143);
        }
    }

    /** Asks on {@code connection} until an answer says Connection: close, or anything but a kept-alive answer comes. */
    private static Exchange untilAnAnswerClosesTheConnection(KeepAliveConnection connection) {
        Instant deadline = Instant.now().plusSeconds(30);
        Exchange exchange = connection.exchange(INVITE);
        while (exchange.equals(KEPT_OPEN) && Instant.now().isBefore(deadline)) {
            pause();
            exchange = connection.exchange(INVITE);
        }
        return exchange;
    }

    private static void awaitUntil(BooleanSupplier condition, Duration timeout, String what) {
        Instant deadline = Instant.now().plus(timeout);
        while (!condition.getAsBoolean()) {
            assertThat(Instant.now()).as(what).isBefore(deadline);
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
