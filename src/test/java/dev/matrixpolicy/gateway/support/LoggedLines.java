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
 * What one logger writes while a test runs, from {@code level} up, kept for the test to read and
 * kept off the console: the lines a test provokes on purpose are its to prove. Register with
 * {@code @RegisterExtension}.
 */
public final class LoggedLines implements BeforeEachCallback, AfterEachCallback {
    private final Logger logger;
    private final Level level;
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private Level levelBefore;
    private boolean additiveBefore;

    private LoggedLines(String logger, Level level) {
        this.logger = (Logger) LoggerFactory.getLogger(logger);
        this.level = level;
    }

    /** The lines of the logger named after {@code loggerClass}, from {@code level} up. */
    public static LoggedLines of(Class<?> loggerClass, Level level) {
        return new LoggedLines(loggerClass.getName(), level);
    }

    /** The lines of the logger named {@code logger}, from {@code level} up. */
    public static LoggedLines of(String logger, Level level) {
        return new LoggedLines(logger, level);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        events.list.clear();
        events.start();
        levelBefore = logger.getLevel();
        additiveBefore = logger.isAdditive();
        logger.addAppender(events);
        logger.setLevel(level);
        logger.setAdditive(false);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        logger.detachAppender(events);
        logger.setLevel(levelBefore);
        logger.setAdditive(additiveBefore);
        events.stop();
    }

    /** The messages logged at {@code at}, in order. */
    public List<String> at(Level at) {
        return logged().stream().filter(event -> event.getLevel() == at).map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** The messages logged from the level watched up, in order. */
    public List<String> all() {
        return logged().stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    /** What was logged so far, copied while no other thread appends (Logback appends holding the appender's lock). */
    private List<ILoggingEvent> logged() {
        synchronized (events) {
            return List.copyOf(events.list);
        }
    }
}
