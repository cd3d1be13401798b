package dev.matrixpolicy.gateway.support;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.servlet.context.AnnotationConfigServletWebServerApplicationContext;
import org.springframework.core.io.Resource;
import org.springframework.core.type.classreading.MetadataReader;

/**
 * The gateway's application context for tests that start many: what its component scan reads of each
 * class file (Spring keeps it in the context's {@linkplain #getResourceCache resource cache}) is kept
 * for the next one in this JVM, whose class files do not change, instead of read again each start.
 */
public final class ScannedOnceContext extends AnnotationConfigServletWebServerApplicationContext {
    private static final Map<Resource, MetadataReader> READ = new ConcurrentHashMap<>();

    /** An application of {@code sources} whose contexts are of this kind. */
    public static SpringApplicationBuilder application(Class<?>... sources) {
        return new SpringApplicationBuilder(sources).contextFactory(webApplicationType -> new ScannedOnceContext());
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> Map<Resource, T> getResourceCache(Class<T> valueType) {
        return valueType == MetadataReader.class ? (Map<Resource, T>) READ : super.getResourceCache(valueType);
    }
}
