package dev.matrixpolicy.gateway.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.w3c.dom.Document;

/** The build recipes beside the chart, read as text: pom.xml and the Dockerfile. */
final class BuildFiles {
    private static final Document POM = parsePom();

    private BuildFiles() {
    }

    /** The text at an XPath of pom.xml, stripped; empty when nothing matches. */
    static String pom(String xpath) {
        try {
            return XPathFactory.newInstance().newXPath().evaluate(xpath, POM).strip();
        } catch (Exception e) {
            throw new IllegalArgumentException(xpath, e);
        }
    }

    /** The arguments of every Dockerfile line with this instruction, e.g. "USER" or "ENV", in order. */
    static List<String> dockerfile(String instruction) {
        try {
            return Files.readAllLines(Path.of("Dockerfile")).stream().filter(line -> line.startsWith(instruction + " "))
                    .map(line -> line.substring(instruction.length() + 1).strip()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Document parsePom() {
        try {
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        } catch (Exception e) {
            throw new IllegalStateException("cannot read pom.xml", e);
        }
    }
}
