package dev.matrixpolicy.gateway.support;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.web.server.servlet.context.AnnotationConfigServletWebServerApplicationContext;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.core.io.Resource;
import org.springframework.core.type.classreading.MetadataReader;

/**
 * The gateway's application context for tests that start many: what its component scan reads of each
 * class file (Spring keeps it in the context's {@linkplain #getResourceCache resource cache}) is kept
 * for the next one in this JVM, whose class files do not change, instead of read again each start.
 * The configuration tests' {@link #runner() runners} share it too.
 */
public final class ScannedOnceContext extends AnnotationConfigServletWebServerApplicationContext {
    private static final Map<Resource, MetadataReader> READ = new ConcurrentHashMap<>();

    /** An application of {@code sources} whose contexts are of this kind. */
    public static SpringApplicationBuilder application(Class<?>... sources) {
        return new SpringApplicationBuilder(sources).contextFactory(webApplicationType -> new ScannedOnceContext());
    }

    @Override
    public <T> Map<Resource, T> getResourceCache(Class<T> valueType) {
        return readOnce(valueType, () -> super.getResourceCache(valueType));
    }

    /** The run's map for what a scan reads of class files; {@code own} for every other kind of resource. */
    @SuppressWarnings("unchecked")
    private static <T> Map<Resource, T> readOnce(Class<T> valueType, Supplier<Map<Resource, T>> own) {
        return valueType == MetadataReader.class ? (Map<Resource, T>) READ : own.get();
    }

    /**
     * An {@code ApplicationContextRunner} whose contexts (without a web server, as its own) read the
     * class files their scans find once a run too: the configuration tests start a few hundred.
     */
    public static ApplicationContextRunner runner() {
        return new ApplicationContextRunner(Plain::new);
    }

    private static final class Plain extends AnnotationConfigApplicationContext {
        @Override
        public <T> Map<Resource, T> getResourceCache(Class<T> valueType) {
            return readOnce(valueType, () -> super.getResourceCache(valueType));
        }
    }
}
