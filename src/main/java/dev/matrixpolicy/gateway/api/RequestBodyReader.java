package dev.matrixpolicy.gateway.api;

import dev.matrixpolicy.gateway.callbacks.JsonBody;
import dev.matrixpolicy.gateway.config.Generations;
import dev.matrixpolicy.gateway.matrix.BoundedNames;
import dev.matrixpolicy.gateway.matrix.StrictUtf8;
import dev.matrixpolicy.gateway.module.RepeatedWarnings;
import dev.matrixpolicy.gateway.replies.FailureCauses;
import dev.matrixpolicy.gateway.replies.HeapBudget;
import dev.matrixpolicy.gateway.replies.JsonTreeCost;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.Locale;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import org.springframework.util.unit.DataSize;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.core.exc.UnexpectedEndOfInputException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a request body, with a size cap that holds for chunked bodies too, and parses it as a JSON
 * object: either as a whole tree, or as a {@link JsonBody} whose lists stay bytes until read. Anything
 * else is the caller's mistake and gets a Matrix error that says what is wrong, where (the byte
 * offset) and which limit it broke, in the caller's terms: the parser's class, option and constraint
 * names mean nothing to a homeserver admin. The body's bytes are kept (at most {@code max-body-size}),
 * so that a list no module reads is never made into a tree.
 */
@Component
final class RequestBodyReader {
    private static final Logger log = LoggerFactory.getLogger(RequestBodyReader.class);
    /**
     * Jackson's advice on its own options, which are ours to choose and not the caller's, in the
     * three forms its messages use: "Non-standard token 'NaN': enable `JsonReadFeature...` to allow",
     * "exceeds the maximum allowed (500, from `StreamReadConstraints.getMaxNestingDepth()`)" and
     * "(not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)".
     */
    private static final Pattern PARSER_ADVICE = Pattern.compile(
            ": enable `[^`]*` to allow|, from `[^`]*`| ?\\((?:not recognized as one since|consider enabling)[^)]*\\)+");
    /** Whatever still names the parser's internals after that: such a message is replaced as a whole. */
    private static final Pattern PARSER_INTERNALS = Pattern.compile("`|Feature|REDACTED|jackson", Pattern.CASE_INSENSITIVE);

    /**
     * How long a request's body may take to come in all. The container's timeout holds for each read,
     * so a body dripped a byte a minute would otherwise hold its connection for good; the policy
     * server's listener must read the body before it can tell who sent it.
     */
    static final Duration BODY_DEADLINE = Duration.ofSeconds(30);

    /** The request attribute under which a body's share of a budget waits for {@link #release}. */
    private static final String HELD = RequestBodyReader.class.getName() + ".held";
    /** An escape of the same length as one of half a pair, which the parser of bytes reads in a name: backslash-u 0041. */
    private static final byte[] ORDINARY_ESCAPE = "\\u0041".getBytes(StandardCharsets.US_ASCII);
    /** The longest array a JVM makes. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * Reads one object; whatever follows it is checked here, to say where it starts. Decimals are read
     * as written, not rounded to doubles: answers echo what they were given (a ping's {@code id},
     * {@code on_create_room}'s request), and {@code 1e400} is no {@code Infinity}.
     */
    private final ObjectReader objects;
    private final JsonMapper json;
    /** {@code max-body-size} of the serving generation, so a reload changes it for the next request. */
    private final LongSupplier limit;
    private final Duration deadline;
    private final Budget budget;
    private final HalfPairNames names;

    /**
     * The policy API's reader: its callers have shown their token before a body is read, and what
     * their bodies hold, with the trees that may be built of them, shares {@link Budget#POLICY_API}.
     */
    @Autowired
    RequestBodyReader(JsonMapper json, Generations generations) {
        this(json, generations, Budget.POLICY_API);
    }

    /** @param budget what the bodies of the requests being answered may hold at once (for tests: {@link Budget#POLICY_API} otherwise) */
    RequestBodyReader(JsonMapper json, Generations generations, Budget budget) {
        this(json, () -> generations.current().properties().maxBodySize().toBytes(), BODY_DEADLINE, budget, HalfPairNames.READ);
    }

