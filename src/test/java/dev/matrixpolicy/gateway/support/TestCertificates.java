package dev.matrixpolicy.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throwaway certificate authority and a server and a client certificate it signed, made with
 * {@code openssl} (Debian's package) in a directory of the test run's: no key material is kept in
 * the repository. PEM files: {@link #caFile()}, {@link #serverCertificate()} and
 * {@link #serverKey()}, {@link #clientCertificate()} and {@link #clientKey()}.
 *
 * @param directory where the files are
 */
public record TestCertificates(Path directory) {
    private static final Path OPENSSL = Path.of("/usr/bin/openssl");
    private static final Path INSTALL_LOG = Path.of("target", "openssl-install.log");

    /**
     * Makes them in {@code directory}; the server certificate names {@code serverNames} only (such as
     * {@code IP:127.0.0.1} or {@code DNS:localhost}), valid for a day.
     */
    public static TestCertificates make(Path directory, String... serverNames) {
        DebianPackages.require("The TLS tests", List.of(OPENSSL), "openssl", INSTALL_LOG);
        TestCertificates made = new TestCertificates(directory);
        made.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=policy-gateway test CA");
        made.signed("server", "subjectAltName=" + String.join(",", serverNames) + "\nextendedKeyUsage=serverAuth\n");
        made.signed("client", "extendedKeyUsage=clientAuth\n");
        return made;
    }

    public Path caFile() {
        return directory.resolve("ca.crt");
    }

    public Path serverCertificate() {
        return directory.resolve("server.crt");
    }

    public Path serverKey() {
        return directory.resolve("server.key");
    }

    public Path clientCertificate() {
        return directory.resolve("client.crt");
    }

    public Path clientKey() {
        return directory.resolve("client.key");
    }

    private void signed(String name, String extensions) {
        try {
            Files.writeString(directory.resolve(name + ".ext"), extensions, StandardCharsets.US_ASCII);
        } catch (IOException cannotWrite) {
            throw new UncheckedIOException(cannotWrite);
        }
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
                "-out", name + ".csr", "-subj", "/CN=" + name);
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".crt", "-days", "1", "-extfile", name + ".ext");
    }

    private void openssl(String... arguments) {
        List<String> command = new ArrayList<>(List.of(OPENSSL.toString()));
        command.addAll(List.of(arguments));
        Commands.run(directory, command);
    }
}
