package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.chain.RunAll;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.PolicyModule;
import dev.matrixpolicy.gateway.module.RepeatedWarnings;
import dev.matrixpolicy.gateway.modules.auditwebhook.AuditRecords.Written;
import dev.matrixpolicy.gateway.modules.auditwebhook.WebhookDelivery.Result;
import dev.matrixpolicy.gateway.outage.Outage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.util.unit.DataSize;

/**
 * The {@code audit_webhook} module instance. Each notification it is configured for becomes one
 * record offered to a bounded in-memory queue; the callback returns at once, whatever the webhook
 * does. Sender virtual threads take records from the queue and deliver them. Every accepted record
 * is either delivered or counted as dropped, with a reason.
 */
final class AuditWebhook implements PolicyModule {
    private static final Logger log = LoggerFactory.getLogger(AuditWebhook.class);
    /** How often an idle sender looks up from the empty queue to notice shutdown. */
    private static final Duration IDLE_POLL = Duration.ofMillis(100);
    /** How long to wait for a sender to stop once interrupted; an interrupted HTTP call aborts at once. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(2);
    /**
     * The kind of the warning that records were dropped, one a {@value RepeatedWarnings#INTERVAL_SECONDS} s: a
     * webhook that refuses everything must not flood the log.
     */
    private static final String DROPPED = "dropped";
    /**
     * The kind of the warning that a record could not be written or sent (a bug, the heap running out),
     * with its stack trace: one a {@value RepeatedWarnings#INTERVAL_SECONDS} s, not one a record, when
     * every record meets it.
     */
    private static final String COULD_NOT_SEND = "could not send";

    /** Why a record was not delivered: the {@code reason} tag of {@code policy.module.audit.dropped}. */
    enum DropReason {
        /** The queue was full when the callback offered the record. */
        QUEUE_FULL,
        /**
         * The webhook answered a status that retrying cannot change (a 3xx, a 4xx other than 408 and 429), or
         * its TLS certificate was refused.
         */
        REJECTED,
        /** Every attempt failed. */
        ATTEMPTS_EXHAUSTED,
        /**
         * Still queued or in flight when the shutdown grace period ended and no instance serves in this
         * one's place, or offered during shutdown.
         */
        SHUTDOWN,
        /**
         * The record could not be written or sent because of a bug, or the heap ran out; logged with its
         * stack trace, one line a {@value RepeatedWarnings#INTERVAL_SECONDS} s.
         */
        FAILED;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final String instanceName;
    private final Set<CallbackType<?, ?, ?>> callbacks;
    private final AuditRecords records;
    private final WebhookDelivery delivery;
    private final BlockingQueue<Written> queue;
    /** The bytes of the records in {@link #queue}, bounded by {@link #queueMaxBytes}. */
    private final AtomicLong queuedBytes = new AtomicLong();
    private final long queueMaxBytes;
    private final int senderCount;
    private final Duration shutdownGrace;
    private final List<Thread> senders = new ArrayList<>();
    // This instance's counts, for its final log line, which must not depend on what registry there is.
    private final AtomicLong delivered = new AtomicLong();
    private final Map<DropReason, AtomicLong> dropped = new EnumMap<>(DropReason.class);
    // The counts of the instance name, which an instance rebuilt under it by a reload goes on adding
    // to, while this one, closing, still delivers or drops what it had queued.
    private final Counter deliveredTotal;
    private final Map<DropReason, Counter> droppedTotal = new EnumMap<>(DropReason.class);
    private final AtomicBoolean closing = new AtomicBoolean();
    /**
     * Records handed on to the successor as this one closed, and those of them whose delivery was cut
     * short; and records the successor dropped as it took them, its queue full (counted there).
     */
    private final AtomicLong handedOn = new AtomicLong();
    private final AtomicLong handedOnToAFullQueue = new AtomicLong();
    private final AtomicLong handedOnInFlight = new AtomicLong();
    /** Records handed on as this one closed because its settings could not deliver them (refused, out of attempts). */
    private final AtomicLong handedOnUndelivered = new AtomicLong();
    /**
     * The instance a reload built to replace this one, which takes over the records still queued when
     * this one closes; the latest, when refused reloads built others before it. Strong: once the one
     * in the middle of two quick reloads has closed, only this link leads to the one serving now. It
     * keeps no more than a chain of the reloads within one grace: the links only point forward, so an
     * instance that finished closing, and nobody holds, goes with the ones it led to.
     */
    private volatile AuditWebhook successor;
    /** Records dropped while the queue refuses them, so that a flood of drops logs one line, not one per record. */
    private final Outage queueFull = new Outage(log);
    private final RepeatedWarnings warnings = new RepeatedWarnings();
    private final int queueCapacity;