    RequestBodyReader(JsonMapper json, DataSize limit) {
        this(json, limit::toBytes, BODY_DEADLINE, Budget.NONE, HalfPairNames.READ);
    }

    /** A reader for callers not known before their body is read: at most {@code budget} bytes of bodies in memory at once. */
    RequestBodyReader(JsonMapper json, DataSize limit, Budget budget, HalfPairNames names) {
        this(json, limit::toBytes, BODY_DEADLINE, budget, names);
    }

    /** @param deadline how long a body may take to come in all (for tests: {@link #BODY_DEADLINE} otherwise) */
    RequestBodyReader(JsonMapper json, DataSize limit, Duration deadline) {
        this(json, limit::toBytes, deadline, Budget.NONE, HalfPairNames.READ);
    }

    private RequestBodyReader(JsonMapper json, LongSupplier limit, Duration deadline, Budget budget, HalfPairNames names) {
        // names kept for a mebibyte of bodies: an event's names are anyone's to choose, and Jackson's factory keeps them all
        this.json = BoundedNames.mapperLike(json).enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();
        this.objects = this.json.readerFor(ObjectNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.limit = limit;
        this.deadline = deadline;
        this.budget = budget;
        this.names = names;
    }

    /**
     * What a reader makes of a name holding half a surrogate pair (a lone backslash-u
     * escape, d800 to dfff). Python's JSON reads one, and so Synapse does, from a client's state
     * event content or account data, and asks about it; Jackson's parser of bytes refuses it, on
     * purpose (it keeps names as UTF-8, which half a pair has no form in), while it reads the same
     * escape in a string. Its parser of characters reads both.
     */
    enum HalfPairNames {
        /**
         * Read as Synapse reads it, a string holding that half of a pair, as in a string value: a body
         * the parser of bytes refuses for such a name is read again, whole, as characters. Only such a body
         * pays for that; answers write the half as the escape it came as.
         */
        READ,
        /** Not JSON, as the parser of bytes has it. */
        REFUSED
    }

    /**
     * How many bytes the bodies that one listener is reading may hold at once. A client that sends
     * most of a body and then waits holds that much until {@link #BODY_DEADLINE}; where anyone may
     * connect (the policy server's federation listener), a few hundred such clients would otherwise
     * run the heap out, and every request with it. The bytes are taken as they come, not as a
     * {@code Content-Length} announces them, so clients that announce bodies and send nothing hold
     * none of it. Past the budget a body is refused with 503, and read no further.
     *
     * <p>A budget {@linkplain #untilAnswered() held until the answer} counts a body until the caller
     * {@linkplain #release releases} it, not just while it comes in: where a request may wait before
     * it is answered (the policy server, for the asking server's keys), the bodies waiting are what
     * fills the heap.
     */
    static final class Budget {
        /** No budget: for callers authenticated before their body is read. */
        static final Budget NONE = new Budget(HeapBudget.NONE, false, false);

        /**
         * The policy API's: 1/{@value #POLICY_API_SHARE} of the heap (37.7 MiB of the 301.6 MiB
         * the image's JVM reports in its default 512 MiB container) for its bodies, the trees that
         * may be built of them and the copies of their arguments that a forwarding module sends,
         * {@linkplain #withTrees(long) estimated} at once and held until each request is answered.
         * Measured with the image's flags, what a request's body makes is inside its charge: a room's
         * state of 1 MB holds 6.9 MB (body 1.0, its list's tree and typed events 5.0, the http module's
         * copy 0.9) and is charged 9.1; a 64 KB event of {@code [{},{},...]} 2.7 MB, charged 6.5; a
         * realistic event of 2 KB 10.9 KB, charged 15.1. Each request in flight holds some 127 KB
         * besides, whatever its body (Tomcat's buffers, its thread's stack, the connection a module
         * forwards it on), which this share does not count: charged here, 500 realistic events would take 69 MiB,
         * past the share; {@link RequestsInFlight} bounds them instead, at a quarter of the heap. Why an eighth is safe: the old generation, where what requests
         * hold across a collection ends up, is about 244 MiB with the image's flags; the gateway's own live heap is
         * about 55 MB, module backends' replies may hold a third of the heap (100.5 MiB), the policy
         * server's bodies a sixteenth (18.9 MiB) and the management port's a thirty-second (9.4 MiB),
         * which leaves some 60 MiB: an eighth takes 37.7 of it, and some 22 MiB stay for everything
         * else (the requests' threads, Tomcat's objects for each, what a module makes while it
         * answers), so that all the budgets full at once still fit (more than 100 requests in flight take
         * from their own bound's quarter, which fits beside this share but not beside replies at their full
         * third as well). Ordinary load stays inside it: a
         * realistic event of 2 KB is charged 15.1 KB here, 500 at once 7.2 MiB; a room's state of 1 MB
         * in realistic membership events 9.1 MB, four of them at once (fifty such trees, built, would
         * take 250 MB: no share could let them all in). A 64 KB event of {@code [{},{},...]}, which any
         * remote user can send, is charged 6.5 MB (its tree takes 2 MB; the estimate is safe for every
         * shape, not exact), or 7.7 MB charged unread, so a flood of them is refused after five (the
         * first two charged unread) rather than run the heap out.
         * Past it a request is refused 503 {@code M_LIMIT_EXCEEDED}, which our Synapse module answers
         * by its configured failure policy. Not a setting: size the heap, and the share follows.
         */
        static final int POLICY_API_SHARE = 8;
        static final Budget POLICY_API = ofHeapWithTrees(POLICY_API_SHARE);

        private final HeapBudget heap;
        private final boolean untilAnswered;
        private final boolean trees;
        /** One WARN line a {@value RepeatedWarnings#INTERVAL_SECONDS} s of refusals, so admins see them without a line a request. */
        private final RepeatedWarnings refusals = new RepeatedWarnings();

        Budget(long bytes, boolean untilAnswered) {
            this(new HeapBudget(bytes), untilAnswered, false);
        }

        private Budget(HeapBudget heap, boolean untilAnswered, boolean trees) {
            this.heap = heap;
            this.untilAnswered = untilAnswered;
            this.trees = trees;
        }

        /** A share of the heap, {@code 1 / divisor} of its maximum size, for bodies while they come in. */
        static Budget ofHeap(int divisor) {
            return new Budget(HeapBudget.ofHeap(divisor), false, false);
        }

        /**
         * The same share, for bodies until their requests are answered, and for a tree built of one
         * with {@link #parseObject(HttpServletRequest, byte[])}, as estimated, from when it is built.
         */
        static Budget ofHeapUntilAnswered(int divisor) {
            return new Budget(HeapBudget.ofHeap(divisor), true, false);
        }

        /** A share of the heap for bodies and their trees until their requests are answered: see {@link #withTrees(long)}. */
        static Budget ofHeapWithTrees(int divisor) {
            return new Budget(HeapBudget.ofHeap(divisor), true, true);
        }

        /**
         * {@code bytes} for bodies and the trees that may be built of them, until their requests are
         * answered: each body is counted as it comes, then, once it is whole, with the copy of its
         * arguments that a forwarding module sends (at the body's length) and what its tree and
         * the parsing of it may take: the most any body of its length can ({@link JsonTreeCost#atMost},
         * no reading) while that leaves half the budget free, or else its own estimate ({@link JsonTreeCost#of},
         * a pass over it, before anything is built). Under light load no body is read twice; the bodies
         * charged unread, sixteen times a realistic event's estimate, never hold more than half the budget,
         * so the other half always goes by estimates (with all of it charged unread, 152 realistic events
         * of 2.2 KB would fill the default share, where its estimates let in thousands).
         * For a listener whose bodies' trees are built lazily, at any time before the answer (the
         * policy API's {@link JsonBody}: by a module, a forwarding, the decision log).
         */
        static Budget withTrees(long bytes) {
            return new Budget(new HeapBudget(bytes), true, true);
        }

        boolean untilAnswered() {
            return untilAnswered;
        }

        /**
         * The answer to a body past the budget, 503: {@code M_LIMIT_EXCEEDED} for the policy API's
         * ({@link MatrixApiException#overloaded}), which our Synapse module must tell from a module's
         * fail-closed 503; {@code M_UNKNOWN} for the others', whose callers read no errcode of it.
         */
        MatrixApiException refusal() {
            if (!trees) {
                return MatrixApiException.busy("Too many request bodies are being " + (untilAnswered ? "answered" : "read")
                        + " at once; try again shortly");
            }
            RepeatedWarnings.Line line = refusals.line(log, this);
            line.event().log(line.withOmitted(String.format(Locale.ROOT, "Policy API request refused, 503 M_LIMIT_EXCEEDED: the"
                    + " requests being answered hold their share of the heap for bodies and their trees, %s; our Synapse"
                    + " module answers the callback by its on_failure. Under ordinary load the heap is too small for it", heap.size())));
            return MatrixApiException.overloaded(heap.size());
        }

        /**
         * Registers {@code <name>} (what the bodies hold now, {@code what} they are) and {@code <name>.max}
         * (the most they may, and {@code past} it what happens) as gauges in bytes.
         */
        void bindTo(MeterRegistry registry, String name, String what, String past) {
            Gauge.builder(name, this, Budget::held).baseUnit("bytes").description("What " + what + " hold of the heap").register(registry);
            Gauge.builder(name + ".max", this, Budget::bytes).baseUnit("bytes")
                    .description("The share of the heap they may hold at once; past it " + past).register(registry);
        }

        /** What the bodies hold of this budget now, in bytes. */
        long held() {
            return heap.held();
        }

        /** The most they may hold at once. */
        long bytes() {
            return heap.bytes();
        }
    }

    /** The largest body read now, in bytes: {@code max-body-size}, for the discovery document to announce. */
    long limit() {
        return limit.getAsLong();
    }

    /** The body as one tree. */
    ObjectNode readObject(HttpServletRequest request) {
        return parseObject(read(request));
    }

    /** A body {@linkplain #read read} before as one tree: 400 unless it is a JSON object in UTF-8. */
    ObjectNode parseObject(byte[] bytes) {
        return parse(bytes, objects::readValue);
    }

    /**
     * {@code request}'s body, {@linkplain #read read} before, as one tree, which its share of a budget
     * {@linkplain Budget#untilAnswered() held until the answer} takes first, as {@link JsonTreeCost#of}
     * estimates it (a pass over the bytes), when the budget did not take it with the body: for a caller
     * that builds the tree only once the request may be judged (the policy server, once the asking
     * server's keys are in hand), and then holds it until the answer, waiting on other servers' keys and
     * on the chain. 503 when the budget has no room for it, building nothing.
     */
    ObjectNode parseObject(HttpServletRequest request, byte[] bytes) {
        if (!budget.trees && request.getAttribute(HELD) instanceof HeapBudget.Share held) {
            JsonTreeCost tree = JsonTreeCost.of(bytes);
            if (!held.take(tree.tree() + tree.decoding())) {
                throw budget.refusal();
            }
        }
        return parseObject(bytes);
    }

    /**
     * Refuses, as {@link #parseObject} would, a body that is not one JSON object, building nothing:
     * for a caller that must answer a malformed body 400 before it may build the tree.
     */
    void checkObject(byte[] bytes) {
        parse(bytes, parser -> {
            JsonBody.skipChildren(parser); // a decimal the tree could not hold is refused here too
            return bytes;
        });
    }

    /** The body with its lists kept as bytes, for {@link dev.matrixpolicy.gateway.callbacks.JsonArgs} to read when asked. */
    JsonBody readBody(HttpServletRequest request) {
        byte[] bytes = read(request);
        return parse(bytes, parser -> JsonBody.read(json, bytes, parser), (text, parser) -> JsonBody.read(json, text, parser));
    }

    /** The body's bytes, up to {@code max-body-size}: 413 beyond it, 400 for one cut short. */
    byte[] read(HttpServletRequest request) {
        if (isEncoded(request)) {
            // nothing here decompresses: read as it is, a gzip body would be refused for its zero bytes as "UTF-16"
            throw MatrixApiException.notJson("Content not JSON: a body with a Content-Encoding (compressed) is not read here: send the JSON as it is");
        }
        long limit = this.limit.getAsLong();
        long declared = request.getContentLengthLong();
        if (declared > limit) {
            throw MatrixApiException.tooLarge(limit);
        }
        // A declared length is enforced by the container, and read into an array of that size at once
        // (reading to the end would take a 16 KiB buffer per request, then a copy); a chunked body is
        // counted here.
        boolean sized = declared >= 0 && declared <= MAX_ARRAY;
        HeapBudget.Share budgeted = budget == Budget.NONE ? null : budget.heap.share();
        boolean heldUntilAnswered = false;
        try (InputStream timed = new Deadlined(request.getInputStream(), deadline);
             InputStream counted = budgeted == null ? timed : budgeted.counting(timed, budget::refusal);
             InputStream body = declared >= 0 ? counted : new Counting(counted, capped(limit))) {
            byte[] bytes = sized ? body.readNBytes((int) declared) : body.readAllBytes();
            if (sized && bytes.length < declared) {
                throw cutForRoom(request) ? MatrixApiException.cutForRoom() : MatrixApiException.bodyEndedEarly();
            }
            if (budgeted != null && budget.trees) {
                // Besides its tree, the request holds until its answer the copy of its arguments that a forwarding
                // module sends (the http module's: 0.94 to 1.0 times the body's length, measured), charged here, at
                // the body's length: it is made on the chain's own thread, where a module with a deadline may still
                // run once the request is answered, and past the point where the request could be refused 503.
                long copy = bytes.length;
                if (!budgeted.takeLeaving(copy + JsonTreeCost.atMost(bytes.length), budget.bytes() / 2)) {
                    // past half the budget: the body's own estimate, a pass over it (10 µs for 14 KB). Bodies charged
                    // unread (117 bytes a byte, sixteen times a realistic event's estimate) hold half of it at most,
                    // so that those charged their estimate always have the other half
                    JsonTreeCost tree = JsonTreeCost.of(bytes);
                    if (!budgeted.take(copy + tree.tree() + tree.decoding())) {
                        throw budget.refusal();
                    }
                }
            }
            if (budgeted != null && budget.untilAnswered()) {
                request.setAttribute(HELD, budgeted);
                heldUntilAnswered = true;
            }
            return bytes;
        } catch (IOException unreadable) {
            // no byte within server.tomcat.connection-timeout: Tomcat answers 408 itself, and the body
            // was not malformed, only not sent, which the policy server's metric must not count as not_json
            if (FailureCauses.include(unreadable, SocketTimeoutException.class)) {
                throw MatrixApiException.stalled();
            }
            // A body cut short of its declared length, or a broken chunked encoding: Tomcat answers 400 itself, with the
            // same error as this (JsonErrorReportValve), which the policy server's metric counts by its errcode
            throw cutForRoom(request) ? MatrixApiException.cutForRoom() : MatrixApiException.unreadBody(unreadable);
        } finally {
            if (budgeted != null && !heldUntilAnswered) {
                budgeted.giveBack();
            }
        }
    }

    /** Whether any {@code Content-Encoding} header, of however many, names a coding other than {@code identity}. */
    private static boolean isEncoded(HttpServletRequest request) {
        for (String header : Collections.list(request.getHeaders("Content-Encoding"))) {
            for (String coding : header.split(",")) {
                if (!coding.isBlank() && !coding.strip().equalsIgnoreCase("identity")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Gives back what the request's body holds of a budget {@linkplain Budget#untilAnswered() held until the answer}. */
    void release(HttpServletRequest request) {
        if (request.getAttribute(HELD) instanceof HeapBudget.Share held) {
            request.removeAttribute(HELD);
            held.giveBack();
        }
    }

    /**
     * The same answer for a body that Spring MVC could not read, given the most specific cause:
     * the actuator reads an optional JSON body on every operation, GET included.
     */
    static MatrixApiException unreadable(Throwable cause) {
        return switch (cause) {
            case MismatchedInputException notAnObject when notAnObject.getPath().isEmpty() ->
                    MatrixApiException.notJson("Content not JSON object");
            case MismatchedInputException wrongType -> // JSON, of another shape than the endpoint reads
                    MatrixApiException.badJson("'" + path(wrongType) + "' is not of the type this endpoint reads");
            case StreamConstraintsException limit -> // a broken limit has no location to give
                    MatrixApiException.notJson("Content not JSON: " + inCallersTerms(limit.getOriginalMessage()));
            case JacksonException malformed when malformed.getLocation() != null ->
                    malformed(malformed, malformed.getLocation(), TokenStreamLocation::getByteOffset);
            case IOException unread -> MatrixApiException.unreadBody(unread); // what Tomcat answers it with itself
            default -> MatrixApiException.notJson("Content not JSON: the body could not be read");
        };
    }

    /** Where in the body a value of the wrong type is: {@code a.b[0]}. */
    private static String path(MismatchedInputException wrongType) {
        StringBuilder path = new StringBuilder();
        for (JacksonException.Reference step : wrongType.getPath()) {
            if (step.getPropertyName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(step.getPropertyName());
            } else {
                path.append('[').append(step.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    /** Whether the listener cut the request's body short to give its place to another ({@link BoundedHttpProtocol}). */
    private static boolean cutForRoom(HttpServletRequest request) {
        return request.getAttribute(BoundedHttpProtocol.BODY_CUT_FOR_ROOM) != null;
    }

    private static MatrixApiException emptyBody() {
        return MatrixApiException.notJson("Content not JSON: the body is empty");
    }

    /** Parses the one object {@code bytes} hold with {@code object}, which gets the parser at its start. */
    private <T> T parse(byte[] bytes, Function<JsonParser, T> object) {
        return parse(bytes, object, (text, parser) -> object.apply(parser));
    }

    /**
     * Parses the one object {@code bytes} hold with {@code object}, or, where only a parser of
     * characters reads them ({@link HalfPairNames#READ}), with {@code ofText}, which gets their text too.
     */
    private <T> T parse(byte[] bytes, Function<JsonParser, T> object, BiFunction<String, JsonParser, T> ofText) {
        requireUtf8(bytes);
        if (bytes.length == 3 && hasUtf8ByteOrderMark(bytes)) { // a mark with no byte after it, the parser takes for a character
            throw emptyBody();
        }
        try (JsonParser parser = objects.createParser(bytes)) {
            return parse(parser, object, at -> characterStart(bytes, at.getByteOffset()));
        } catch (NameOfHalfAPair readAsText) {
            int bom = hasUtf8ByteOrderMark(bytes) ? 3 : 0; // which the parser of bytes skips, and the one of characters refuses
            String text = new String(bytes, bom, bytes.length - bom, StandardCharsets.UTF_8);
            byte[] ordinary = withOrdinaryNames(bytes);
            try (JsonParser parser = objects.createParser(ordinary)) {
                parse(parser, ordinaryParser -> {
                    JsonBody.skipChildren(ordinaryParser);
                    return null;
                }, at -> characterStart(ordinary, at.getByteOffset()));
            }
            try (JsonParser parser = objects.createParser(text)) {
                return parse(parser, textParser -> ofText.apply(text, textParser),
                        at -> at.getCharOffset() < 0 ? -1 : bom + utf8Length(text, (int) at.getCharOffset()));
            }
        }
    }

    /**
     * Where the character that the byte at {@code offset} is part of starts. The parser of bytes tells a
     * token it does not know ({@code é} where a value belongs) at the last byte of its first character,
     * the parser of characters at that character, as a caller counts.
     */
    private static long characterStart(byte[] bytes, long offset) {
        long start = offset;
        while (start > 0 && start < bytes.length && offset - start < 3 && (bytes[(int) start] & 0xC0) == 0x80) {
            start--;
        }
        return start;
    }

    /**
     * The body with each escape of half a pair (backslash-u dc00, not one of a whole pair) replaced by
     * an escape of ASCII of the same length (backslash-u 0041), which the parser of bytes reads in a
     * name. What is wrong in a body read as text is told as the parser of bytes tells it of this one,
     * whose faults are at the same byte offsets: the parser of characters counts a name's length in
     * characters, not in bytes as the limit means (it would read a name of 40,000 {@code é}, 80,000
     * bytes), and tells some faults a character early ({@code 17.x} at its '.').
     */
    private static byte[] withOrdinaryNames(byte[] bytes) {
        byte[] ordinary = bytes.clone();
        for (int i = 0; i < ordinary.length - 1; i++) {
            if (ordinary[i] != '\\') {
                continue;
            }
            int unit = escapedUnit(ordinary, i);
            if (Character.isHighSurrogate((char) unit) && Character.isLowSurrogate((char) escapedUnit(ordinary, i + 6))) {
                i += 11; // a pair, which the parser of bytes reads
            } else if (Character.isSurrogate((char) unit)) {
                System.arraycopy(ORDINARY_ESCAPE, 0, ordinary, i, ORDINARY_ESCAPE.length);
                i += 5;
            } else {
                i++; // the escaped character, a backslash maybe
            }
        }
        return ordinary;
    }

    /** The UTF-16 unit of the backslash-u escape at {@code at}, or -1 when there is none. */
    private static int escapedUnit(byte[] bytes, int at) {
        if (at + 6 > bytes.length || bytes[at] != '\\' || bytes[at + 1] != 'u') {
            return -1;
        }
        int unit = 0;
        for (int k = at + 2; k < at + 6; k++) {
            int digit = Character.digit(bytes[k], 16);
            if (digit < 0) {
                return -1;
            }
            unit = unit * 16 + digit;
        }
        return unit;
    }

    /** The parser of bytes refused a name holding half a surrogate pair, which {@link HalfPairNames#READ} reads as text. */
    private static final class NameOfHalfAPair extends RuntimeException {
        NameOfHalfAPair() {
            super(null, null, false, false);
        }
    }

    /**
     * Whether the parser of bytes refused a name for half a surrogate pair in it: "Broken surrogate
     * pair in property name" and "Unexpected low surrogate in property name" (jackson-core 3.1).
     * {@code RequestBodyReaderTest} holds each form to this.
     */
    private static boolean isNameOfHalfAPair(StreamReadException refused) {
        String message = refused.getOriginalMessage();
        return message != null && message.contains("surrogate") && message.contains("in property name");
    }

    private static boolean hasUtf8ByteOrderMark(byte[] bytes) {
        return bytes.length >= 3 && bytes[0] == (byte) 0xEF && bytes[1] == (byte) 0xBB && bytes[2] == (byte) 0xBF;
    }

    /** How many bytes the first {@code chars} characters of {@code text} take in UTF-8. */
    private static long utf8Length(String text, int chars) {
        long bytes = 0;
        for (int i = 0; i < chars; i++) {
            char c = text.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3; // a pair: 2 + 2
        }
        return bytes;
    }

    /** Refuses a body that is not well-formed UTF-8, which JSON between systems must be (RFC 8259). */
    static void requireUtf8(byte[] bytes) {
        if (StrictUtf8.isUtf16Or32(bytes)) {
            throw MatrixApiException.notJson("Content not JSON: the body must be UTF-8, not UTF-16 or UTF-32");
        }
        int misencoded = StrictUtf8.firstInvalid(bytes);
        if (misencoded >= 0) {
            throw MatrixApiException.notJson("Content not JSON: invalid UTF-8, at byte offset " + misencoded);
        }
    }

    /** @param offsets where a location is in the body's bytes, for what the caller is told */
    private <T> T parse(JsonParser parser, Function<JsonParser, T> object, ToLongFunction<TokenStreamLocation> offsets) {
        try {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw emptyBody();
            }
            if (first != JsonToken.START_OBJECT) {
                throw MatrixApiException.notJson("Content not JSON object");
            }
            T parsed = object.apply(parser);
            if (parser.nextToken() != null) {
                throw notJson("unexpected data after the JSON object", offsets.applyAsLong(parser.currentTokenLocation()));
            }
            return parsed;
        } catch (UnexpectedEndOfInputException ended) {
            throw notJson("the body ends before the JSON object is complete", offsets.applyAsLong(parser.currentLocation()));
        } catch (NumberFormatException outOfRange) {
            // a decimal whose exponent no BigDecimal holds (1e99999999999): the parser reads it, the tree cannot
            throw notJson("a number out of range", offsets.applyAsLong(parser.currentLocation()));
        } catch (StreamReadException malformed) {
            if (names == HalfPairNames.READ && isNameOfHalfAPair(malformed)) {
                throw new NameOfHalfAPair();
            }
            throw malformed(malformed, parser.currentLocation(), offsets);
        } catch (StreamConstraintsException malformed) {
            throw malformed(malformed, parser.currentLocation(), offsets);
        }
    }

    /** What the parser found wrong, where: its own location, or {@code fallback} when it has no offset in the body. */
    private static MatrixApiException malformed(JacksonException malformed, TokenStreamLocation fallback,
                                                ToLongFunction<TokenStreamLocation> offsets) {
        long where = malformed.getLocation() == null ? -1 : offsets.applyAsLong(malformed.getLocation());
        return notJson(inCallersTerms(malformed.getOriginalMessage()), where >= 0 ? where : offsets.applyAsLong(fallback));
    }

    private static MatrixApiException notJson(String what, long byteOffset) {
        return MatrixApiException.notJson("Content not JSON: " + what + ", at byte offset " + byteOffset);
    }

    /** Jackson's own description of what is wrong, without its advice on parser options. */
    static String inCallersTerms(String parserMessage) {
        String described = PARSER_ADVICE.matcher(parserMessage).replaceAll("");
        return PARSER_INTERNALS.matcher(described).find() ? "invalid JSON" : described;
    }

    /** A body that must have come by a deadline: each read after it is refused, 408, which ends a drip at its next byte. */
    private static final class Deadlined extends FilterInputStream {
        private final long endsAt;
        private final Duration deadline;

        Deadlined(InputStream in, Duration deadline) {
            super(in);
            this.deadline = deadline;
            this.endsAt = System.nanoTime() + deadline.toNanos();
        }

        @Override
        public int read() throws IOException {
            inTime();
            return super.read();
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            inTime();
            return super.read(buffer, offset, length);
        }

        private void inTime() {
            if (System.nanoTime() - endsAt > 0) {
                throw MatrixApiException.tooSlow(deadline);
            }
        }
    }

    /** A stream that tells {@code counted} how many bytes each read brought, before handing them on; it may refuse them by throwing. */
    private static final class Counting extends FilterInputStream {
        private final IntConsumer counted;

        Counting(InputStream in, IntConsumer counted) {
            super(in);
            this.counted = counted;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                counted.accept(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                counted.accept(n);
            }
            return n;
        }
    }

    /** Counts a body's bytes and refuses it, 413, as soon as more than {@code limit} have come. */
    private static IntConsumer capped(long limit) {
        long[] count = {0};
        return n -> {
            count[0] += n;
            if (count[0] > limit) {
                throw MatrixApiException.tooLarge(limit);
            }
        };
    }
}
