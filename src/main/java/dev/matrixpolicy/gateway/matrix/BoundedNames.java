package dev.matrixpolicy.gateway.matrix;

import java.io.InputStream;
import java.io.Reader;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.TokenStreamFactory;
import tools.jackson.core.io.IOContext;
import tools.jackson.core.json.ByteSourceJsonBootstrapper;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonFactoryBuilder;
import tools.jackson.core.json.ReaderBasedJsonParser;
import tools.jackson.core.sym.ByteQuadsCanonicalizer;
import tools.jackson.core.sym.CharsToNameCanonicalizer;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A JSON factory whose parsers keep the property names they read for about the next
 * {@value #KEPT_FOR_BYTES} bytes of documents, not for the factory's life.
 *
 * <p>Jackson's own factory keeps every name any of its parsers read in one table (up to about 6,000
 * names read from bytes and 12,000 from characters, of any length the reading limits allow), so that
 * the next document's parser finds them made. The names of events are chosen by anyone who can send
 * one (a remote user through the homeserver, any peer of the policy server before its signature is
 * checked): 3,000 documents with one distinct name of 60 KB each kept 343 MB of the heap after they
 * were answered. Here the tables are dropped for new ones once the documents parsed with them reach
 * {@value #KEPT_FOR_BYTES} bytes: no name in them is longer than those documents, and a name takes
 * at most about three times its UTF-8 length in a table, so the tables hold a few MB at most. Names
 * that every request repeats ({@code type}, {@code sender}) are made again only that often: a table
 * made for each document instead cost 8.5 KB and 2 µs a request, four times what reading a small
 * body allocates (docs/performance.md). A document read from a stream or a reader, whose length is
 * not known beforehand, gets tables of its own. Bytes are still read as bytes (a factory told not to
 * keep names reads them as characters, and tells character offsets).
 */
public final class BoundedNames extends JsonFactory {
    /** The bytes of documents parsed with one set of tables, after which the next document starts new ones. */
    static final long KEPT_FOR_BYTES = 1 << 20;

    /** The tables that new parsers take names from, and the bytes of the documents given them so far. */
    private record Tables(ByteQuadsCanonicalizer bytes, CharsToNameCanonicalizer chars, AtomicLong parsed) {
    }

    private final transient AtomicReference<Tables> tables = new AtomicReference<>(fresh(0));

    private BoundedNames(JsonFactoryBuilder settings) {
        super(settings);
    }

    /** A factory with {@code settings}' limits and features. */
    public static BoundedNames of(JsonFactoryBuilder settings) {
        return new BoundedNames(settings);
    }

    /** A factory with the limits and features of {@code factory}. */
    public static BoundedNames like(TokenStreamFactory factory) {
        return factory instanceof BoundedNames own ? own : new BoundedNames(((JsonFactory) factory).rebuild());
    }

    /**
     * A mapper builder with the settings of {@code like} that bear on reading (its factory's limits and
     * features, its mapper, deserialization and stream-reading features, its modules) and this factory.
     * Tree features are left at their defaults: a copy would fix as off those that defer, unset, to a
     * deserialization feature (decimals read as {@code BigDecimal}).
     */
    public static JsonMapper.Builder mapperLike(JsonMapper like) {
        JsonMapper.Builder builder = JsonMapper.builder(like(like.tokenStreamFactory()));
        like.registeredModules().forEach(builder::addModule);
        for (MapperFeature feature : MapperFeature.values()) {
            builder.configure(feature, like.isEnabled(feature));
        }
        for (DeserializationFeature feature : DeserializationFeature.values()) {
            builder.configure(feature, like.isEnabled(feature));
        }
        for (StreamReadFeature feature : StreamReadFeature.values()) {
            builder.configure(feature, like.isEnabled(feature));
        }
        return builder;
    }

    @Override
    public BoundedNames copy() {
        return new BoundedNames(rebuild());
    }

    @Override
    public TokenStreamFactory snapshot() {
        return this; // immutable, as Jackson's own is
    }

    /**
     * The tables for a document of {@code length} bytes: the current ones, or new ones once the
     * documents given the current ones reach {@link #KEPT_FOR_BYTES}. Two parsers that find the tables
     * full at once may each start new ones; one set is kept, the other is dropped with its document.
     */
    private Tables tablesFor(long length) {
        Tables current = tables.get();
        if (current.parsed().addAndGet(length) <= KEPT_FOR_BYTES) {
            return current;
        }
        Tables fresh = fresh(length);
        tables.compareAndSet(current, fresh);
        return fresh;
    }

    private Tables fresh(long parsed) {
        return new Tables(ByteQuadsCanonicalizer.createRoot(), CharsToNameCanonicalizer.createRoot(this), new AtomicLong(parsed));
    }

    @Override
    protected JsonParser _createParser(ObjectReadContext readCtxt, IOContext ioCtxt, byte[] data, int offset, int len)
            throws JacksonException {
        _checkRangeBoundsForByteArray(data, offset, len);
        _streamReadConstraints.validateDocumentLength(len);
        Tables names = tablesFor(len);
        return new ByteSourceJsonBootstrapper(ioCtxt, data, offset, len).constructParser(readCtxt,
                readCtxt.getStreamReadFeatures(_streamReadFeatures), readCtxt.getFormatReadFeatures(_formatReadFeatures),
                names.bytes(), names.chars(), _factoryFeatures);
    }

    @Override
    protected JsonParser _createParser(ObjectReadContext readCtxt, IOContext ioCtxt, InputStream in) throws JacksonException {
        return new ByteSourceJsonBootstrapper(ioCtxt, in).constructParser(readCtxt,
                readCtxt.getStreamReadFeatures(_streamReadFeatures), readCtxt.getFormatReadFeatures(_formatReadFeatures),
                ByteQuadsCanonicalizer.createRoot(), CharsToNameCanonicalizer.createRoot(this), _factoryFeatures);
    }

    @Override
    protected JsonParser _createParser(ObjectReadContext readCtxt, IOContext ioCtxt, Reader r) throws JacksonException {
        return new ReaderBasedJsonParser(readCtxt, ioCtxt, readCtxt.getStreamReadFeatures(_streamReadFeatures),
                readCtxt.getFormatReadFeatures(_formatReadFeatures), r, CharsToNameCanonicalizer.createRoot(this).makeChild());
    }

    @Override
    protected JsonParser _createParser(ObjectReadContext readCtxt, IOContext ioCtxt, char[] data, int offset, int len,
                                       boolean recyclable) throws JacksonException {
        _checkRangeBoundsForCharArray(data, offset, len);
        _streamReadConstraints.validateDocumentLength(len);
        // a character takes at most three bytes in UTF-8: counted so, the same bound holds
        return new ReaderBasedJsonParser(readCtxt, ioCtxt, readCtxt.getStreamReadFeatures(_streamReadFeatures),
                readCtxt.getFormatReadFeatures(_formatReadFeatures), null, tablesFor(3L * len).chars().makeChild(),
                data, offset, offset + len, recyclable);
    }
}