    private AuditWebhook(String instanceName, Set<CallbackType<?, ?, ?>> callbacks, AuditRecords records,
                         WebhookDelivery delivery, AuditWebhookConfig config, MeterRegistry registry,
                         Consumer<MeterBinder> meters) {
        this.instanceName = instanceName;
        this.callbacks = Set.copyOf(callbacks);
        this.records = records;
        this.delivery = delivery;
        // Linked, not an array: the capacity bounds the records waiting and takes no memory before they do.
        this.queue = new LinkedBlockingQueue<>(config.queueCapacity());
        this.queueCapacity = config.queueCapacity();
        this.queueMaxBytes = config.queueMaxSize().toBytes();
        this.senderCount = config.senders();
        this.shutdownGrace = config.shutdownGrace();
        this.deliveredTotal = Counter.builder("policy.module.audit.delivered")
                .description("Audit records the webhook accepted")
                .tag("module", instanceName)
                .register(registry);
        for (DropReason reason : DropReason.values()) { // every drop reason is a series from the start
            dropped.put(reason, new AtomicLong());
            droppedTotal.put(reason, Counter.builder("policy.module.audit.dropped")
                    .description("Audit records that were not delivered, by reason")
                    .tag("module", instanceName)
                    .tag("reason", reason.tag())
                    .register(registry));
        }
        meters.accept(this::bindMeters);
    }

    /** The meter that reads this instance's queue. */
    private void bindMeters(MeterRegistry registry) {
        Gauge.builder("policy.module.audit.queued", queue, BlockingQueue::size)
                .description("Audit records waiting for delivery")
                .tag("module", instanceName)
                .register(registry);
        Gauge.builder("policy.module.audit.queued.bytes", queuedBytes, AtomicLong::get)
                .description("The bytes of the audit records waiting for delivery, as they will be sent")
                .tag("module", instanceName)
                .baseUnit("bytes")
                .register(registry);
    }

    /** Builds the instance and starts its senders. */
    static AuditWebhook start(String instanceName, Set<CallbackType<?, ?, ?>> callbacks, AuditRecords records,
                              WebhookDelivery delivery, AuditWebhookConfig config, MeterRegistry registry,
                              Consumer<MeterBinder> meters) {
        AuditWebhook webhook = new AuditWebhook(instanceName, callbacks, records, delivery, config, registry, meters);
        for (int i = 0; i < webhook.senderCount; i++) {
            webhook.senders.add(Thread.ofVirtual().name("audit-webhook-" + instanceName + "-" + i).start(webhook::send));
        }
        log.info("audit webhook '{}' reports {} to {} ({} sender(s), queue of {} records or {})", instanceName,
                callbacks.stream().map(CallbackType::name).toList(), config.endpoint(), config.senders(), config.queueCapacity(),
                ConfigValues.format(config.queueMaxSize()));
        return webhook;
    }

    @Override
    public <M> Optional<M> implementation(CallbackType<M, ?, ?> callback) {
        return callbacks.contains(callback) ? Optional.of(notifier(callback)) : Optional.empty();
    }

    @SuppressWarnings("unchecked") // only notification callbacks are configured: their result type is RunAll.Completed
    private <M, A, R> M notifier(CallbackType<M, A, R> callback) {
        R delivered = (R) RunAll.DELIVERED;
        return callback.fromFunction(args -> {
            Written record;
            try {
                record = records.write(callback, args);
            } catch (RuntimeException | Error bug) {
                // a bug, or the heap running out on a huge record: counted, never the caller's failure
                couldNotSend(callback.name(), bug);
                return delivered;
            }
            if (offer(record) == Offered.CLOSING) {
                drop(DropReason.SHUTDOWN);
            }
            return delivered;
        });
    }

    /** Never blocks: the record is written and queued, or dropped and counted. */
    @Override
    public boolean mayBlock() {
        return false;
    }

