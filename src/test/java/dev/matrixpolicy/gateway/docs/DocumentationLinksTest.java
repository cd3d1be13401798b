package dev.matrixpolicy.gateway.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.support.Markdown;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The repository's Markdown keeps its links: every relative link, in every {@code *.md} of the
 * repository, names a file or directory that exists, and its {@code #anchor}, if any, a heading of
 * that page (as GitHub writes heading anchors); and every page can be reached from the README.
 * Links to other sites are not fetched.
 */
class DocumentationLinksTest {
    private static Map<Path, Markdown> pages;

    @BeforeAll
    static void readTheRepositorysMarkdown() {
        pages = Markdown.repository().stream().collect(Collectors.toMap(Markdown::file, Function.identity()));
    }

    @Test
    void theDocumentationIsThere() {
        assertThat(pages.keySet()).contains(Path.of("README.md"), Path.of("docs/configuration.md"), Path.of("docs/synapse.md"));
    }

    @Test
    void everyRelativeLinkNamesAFileOrDirectoryOfTheRepositoryAndAHeadingOfThatPage() {
        List<String> broken = new ArrayList<>();
        for (Markdown page : pages.values()) {
            for (Markdown.Link link : page.links()) {
                problem(page, link.target()).ifPresent(problem -> broken.add(page.at(link.line()) + ": " + link.target() + ": " + problem));
            }
        }
        assertThat(broken).as("links that lead nowhere").isEmpty();
    }

    @Test
    void everyPageCanBeReachedFromTheReadme() {
        Set<Path> reached = new HashSet<>();
        Deque<Path> next = new ArrayDeque<>(List.of(Path.of("README.md")));
        while (!next.isEmpty()) {
            Path page = next.pop();
            if (!reached.add(page)) {
                continue;
            }
            pages.get(page).links().stream()
                    .map(link -> target(page, link.target()))
                    .flatMap(Optional::stream)
                    .filter(pages::containsKey)
                    .forEach(next::push);
        }
        assertThat(pages.keySet()).as("pages no link from the README leads to, directly or through other pages")
                .allMatch(reached::contains, "reached from README.md");
    }

    /** Why a link leads nowhere, or nothing when it leads somewhere. */
    private static Optional<String> problem(Markdown page, String written) {
        Optional<Path> target = target(page.file(), written);
        if (target.isEmpty()) {
            return Optional.empty(); // another site, or mail
        }
        Path file = target.get();
        if (file.startsWith("..") || !Files.exists(Markdown.ROOT.resolve(file))) {
            return Optional.of("no such file in the repository (" + file + ")");
        }
        Optional<String> anchor = Markdown.anchor(written).map(text -> URLDecoder.decode(text, StandardCharsets.UTF_8));
        if (anchor.isEmpty()) {
            return Optional.empty();
        }
        Markdown linked = pages.get(file);
        if (linked == null) {
            return anchor.get().matches("L\\d+(-L\\d+)?") ? Optional.empty() : Optional.of("an anchor into a file that is not Markdown");
        }
        return linked.headings().contains(anchor.get()) ? Optional.empty()
                : Optional.of("no heading of " + file + " has the anchor #" + anchor.get());
    }

    /** The repository path a link names, relative to the root; empty for another site. */
    private static Optional<Path> target(Path page, String written) {
        if (written.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
            return Optional.empty();
        }
        String path = written.contains("#") ? written.substring(0, written.indexOf('#')) : written;
        path = URLDecoder.decode(path.contains("?") ? path.substring(0, path.indexOf('?')) : path, StandardCharsets.UTF_8);
        if (path.isEmpty()) {
            return Optional.of(page);
        }
        Path base = path.startsWith("/") ? Path.of("") : Optional.ofNullable(page.getParent()).orElse(Path.of(""));
        return Optional.of(base.resolve(path.startsWith("/") ? path.substring(1) : path).normalize());
    }
}
