package dev.matrixpolicy.gateway.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.springframework.boot.test.system.CapturedOutput;

/**
 * What a test prints on purpose (the WARN line of a failure it provokes, a failed startup's report)
 * is captured instead of printed, so a passing build reads as passing; the test proves it.
 *
 * <p>Spring Boot's {@code OutputCaptureExtension} hands out the same {@link CapturedOutput}, but it
 * copies everything through to the console. Here nothing reaches the console while the test passes.
 * When a test fails, what it captured is printed after it, so a failure keeps its details.
 *
 * <p>Two uses:
 * <ul>
 * <li>{@code @ExtendWith(ExpectedOutput.class)} and a {@code CapturedOutput} parameter: the test
 *     asserts what it expects in the output itself.
 * <li>{@code @RegisterExtension final ExpectedOutput output = ExpectedOutput.warnings("fragment", ...)}
 *     for lines a test provokes without asserting each one (a context that must fail to start logs
 *     that it cancels its refresh): every WARN or ERROR entry captured must contain one of the
 *     fragments, or the test fails and shows it. An unexpected warning still reaches the console.
 * </ul>
 * Registered on the class or in a static field, it also captures what the class prints outside its
 * tests (a Spring context starting): all of it is printed after the class if one of its tests
 * failed, and otherwise only the WARN and ERROR entries that were not expected.
 */
public final class ExpectedOutput
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {

    /**
     * The WARN line of a Spring context that fails to start, naming the failure a configuration
     * test asserts through the context.
     */
    public static final String FAILED_CONTEXT = "Exception encountered during context initialization - cancelling refresh attempt";

    /** The first line of a log entry: Boot's console pattern, its JSON formats, or Logback's default. */
    private static final Pattern ENTRY = Pattern.compile(
            "^(\\d{4}-\\d\\d-\\d\\dT\\S+\\s+[A-Z]{4,5}\\s|\\{\"@timestamp\"|\\d\\d:\\d\\d:\\d\\d\\.\\d+ \\[).*");
    private static final Pattern WARNING_ENTRY = Pattern.compile(
            "^(\\d{4}-\\d\\d-\\d\\dT\\S+\\s+(WARN|ERROR)\\s|\\{\"@timestamp\".*\"level\":\"(WARN|ERROR)\"|\\d\\d:\\d\\d:\\d\\d\\.\\d+ \\[[^]]*] (WARN|ERROR) ).*",
            Pattern.DOTALL);
    private static final Pattern WARNING_WORD = Pattern.compile("\\b(WARN|WARNING|ERROR)\\b");

    private final List<String> expectedWarnings;
    /** One per class level: a {@code @Nested} class captures inside its outer class. */
    private final Deque<Capture> classCaptures = new ArrayDeque<>();
    private Capture testCapture;
    private boolean classFailed;

    /** Captures, and leaves the assertions to the test. */
    public ExpectedOutput() {
        this(null);
    }

    private ExpectedOutput(List<String> expectedWarnings) {
        this.expectedWarnings = expectedWarnings;
    }

    /** Captures, and fails a test whose WARN or ERROR entries do not each contain one of these fragments. */
    public static ExpectedOutput warnings(String... fragments) {
        return new ExpectedOutput(List.of(fragments));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (classCaptures.isEmpty()) {
            classFailed = false;
        }
        classCaptures.push(new Capture(classCaptures.peek()));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        testCapture = new Capture(classCaptures.peek());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Capture capture = testCapture;
        testCapture = null;
        capture.close();
        boolean failed = context.getExecutionException().isPresent();
        try {
            if (!failed && expectedWarnings != null) {
                assertThat(unexpectedWarnings(capture.all(), expectedWarnings))
                        .as("WARN or ERROR entries other than the expected %s", expectedWarnings)
                        .isEmpty();
            }
        } catch (AssertionError unexpected) {
            failed = true;
            throw unexpected;
        } finally {
            if (failed) {
                classFailed = true;
                capture.replay(context.getDisplayName());
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Capture capture = classCaptures.pop();
        capture.close();
        if (classFailed || context.getExecutionException().isPresent()) {
            capture.replay(context.getDisplayName() + " (before and after its tests)");
        } else {
            // No test asserted what was printed outside the tests: a warning there is not expected.
            unexpectedWarnings(capture.all(), expectedWarnings == null ? List.of() : expectedWarnings)
                    .forEach(capture.consoleErr::println);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == CapturedOutput.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return new CapturedOutput() {
            @Override
            public String getAll() {
                return text(Capture::all);
            }

            @Override
            public String getOut() {
                return text(Capture::out);
            }

            @Override
            public String getErr() {
                return text(Capture::err);
            }

            @Override
            public String toString() {
                return getAll();
            }
        };
    }

    /** What the class printed before its tests, then what the current test printed. */
    private String text(Function<Capture, String> part) {
        Capture classCapture = classCaptures.peek();
        return (classCapture == null ? "" : part.apply(classCapture)) + (testCapture == null ? "" : part.apply(testCapture));
    }

    private static List<String> unexpectedWarnings(String output, List<String> expected) {
        List<String> entries = new ArrayList<>();
        StringBuilder entry = null;
        for (String line : output.split("\\R")) {
            if (ENTRY.matcher(line).matches() || entry == null) {
                if (entry != null) {
                    entries.add(entry.toString());
                }
                entry = new StringBuilder(line);
            } else {
                entry.append('\n').append(line);
            }
        }
        if (entry != null) {
            entries.add(entry.toString());
        }
        return entries.stream()
                .filter(text -> ENTRY.matcher(text.lines().findFirst().orElse("")).matches()
                        ? WARNING_ENTRY.matcher(text).matches()
                        : WARNING_WORD.matcher(text).find())
                .filter(text -> expected.stream().noneMatch(text::contains))
                .toList();
    }

    /** System.out and System.err replaced by buffers until closed; nested captures print to the same console. */
    private static final class Capture {
        private final PrintStream previousOut = System.out;
        private final PrintStream previousErr = System.err;
        private final PrintStream consoleOut;
        private final PrintStream consoleErr;
        private final ByteArrayOutputStream all = new ByteArrayOutputStream();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();

        Capture(Capture outer) {
            consoleOut = outer == null ? previousOut : outer.consoleOut;
            consoleErr = outer == null ? previousErr : outer.consoleErr;
            System.setOut(new PrintStream(into(out), true, Charset.defaultCharset()));
            System.setErr(new PrintStream(into(err), true, Charset.defaultCharset()));
        }

        private OutputStream into(ByteArrayOutputStream stream) {
            return new OutputStream() {
                @Override
                public void write(int b) {
                    synchronized (all) {
                        stream.write(b);
                        all.write(b);
                    }
                }

                @Override
                public void write(byte[] bytes, int offset, int length) {
                    synchronized (all) {
                        stream.write(bytes, offset, length);
                        all.write(bytes, offset, length);
                    }
                }
            };
        }

        void close() {
            System.out.flush();
            System.err.flush();
            System.setOut(previousOut);
            System.setErr(previousErr);
        }

        String all() {
            return text(all);
        }

        String out() {
            return text(out);
        }

        String err() {
            return text(err);
        }

        private String text(ByteArrayOutputStream stream) {
            synchronized (all) {
                return stream.toString(Charset.defaultCharset());
            }
        }

        void replay(String name) {
            String printed = all();
            if (!printed.isEmpty()) {
                consoleOut.flush();
                consoleErr.println("---- output of " + name + " ----");
                consoleErr.print(printed);
                consoleErr.println("---- end of output of " + name + " ----");
                consoleErr.flush();
            }
        }
    }
}