    /** What {@link #offer} did with a record. */
    private enum Offered {
        QUEUED,
        /** dropped as {@code queue_full}, and counted */
        DROPPED,
        /** neither, as this instance is closing: the caller counts it dropped, or hands it further on */
        CLOSING
    }

    /** Queues the record, or drops it as {@code queue_full} and counts it, unless this instance is closing. */
    private Offered offer(Written record) {
        if (closing.get()) {
            return Offered.CLOSING;
        }
        if (reserve(record) && enqueue(record)) {
            // close() may have begun, and drained the queue, between the check above and the offer:
            // take the record back rather than leave it in a queue nobody reads.
            if (closing.get() && queue.remove(record)) {
                release(record);
                return Offered.CLOSING;
            }
            if (queueFull.failing() && drainedToHalf(record)) {
                queueFull.worksAgain("audit webhook '{}': queue accepts records again after dropping {}", instanceName);
            }
            return Offered.QUEUED;
        }
        drop(DropReason.QUEUE_FULL);
        Outage.Failure failure = queueFull.failed();
        if (failure.news()) {
            failure.loud("audit webhook '{}': queue full ({} of {}, {} of {}); dropping new records until it drains",
                    instanceName, queue.size(), queueCapacity == 1 ? "1 record" : queueCapacity + " records",
                    ConfigValues.format(DataSize.ofBytes(queuedBytes.get())), ConfigValues.format(DataSize.ofBytes(queueMaxBytes)));
        }
        return Offered.DROPPED;
    }

    /**
     * Whether the queue, the record just offered aside (or a queue of one would never say it), is down to
     * half of both its bounds, records and bytes, before it is said to accept again: a queue kept full by
     * a steady overload takes one record each time a sender frees a place, or its bytes, and would log a
     * pair of lines for each.
     */
    private boolean drainedToHalf(Written offered) {
        return queue.size() - 1 <= queueCapacity / 2 && queuedBytes.get() - offered.body().length <= queueMaxBytes / 2;
    }

    /**
     * Counts the record's bytes in the queue's, unless they would pass {@code queue-max-size}; a record
     * larger than the bound alone is taken into an empty queue, or it could never be sent.
     */
    private boolean reserve(Written record) {
        long size = record.body().length;
        long before = queuedBytes.getAndAdd(size);
        if (before > 0 && before + size > queueMaxBytes) {
            queuedBytes.addAndGet(-size);
            return false;
        }
        return true;
    }

    /**
     * Puts a record whose bytes are {@linkplain #reserve reserved} into the queue; when the queue is
     * full by {@code queue-capacity}, gives the bytes back, or every record it drops would keep its
     * bytes counted for good, until the count passed {@code queue-max-size} and every record was
     * dropped as {@code queue_full}, into an empty queue, until a restart.
     */
    private boolean enqueue(Written record) {
        if (queue.offer(record)) {
            return true;
        }
        release(record);
        return false;
    }

    /** Takes a record that left the queue (or never entered it) out of the queue's bytes. */
    private void release(Written record) {
        queuedBytes.addAndGet(-record.body().length);
    }

    /** Counts a record that could not be written or sent, with one WARN line (and its stack trace) a while. */
    private void couldNotSend(String callback, Throwable bug) {
        drop(DropReason.FAILED);
        RepeatedWarnings.Line line = warnings.line(log, COULD_NOT_SEND);
        line.event().setCause(bug).log(line.withOmitted("audit webhook '{}': could not send a {} record"), instanceName, callback);
    }

    private void drop(DropReason reason) {
        dropped.get(reason).incrementAndGet();
        droppedTotal.get(reason).increment();
    }

