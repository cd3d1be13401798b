package dev.matrixpolicy.gateway.matrix;

import java.io.InputStream;
import java.io.Reader;
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
 * A JSON factory whose parsers share the property names they read within one document only.
 *
 * <p>Jackson's own factory keeps every name any of its parsers read in one table for as long as it
 * lives (up to about 6,000 names for bytes and 12,000 for characters, of any length the reading
 * limits allow), so that the next document's parser finds them made. The names of events are
 * chosen by anyone who can send one (a remote user through the homeserver, any peer of the policy
 * server before its signature is checked): 3,000 documents with one distinct name of 60 KB each
 * kept 343 MB of the heap after they were answered. Here each document's parser starts from a table
 * of its own, dropped with the parser: a name repeated within a document (the {@code type} of each
 * of 50 state events) is still made once, and nothing outlives the request. Bytes are still read as
 * bytes (a factory told not to keep names reads them as characters, and tells character offsets).
 */
public final class NamesPerDocument extends JsonFactory {
    private NamesPerDocument(JsonFactoryBuilder settings) {
        super(settings);
    }

    /** A factory with {@code settings}' limits and features. */
    public static NamesPerDocument of(JsonFactoryBuilder settings) {
        return new NamesPerDocument(settings);
    }

    /** A factory with the limits and features of {@code factory}. */
    public static NamesPerDocument like(TokenStreamFactory factory) {
        return factory instanceof NamesPerDocument own ? own : new NamesPerDocument(((JsonFactory) factory).rebuild());
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
    public NamesPerDocument copy() {
        return new NamesPerDocument(rebuild());
    }

    @Override
    public TokenStreamFactory snapshot() {
        return this; // immutable, as Jackson's own is
    }

    @Override
    protected JsonParser _createParser(ObjectReadContext readCtxt, IOContext ioCtxt, byte[] data, int offset, int len)
            throws JacksonException {
        _checkRangeBoundsForByteArray(data, offset, len);
        _streamReadConstraints.validateDocumentLength(len);
        return new ByteSourceJsonBootstrapper(ioCtxt, data, offset, len).constructParser(readCtxt,
                readCtxt.getStreamReadFeatures(_streamReadFeatures), readCtxt.getFormatReadFeatures(_formatReadFeatures),
                ByteQuadsCanonicalizer.createRoot(), CharsToNameCanonicalizer.createRoot(this), _factoryFeatures);
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
        return new ReaderBasedJsonParser(readCtxt, ioCtxt, readCtxt.getStreamReadFeatures(_streamReadFeatures),
                readCtxt.getFormatReadFeatures(_formatReadFeatures), null, CharsToNameCanonicalizer.createRoot(this).makeChild(),
                data, offset, offset + len, recyclable);
    }
}
