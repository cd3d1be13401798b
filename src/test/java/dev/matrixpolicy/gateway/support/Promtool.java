package dev.matrixpolicy.gateway.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Prometheus' {@code promtool}, from Debian's {@code prometheus} package unpacked under target/ (not
 * installed: {@link DebianPackages#unpack}), for the tests of the chart's alerting rules. Where it
 * cannot be had the test fails; it never skips.
 */
public final class Promtool {
    private static final Path HOME = Path.of("target", "promtool");
    private static final Path PROGRAM = HOME.resolve("usr/bin/promtool");
    private static final Path INSTALL_LOG = Path.of("target", "promtool-install.log");

    private Promtool() {
    }

    /**
     * Runs {@code promtool} with {@code arguments} in {@code directory} and returns what it printed.
     *
     * @throws IllegalStateException with what it printed, when it ends with another status than 0
     */
    public static String run(Path directory, String... arguments) {
        DebianPackages.unpack("The alerting rule tests", PROGRAM, "prometheus", HOME, INSTALL_LOG);
        List<String> command = new ArrayList<>(List.of(PROGRAM.toAbsolutePath().toString()));
        command.addAll(List.of(arguments));
        return Commands.run(directory, command);
    }
}