    /** A sender: takes records until shutdown has emptied the queue, or interrupts it. */
    private void send() {
        while (true) {
            Written record;
            try {
                record = queue.poll(IDLE_POLL.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException stopped) {
                return; // the grace period is over; close() counts what is left in the queue
            }
            if (record == null) {
                if (closing.get()) {
                    return;
                }
                continue;
            }
            release(record);
            if (!deliver(record)) {
                return;
            }
        }
    }

    /** Delivers one record and accounts for it; false when shutdown interrupted the delivery. */
    private boolean deliver(Written record) {
        Result result;
        try {
            result = delivery.deliver(record);
        } catch (RuntimeException | Error bug) {
            // Expected failures are results; an exception here is a bug, or the heap running out. Count the
            // record and keep the sender alive: a sender that ended would leave the queue to fill, and every
            // later record to be dropped as queue_full, until a restart.
            couldNotSend(record.callback(), bug);
            return true;
        }
        boolean undelivered = result instanceof Result.Rejected || result instanceof Result.Exhausted;
        if (undelivered && handedOnForItsSettings(record)) {
            return true;
        }
        switch (result) {
            case Result.Delivered ok -> {
                delivered.incrementAndGet();
                deliveredTotal.increment();
            }
            case Result.Rejected rejected -> {
                drop(DropReason.REJECTED);
                warnDropped("webhook refused " + record.callback() + " record " + record.id() + " (" + rejected.cause()
                        + "); dropped, not retried");
            }
            case Result.Exhausted exhausted -> {
                drop(DropReason.ATTEMPTS_EXHAUSTED);
                warnDropped(record.callback() + " record " + record.id() + " dropped after " + exhausted.attempts()
                        + (exhausted.attempts() == 1 ? " attempt (" : " attempts (") + exhausted.cause() + ")");
            }
            case Result.Interrupted interrupted -> {
                handOnOrDrop(List.of(record), true);
                return false;
            }
        }
        return true;
    }

    private void warnDropped(String what) {
        RepeatedWarnings.Line line = warnings.line(log, DROPPED);
        line.event().log(line.withOmitted("audit webhook '{}': {}"), instanceName, what);
    }

    /** Makes {@code next}, built by a reload to serve in this one's place, the taker of this one's queue. */
    void handOnTo(AuditWebhook next) {
        successor = next;
    }

    /**
     * The instance serving in this one's place: its successor, or that one's when it closes too (two
     * reloads within a grace); null when none serves (a refused reload's, or the gateway stopping).
     */
    private AuditWebhook serving() {
        AuditWebhook next = successor;
        while (next != null && next.closing.get()) {
            next = next.successor;
        }
        return next;
    }

    /**
     * Stops accepting records, lets the senders deliver what is queued for up to
     * {@code shutdown-grace}, then stops them. What is still queued then, and the deliveries the stop
     * cuts short (and, meanwhile, those its settings fail, see {@link #handedOnForItsSettings}),
     * go on to the instance a reload replaced this one with, if one serves; otherwise
     * (shutdown, the entry removed) they are dropped (see {@link #handOnOrDrop}). Interrupted (the
     * gateway's time to stop ran out), it stops waiting at once, but still waits for the aborted
     * deliveries to be handed on or counted, and logs; the interrupt is kept, so that the modules
     * closing after it on this thread stop at once too.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        Map<DropReason, Long> dropsBefore = new EnumMap<>(DropReason.class);
        dropped.forEach((reason, count) -> dropsBefore.put(reason, count.get()));
        long deadline = System.nanoTime() + shutdownGrace.toNanos();
        boolean cutShort = Thread.interrupted();
        for (Thread sender : senders) {
            cutShort = cutShort || !joinUntil(sender, deadline);
        }
        List<Written> queued = new ArrayList<>();
        queue.drainTo(queued); // before the senders stop: none takes another record
        queued.forEach(this::release);
        handOnOrDrop(queued, false);
        if (senders.stream().anyMatch(Thread::isAlive)) {
            senders.forEach(Thread::interrupt); // a delivery cut short is handed on, or dropped, by its sender
            long stopDeadline = System.nanoTime() + STOP_WAIT.toNanos();
            for (Thread sender : senders) {
                cutShort = !joinUntil(sender, stopDeadline) || cutShort;
            }
        }
        List<Written> left = new ArrayList<>();
        queue.drainTo(left);
        left.forEach(record -> {
            release(record);
            drop(DropReason.SHUTDOWN);
        });
        delivery.close();
        if (handedOn.get() > 0) {
            log.info("audit webhook '{}' handed {} record(s) on to the instance that replaced it ({} of them cut short "
                    + "in flight, which the webhook may receive twice, with the same id; {} refused or out of attempts with "
                    + "its own settings)", instanceName, handedOn.get(), handedOnInFlight.get(), handedOnUndelivered.get());
        }

        // What the closing dropped: at the end of the grace, and while it delivered (refused, out of attempts); and
        // what it handed on to a successor whose queue was full.
        List<String> lost = new ArrayList<>();
        if (handedOnToAFullQueue.get() > 0) {
            lost.add(handedOnToAFullQueue.get() + " records handed on to the instance that replaced it, whose queue was full"
                    + " (counted there as queue_full)");
        }
        long undelivered = count(DropReason.SHUTDOWN) - dropsBefore.get(DropReason.SHUTDOWN);
        if (undelivered > 0) {
            lost.add(undelivered + " records still queued or in flight " + (cutShort ? "when the gateway's time to stop ran out"
                    : "after the shutdown grace of " + ConfigValues.format(shutdownGrace)));
        }
        Map<DropReason, Long> sentAndLost = new EnumMap<>(DropReason.class);
        dropsBefore.forEach((reason, before) -> {
            if (reason != DropReason.SHUTDOWN && count(reason) > before) {
                sentAndLost.put(reason, count(reason) - before);
            }
        });
        if (!sentAndLost.isEmpty()) {
            lost.add(sentAndLost.values().stream().mapToLong(Long::longValue).sum() + " records it sent while it stopped "
                    + sentAndLost.entrySet().stream().map(entry -> entry.getKey().tag() + "=" + entry.getValue())
                    .collect(Collectors.joining(", ", "{", "}")));
        }
        String totals = "since start: delivered " + delivered.get() + ", dropped " + Arrays.stream(DropReason.values())
                .map(reason -> reason.tag() + "=" + count(reason))
                .collect(Collectors.joining(", ", "{", "}"));
        if (lost.isEmpty()) {
            log.info("audit webhook '{}' stopped; every queued record was delivered or handed on ({})", instanceName, totals);
        } else {
            log.warn("audit webhook '{}' stopped; {} were dropped ({})", instanceName, String.join(", and ", lost), totals);
        }
        if (cutShort) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Gives {@code records} to the instance serving in this one's place, if one does (its queue's bound
     * applies: a full one drops them as {@code queue_full}); otherwise (shutdown, the entry removed, a
     * refused reload) drops them as {@code shutdown}. A record keeps its id, whether it was sent or not.
     */
    private void handOnOrDrop(List<Written> records, boolean inFlight) {
        for (Written record : records) {
            switch (handOn(record)) {
                case CLOSING -> drop(DropReason.SHUTDOWN);
                case QUEUED -> {
                    if (inFlight) {
                        handedOnInFlight.incrementAndGet();
                    }
                }
                case DROPPED -> { // counted by the successor
                }
            }
        }
    }

    /**
     * While a reload replaces this instance, a record its settings could not deliver (refused, out of
     * attempts) goes on to the instance serving in its place, rather than be dropped: the reload may be
     * the one that fixes the webhook's token or URL, and the records queued before it would otherwise be
     * refused by the settings it replaced, every one of them, during the grace. The successor judges it
     * by its own settings, and drops it if they fail too.
     */
    private boolean handedOnForItsSettings(Written record) {
        if (!closing.get()) {
            return false;
        }
        Offered offered = handOn(record);
        if (offered == Offered.QUEUED) {
            handedOnUndelivered.incrementAndGet();
        }
        return offered != Offered.CLOSING;
    }

    /**
     * Gives the record to the instance serving in this one's place, and counts what it did: queued, or
     * dropped as its queue is full; {@link Offered#CLOSING} when none serves. One that begins to close
     * as it is given the record refuses it, and the record goes on to the one that replaced that one in
     * turn (two reloads within a grace).
     */
    private Offered handOn(Written record) {
        for (AuditWebhook next = serving(); next != null; next = next.serving()) {
            Offered offered = next.offer(record);
            if (offered != Offered.CLOSING) {
                (offered == Offered.QUEUED ? handedOn : handedOnToAFullQueue).incrementAndGet();
                return offered;
            }
        }
        return Offered.CLOSING;
    }

    private long count(DropReason reason) {
        return dropped.get(reason).get();
    }

    /** Waits for {@code thread} to end, up to the deadline; false when interrupted (the flag is then clear). */
    private static boolean joinUntil(Thread thread, long deadlineNanos) {
        long remaining = deadlineNanos - System.nanoTime();
        try {
            if (remaining > 0) {
                thread.join(Duration.ofNanos(remaining));
            }
            return true;
        } catch (InterruptedException interrupted) {
            return false;
        }
    }
}
