package dev.matrixpolicy.gateway.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * The WARN and ERROR lines any logger writes while a test runs, to prove that a caller's mistake
 * costs the log nothing. Register with {@code @RegisterExtension}.
 */
public final class Warnings implements BeforeEachCallback, AfterEachCallback {
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();

    @Override
    public void beforeEach(ExtensionContext context) {
        events.list.clear();
        events.start();
        root.addAppender(events);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        root.detachAppender(events);
        events.stop();
    }

    /** Each line as {@code LEVEL logger: message}. */
    public List<String> lines() {
        return List.copyOf(events.list).stream()
                .filter(event -> event.getLevel().isGreaterOrEqual(Level.WARN))
                .map(event -> event.getLevel() + " " + event.getLoggerName() + ": " + event.getFormattedMessage())
                .toList();
    }
}
